"""db_sync (seed Task 10): FK resolution, unknown classes, null specs, notes, removal."""

from __future__ import annotations

import pytest

from guildsync.models import GuildRank, Specialization, WowCharacter, WowClass
from guildsync.services import db_sync
from guildsync.services.common import GuildSyncError

pytestmark = pytest.mark.django_db


def roster_char(name: str, **kw) -> dict:
    record = {"character_name": name, "realm_slug": "twisting-nether", "realm_name": "Twisting Nether",
              "class_name": "Druid", "spec_name": "Balance", "rank_index": 3, "level": 80, "item_level": 610}
    record.update(kw)
    return record


def test_sync_resolves_class_id():
    db_sync.sync_blizzard_roster([roster_char("Malfurion"), roster_char("Varian", class_name=None, class_id=1,
                                                                        spec_name=None)])
    assert WowCharacter.objects.get(character_name="Malfurion").wow_class == WowClass.objects.get(name="Druid")
    assert WowCharacter.objects.get(character_name="Varian").wow_class.name == "Warrior"


def test_sync_resolves_spec_id():
    db_sync.sync_blizzard_roster([roster_char("Malfurion"), roster_char("Jaina", class_name="Mage", spec_id=64,
                                                                        spec_name=None)])
    balance = Specialization.objects.get(name="Balance", wow_class__name="Druid")
    assert WowCharacter.objects.get(character_name="Malfurion").active_spec == balance
    assert WowCharacter.objects.get(character_name="Jaina").active_spec.blizzard_id == 64


def test_sync_resolves_guild_rank_id():
    db_sync.sync_blizzard_roster([roster_char("Anduin", rank_index=0)])
    assert WowCharacter.objects.get(character_name="Anduin").guild_rank == GuildRank.objects.get(name="Guild Leader")


def test_sync_handles_unknown_class():
    stats = db_sync.sync_blizzard_roster([roster_char("Mystery", class_name="Tinker", class_id=99, spec_name="Cog")])
    char = WowCharacter.objects.get(character_name="Mystery")
    assert char.wow_class is None and char.active_spec is None
    assert stats.unknown_classes == ["Mystery-twisting-nether: Tinker"]


def test_sync_handles_null_spec():
    db_sync.sync_blizzard_roster([roster_char("Lowbie", spec_name=None, spec_id=None, level=12)])
    char = WowCharacter.objects.get(character_name="Lowbie")
    assert char.active_spec is None and char.wow_class.name == "Druid" and char.level == 12


def test_addon_sync_writes_notes(make):
    make.character("Thrall")
    stats = db_sync.sync_addon_data([{"character_name": "Thrall", "realm": "TwistingNether",
                                      "guild_note": "Discord: thrallfan", "officer_note": "alt of Garrosh",
                                      "rank_index": 1, "class_name": "Shaman", "level": 80}])
    char = WowCharacter.objects.get(character_name="Thrall")
    assert (stats.created, stats.updated) == (0, 1)
    assert char.addon_note == "Discord: thrallfan" and char.addon_officer_note == "alt of Garrosh"
    assert char.addon_last_sync and char.wow_class.name == "Shaman" and char.guild_rank.name == "Officer"


def test_addon_realm_prefers_known_api_slug(make, settings):
    settings.BLIZZARD_REALM_SLUG = ""
    make.character("Kel", realm="azjolnerub", realm_name="Azjol-Nerub")
    db_sync.sync_addon_data([{"character_name": "Kel", "realm": "AzjolNerub", "guild_note": "hi",
                              "officer_note": "", "rank_index": 3, "class_name": "Mage", "level": 80},
                             {"character_name": "Zul", "realm": "Sen'jin", "guild_note": "", "officer_note": "",
                              "rank_index": 3, "class_name": "Priest", "level": 70}])
    assert WowCharacter.objects.get(character_name="Kel").addon_note == "hi"
    assert WowCharacter.objects.filter(character_name="Zul", realm_slug="senjin").exists()
    assert WowCharacter.objects.count() == 2


def addon_record(name: str, realm: str, realm_name: str = "", note: str = "") -> dict:
    return {"character_name": name, "realm": realm, "realm_name": realm_name, "guild_note": note,
            "officer_note": "", "rank_index": 3, "class_name": "Mage", "level": 80}


@pytest.mark.parametrize("realm,realm_name", [("TwistingNether", ""), ("TwistingNether", "Twisting Nether"),
                                              ("twisting nether", ""), ("Twisting-Nether", "")])
def test_addon_realm_spellings_find_the_api_slug(make, settings, realm, realm_name):
    settings.BLIZZARD_REALM_SLUG = ""
    make.character("Shadowbane", realm="twisting-nether", realm_name="Twisting Nether")
    make.character("Other", realm="ragnaros", realm_name="Ragnaros")
    stats = db_sync.sync_addon_data([addon_record("shadowbane", realm, realm_name, note="hi")])
    assert (stats.created, stats.updated) == (0, 1)
    assert WowCharacter.objects.get(character_name="Shadowbane").addon_note == "hi"


def test_api_slug_wins_over_a_slug_an_upload_guessed(make, settings):
    """An earlier upload stored "twistingnether"; the API's "twisting-nether" is preferred."""
    settings.BLIZZARD_REALM_SLUG = ""
    make.character("Guessed", realm="twistingnether", last_api_sync=None)
    make.character("Known", realm="twisting-nether")
    db_sync.sync_addon_data([addon_record("Newcomer", "TwistingNether")])
    assert WowCharacter.objects.get(character_name="Newcomer").realm_slug == "twisting-nether"


def test_unknown_realm_slug_from_the_display_name_then_adopted_by_the_api(settings):
    settings.BLIZZARD_REALM_SLUG = ""
    db_sync.sync_addon_data([addon_record("Kal", "AzjolNerub", note="Discord: kal"),
                             addon_record("Ann", "TwistingNether", "Twisting Nether"),
                             addon_record("Bo", "TwistingNether")])
    assert dict(WowCharacter.objects.values_list("character_name", "realm_slug")) == {
        "Kal": "azjol-nerub", "Ann": "twisting-nether", "Bo": "twisting-nether"}
    # the API spells Azjol-Nerub "azjolnerub": the addon's row moves there, notes kept
    stats = db_sync.sync_blizzard_roster([roster_char("Kal", realm_slug="azjolnerub", realm_name="Azjol-Nerub"),
                                          roster_char("Ann"), roster_char("Bo")])
    assert (stats.created, stats.updated, stats.removed) == (0, 3, 0)
    kal = WowCharacter.objects.get(character_name="Kal")
    assert (kal.realm_slug, kal.addon_note, kal.removed_at) == ("azjolnerub", "Discord: kal", None)
    db_sync.sync_addon_data([addon_record("Kal", "AzjolNerub", note="again")])
    assert WowCharacter.objects.count() == 3
    assert WowCharacter.objects.get(character_name="Kal").addon_note == "again"


def test_departed_character_removed_then_restored():
    db_sync.sync_blizzard_roster([roster_char("A"), roster_char("B")])
    stats = db_sync.sync_blizzard_roster([roster_char("A")])
    assert stats.removed == 1 and WowCharacter.objects.get(character_name="B").removed_at is not None
    stats = db_sync.sync_blizzard_roster([roster_char("A"), roster_char("b")])
    assert stats.restored == 1 and WowCharacter.objects.get(character_name__iexact="b").removed_at is None
    assert WowCharacter.objects.count() == 2  # case-insensitive: the same character


def test_bad_record_writes_nothing():
    with pytest.raises(GuildSyncError):
        db_sync.sync_blizzard_roster([roster_char("Fine"), roster_char("")])
    assert not WowCharacter.objects.exists()


def test_roster_sync_is_bulk(django_assert_max_num_queries):
    chars = [roster_char(f"Char{i}") for i in range(400)]
    with django_assert_max_num_queries(15):
        db_sync.sync_blizzard_roster(chars)
    with django_assert_max_num_queries(15):
        db_sync.sync_blizzard_roster(chars)
    assert WowCharacter.objects.count() == 400


def test_resync_writes_only_what_changed(django_assert_max_num_queries):
    """The next run stamps every member synced and writes only the rows that changed, only
    their changed fields (a spec, a login, a profile): a member's officer-edited fields that
    the roster does not carry stay, and the number of statements does not grow with the guild."""
    import datetime as dt

    login = dt.datetime(2025, 10, 9, 12, 0, tzinfo=dt.UTC)
    roster = [roster_char(f"Member{i}", last_login_at=login, profile_json={"id": i, "level": 80}) for i in range(30)]
    db_sync.sync_blizzard_roster(roster)
    first = {c.character_name: c for c in WowCharacter.objects.all()}
    WowCharacter.objects.filter(character_name="Member2").update(item_level=None)  # the API's item level comes back
    roster[0].update(spec_name="Restoration", last_login_at=login + dt.timedelta(hours=3),
                     profile_json={"id": 0, "level": 80, "last_login_timestamp": 1})
    roster[1].update(level=81)
    with django_assert_max_num_queries(12) as queries:  # the same with 30 members or 1,000
        stats = db_sync.sync_blizzard_roster(roster)
    assert (stats.created, stats.updated) == (0, 30)
    writes = sorted(q["sql"].split(" WHERE ")[0] for q in queries.captured_queries
                    if 'UPDATE "guildsync_wowcharacter"' in q["sql"] and "last_api_sync" not in q["sql"])
    assert writes == [  # three members changed, each a group of its own: one row, its fields only
        '1 times: UPDATE "guildsync_wowcharacter" SET "active_spec_id" = %s, "last_login_at" = %s, '
        '"profile_json" = %s',
        '1 times: UPDATE "guildsync_wowcharacter" SET "item_level" = %s',
        '1 times: UPDATE "guildsync_wowcharacter" SET "level" = %s',
    ]
    chars = {c.character_name: c for c in WowCharacter.objects.select_related("active_spec")}
    assert all(c.last_api_sync > first[c.character_name].last_api_sync for c in chars.values())
    assert chars["Member0"].active_spec.name == "Restoration" and chars["Member0"].last_login_at == login + dt.timedelta(
        hours=3)
    assert chars["Member0"].profile_json == {"id": 0, "level": 80, "last_login_timestamp": 1}
    assert chars["Member1"].level == 81 and chars["Member2"].item_level == 610
    assert chars["Member3"].level == 80 and chars["Member3"].profile_json == {"id": 3, "level": 80}
