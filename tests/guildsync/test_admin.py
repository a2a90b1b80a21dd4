"""The Guild officers' admin: access, no N+1, actions through services, composition view."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from guildsync.models import AuditIssue, Player, PlayerCharacter, SyncLog
from guildsync.services import integrity_checker

pytestmark = pytest.mark.django_db

PAGES = ["player", "wowcharacter", "discorduser", "auditissue", "synclog", "guildrank", "notepattern",
         "specialization", "wowclass", "role"]


@pytest.fixture
def guild_officer(officer, client):
    client.force_login(officer("Guild officers"))
    return client


def seed(make, n: int = 12) -> None:
    for i in range(n):
        user = make.discord_user(f"user{i}")
        char = make.character(f"Char{i}", guild_rank="Member")
        make.player(f"Player{i}", discord_user=user, characters=[char, make.character(f"Alt{i}")],
                    main_character=char)
        make.character(f"Orphan{i}", addon_note=f"note {i}")
    integrity_checker.run_integrity_check()


@pytest.mark.parametrize("model", PAGES)
def test_officer_allowed_and_other_group_denied(model, officer, client):
    url = f"/admin/guildsync/{model}/"
    client.force_login(officer("Economy moderators", "moderator"))
    assert client.get(url).status_code == 403
    client.force_login(officer("Guild officers", "guildofficer"))
    assert client.get(url).status_code == 200


def test_raid_officers_see_players_to_pick_them_but_change_nothing(officer, client, make):
    """The attendance form's player picker needs the players; nothing more."""
    player = make.player("Picked")
    client.force_login(officer("Raid officers", "raider"))
    assert client.get("/admin/guildsync/player/").status_code == 200
    answer = client.get("/admin/autocomplete/", {"app_label": "raids", "model_name": "raidattendance",
                                                 "field_name": "player", "term": "Pick"})
    assert [r["text"] for r in answer.json()["results"]] == ["Picked"]
    assert client.post(f"/admin/guildsync/player/{player.pk}/change/", {"display_name": "x"}).status_code == 403
    assert client.get("/admin/guildsync/wowcharacter/").status_code == 403


@pytest.mark.parametrize("model", ["player", "wowcharacter", "discorduser", "auditissue", "synclog"])
def test_changelists_without_n_plus_1(model, make, guild_officer, django_assert_max_num_queries):
    seed(make)
    with django_assert_max_num_queries(14):
        response = guild_officer.get(f"/admin/guildsync/{model}/")
    assert response.status_code == 200


def test_character_filters_and_search(make, guild_officer):
    seed(make, 3)
    unlinked = guild_officer.get("/admin/guildsync/wowcharacter/?linked=null")
    assert b"Orphan0" in unlinked.content and b"Char0" not in unlinked.content
    found = guild_officer.get("/admin/guildsync/wowcharacter/?q=note+2")
    assert b"Orphan2" in found.content and b"Orphan1" not in found.content
    from django.utils import timezone

    make.character("Gonefishing", removed_at=timezone.now())
    left = guild_officer.get("/admin/guildsync/wowcharacter/?removed=set")
    assert b"Gonefishing" in left.content and b"Orphan0" not in left.content
    issues = guild_officer.get("/admin/guildsync/auditissue/?open=null&issue_type=orphan_wow")
    assert issues.status_code == 200 and b"Orphan0" in issues.content


def test_reference_data_edit_is_for_superusers(guild_officer, admin_client):
    assert guild_officer.get("/admin/guildsync/wowclass/1/change/").context["has_change_permission"] is False
    assert admin_client.get("/admin/guildsync/wowclass/1/change/").context["has_change_permission"] is True


def test_discord_users_read_only(make, guild_officer):
    user = make.discord_user("thrall")
    response = guild_officer.get(f"/admin/guildsync/discorduser/{user.pk}/change/")
    assert response.status_code == 200 and response.context["has_change_permission"] is False
    assert guild_officer.post(f"/admin/guildsync/discorduser/{user.pk}/change/", {"username": "x"}).status_code == 403


def test_link_selected_characters_action_with_intermediate_form(make, guild_officer):
    player = make.player("Thrall")
    chars = [make.character("Aa"), make.character("Bb")]
    ids = [str(c.pk) for c in chars]
    url = "/admin/guildsync/wowcharacter/"
    form = guild_officer.post(url, {"action": "link_to_player", ACTION_CHECKBOX_NAME: ids})
    assert form.status_code == 200 and b"Link characters" in form.content
    done = guild_officer.post(url, {"action": "link_to_player", ACTION_CHECKBOX_NAME: ids, "apply": "1",
                                    "player": player.pk}, follow=True)
    assert b"Linked 2 characters" in done.content
    assert set(PlayerCharacter.objects.values_list("link_source", flat=True)) == {"manual"}


def test_run_matching_and_integrity_actions(make, guild_officer):
    char = make.character("Thrall")
    make.discord_user("thrall")
    make.character("Lonely")
    url = "/admin/guildsync/wowcharacter/"
    done = guild_officer.post(url, {"action": "run_matching_now", ACTION_CHECKBOX_NAME: [char.pk]}, follow=True)
    assert b"Matching: 1 link," in done.content and Player.objects.count() == 1
    done = guild_officer.post(url, {"action": "run_integrity_check_now", ACTION_CHECKBOX_NAME: [char.pk]},
                              follow=True)
    assert b"Integrity check: 1 new issue," in done.content
    assert set(SyncLog.objects.values_list("source", flat=True)) == {"matching", "integrity"}


def test_resolve_and_dismiss_actions(make, guild_officer):
    make.character("A")
    make.character("B")
    integrity_checker.run_integrity_check()
    first, second = AuditIssue.objects.order_by("pk")
    url = "/admin/guildsync/auditissue/"
    guild_officer.post(url, {"action": "resolve", ACTION_CHECKBOX_NAME: [first.pk]})
    guild_officer.post(url, {"action": "dismiss", ACTION_CHECKBOX_NAME: [second.pk]})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.resolution, second.resolution) == ("resolved", "dismissed")
    assert first.resolved_by == "guild_officers"
    page = guild_officer.get(url)
    assert b'href="/admin/guildsync/wowcharacter/' in page.content


def test_roster_composition_view(make, guild_officer, officer, client):
    from guildsync.models import Specialization

    make.character("Tank", active_spec=Specialization.objects.get(blizzard_id=250),
                   wow_class=Specialization.objects.get(blizzard_id=250).wow_class)
    make.character("Heal", active_spec=Specialization.objects.get(blizzard_id=1468),
                   wow_class=Specialization.objects.get(blizzard_id=1468).wow_class)
    response = guild_officer.get("/admin/guildsync/wowcharacter/composition/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<svg" in body and "Death Knight" in body and "Evoker" in body and "Healer" in body and "Tank" in body
    client.force_login(officer("Ark officers", "ark"))
    assert client.get("/admin/guildsync/wowcharacter/composition/").status_code == 403


def test_player_inline_links_are_manual(make, guild_officer):
    char = make.character("Thrall")
    response = guild_officer.post("/admin/guildsync/player/add/", {
        "display_name": "Thrall", "is_active": "on", "notes": "",
        "character_links-TOTAL_FORMS": "1", "character_links-INITIAL_FORMS": "0",
        "character_links-MIN_NUM_FORMS": "0", "character_links-MAX_NUM_FORMS": "1000",
        "character_links-0-character": char.pk,
    })
    assert response.status_code == 302, response.context["errors"] if response.context else response
    link = PlayerCharacter.objects.get()
    assert link.link_source == "manual" and link.player.display_name == "Thrall"


def test_player_inline_removal_unlinks(make, guild_officer):
    char = make.character("Thrall")
    player = make.player("Thrall", characters=[char])
    link = PlayerCharacter.objects.get()
    response = guild_officer.post(f"/admin/guildsync/player/{player.pk}/change/", {
        "display_name": "Thrall", "is_active": "on", "notes": "",
        "character_links-TOTAL_FORMS": "1", "character_links-INITIAL_FORMS": "1",
        "character_links-MIN_NUM_FORMS": "0", "character_links-MAX_NUM_FORMS": "1000",
        "character_links-0-id": link.pk, "character_links-0-player": player.pk,
        "character_links-0-character": char.pk, "character_links-0-DELETE": "on",
    })
    assert response.status_code == 302
    assert not PlayerCharacter.objects.exists()


def test_run_buttons_need_no_selection(make, guild_officer, officer, client):
    make.character("Thrall")
    make.discord_user("thrall")
    page = guild_officer.get("/admin/guildsync/wowcharacter/")
    assert b"Run matching now</button>" in page.content and b"Run integrity check now</button>" in page.content
    assert guild_officer.get("/admin/guildsync/wowcharacter/run-matching/").status_code == 405
    done = guild_officer.post("/admin/guildsync/wowcharacter/run-matching/", follow=True)
    assert b"Matching: 1 link," in done.content and Player.objects.count() == 1
    done = guild_officer.post("/admin/guildsync/wowcharacter/run-integrity-check/", follow=True)
    assert b"Integrity check: 0 new issues" in done.content
    client.force_login(officer("Raid officers", "raider2"))
    assert client.post("/admin/guildsync/wowcharacter/run-matching/").status_code == 403
    assert SyncLog.objects.filter(source="matching").count() == 1


def test_roster_composition_without_n_plus_1(make, guild_officer, django_assert_max_num_queries):
    from guildsync.models import Specialization

    for i, spec in enumerate(Specialization.objects.select_related("wow_class")[:30]):
        make.character(f"C{i}", wow_class=spec.wow_class, active_spec=spec)
    with django_assert_max_num_queries(8):
        response = guild_officer.get("/admin/guildsync/wowcharacter/composition/")
    assert response.status_code == 200 and b"30 characters in the guild" in response.content


def _player_form(name: str, **fields) -> dict:
    data = {"display_name": name, "is_active": "on", "notes": "",
            "character_links-TOTAL_FORMS": "0", "character_links-INITIAL_FORMS": "0",
            "character_links-MIN_NUM_FORMS": "0", "character_links-MAX_NUM_FORMS": "1000"}
    data.update({k: v for k, v in fields.items() if v is not None})
    return data


def test_player_main_character_must_be_theirs(make, guild_officer):
    taken = make.character("Taken")
    make.player("Owner", characters=[taken])
    refused = guild_officer.post("/admin/guildsync/player/add/", _player_form("Thief", main_character=taken.pk))
    assert refused.status_code == 200 and "belongs to Owner" in refused.content.decode()
    assert Player.objects.count() == 1
    free = make.character("Free")
    done = guild_officer.post("/admin/guildsync/player/add/", _player_form("Newbie", main_character=free.pk))
    assert done.status_code == 302
    link = PlayerCharacter.objects.get(character=free)
    assert (link.player.display_name, link.link_source) == ("Newbie", "manual")


def test_deleting_a_player_goes_through_the_service(make, guild_officer):
    from guildsync.models import WowCharacter

    char = make.character("Thrall")
    make.discord_user("thrall")
    player = make.player("Thrall", characters=[char])
    response = guild_officer.post(f"/admin/guildsync/player/{player.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not Player.objects.exists()
    assert WowCharacter.objects.get().skip_auto_match is True
    guild_officer.post("/admin/guildsync/wowcharacter/run-matching/")
    assert not Player.objects.exists()  # the officer's decision sticks


def test_note_patterns_and_ranks_are_validated_and_saved_by_services(guild_officer):
    from guildsync.models import GuildRank, NotePattern
    from guildsync.services.common import GuildSyncError, save_settings_row

    bad = guild_officer.post("/admin/guildsync/notepattern/add/", {
        "name": "broken", "kind": "alt_of", "regex": "alt of (", "priority": 5, "is_active": "on"})
    assert bad.status_code == 200 and "Not a valid regular expression" in bad.content.decode()
    with pytest.raises(GuildSyncError, match="must capture the name"):
        save_settings_row(NotePattern(name="nogroup", kind="alt_of", regex="alt of \\w+", priority=5))
    assert not NotePattern.objects.filter(name__in=["broken", "nogroup"]).exists()
    rank = GuildRank.objects.get(name="Veteran")
    done = guild_officer.post(f"/admin/guildsync/guildrank/{rank.pk}/change/", {
        "name": "Raider", "level": rank.level, "scheduling_weight": rank.scheduling_weight,
        "role_names": "Raiders\nveterans"})
    assert done.status_code == 302, done.context["errors"] if done.context else done
    rank.refresh_from_db()
    assert (rank.name, rank.name_source) == ("Raider", GuildRank.NameSource.OFFICER)
    assert list(rank.discord_roles.values_list("role_name", flat=True)) == ["Raiders", "veterans"]
    clash = guild_officer.post(f"/admin/guildsync/guildrank/{rank.pk}/change/", {
        "name": "Raider", "level": rank.level, "scheduling_weight": rank.scheduling_weight, "role_names": "gm"})
    assert clash.status_code == 200 and "already counts as Guild Leader" in clash.content.decode()
    assert list(rank.discord_roles.values_list("role_name", flat=True)) == ["Raiders", "veterans"]


# -- addon upload page (issue 11, item 8): the same service as the API -----------------------------

def _lua_file(text: str | bytes, name: str = "GuildSync.lua"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, text if isinstance(text, bytes) else text.encode(), "text/plain")


def test_addon_upload_page_processes_a_file(guild_officer):
    from guildsync.models import WowCharacter
    from tests.guildsync.test_scheduler import addon_member, upload_text

    url = "/admin/guildsync/wowcharacter/upload-addon/"
    page = guild_officer.get(url)
    assert page.status_code == 200 and b'type="file"' in page.content
    assert b"upload-addon/" in guild_officer.get("/admin/guildsync/wowcharacter/").content
    text = upload_text([addon_member("Lonely", officer="Main: Lonely"), addon_member("Other")])
    response = guild_officer.post(url, {"file": _lua_file(text)})
    assert response.status_code == 200
    assert b"Upload processed: Success" in response.content and b"Characters created</th><td>2" in response.content
    log = SyncLog.objects.get(source="addon")
    assert log.triggered_by == "guild_officers" and f"/admin/guildsync/synclog/{log.pk}/change/".encode() in response.content
    assert WowCharacter.objects.get(character_name="Lonely").addon_officer_note == "Main: Lonely"


def test_addon_upload_page_shows_the_line_and_column_and_writes_nothing(guild_officer):
    bad = 'GuildSyncDB = {\n["formatVersion"] = 1,\n["guilds"] = {oops = }\n}\n'
    response = guild_officer.post("/admin/guildsync/wowcharacter/upload-addon/", {"file": _lua_file(bad)})
    assert response.status_code == 400
    assert b"line 3, column 22: expected a value, found &#x27;}&#x27;" in response.content
    assert b"[&quot;guilds&quot;] = {oops = }\n" + b" " * 21 + b"^" in response.content
    assert not SyncLog.objects.exists()
    other = guild_officer.post("/admin/guildsync/wowcharacter/upload-addon/", {"file": _lua_file(b"Other = {}")})
    assert other.status_code == 400 and b"not a GuildSync export" in other.content


def test_addon_upload_page_limits_are_the_apis(guild_officer, settings):
    from tests.guildsync.test_scheduler import addon_member, upload_text

    settings.ADDON_UPLOAD_MAX_MEMBERS = 1
    text = upload_text([addon_member("One", note="x" * 600), addon_member("Two", note="y" * 600)])
    response = guild_officer.post("/admin/guildsync/wowcharacter/upload-addon/", {"file": _lua_file(text)})
    assert response.status_code == 400 and b"over the 1-member limit" in response.content
    settings.ADDON_UPLOAD_MAX_BYTES = 1024
    response = guild_officer.post("/admin/guildsync/wowcharacter/upload-addon/", {"file": _lua_file(text)})
    assert response.status_code == 400 and b"1,024-byte limit" in response.content
    assert not SyncLog.objects.exists()


def test_addon_upload_page_needs_the_change_permission(officer, client, django_user_model):
    from django.contrib.auth.models import Permission

    from tests.guildsync.test_scheduler import addon_member, upload_text

    url = "/admin/guildsync/wowcharacter/upload-addon/"
    client.force_login(officer("Raid officers", "raider"))
    assert client.get(url).status_code == 403
    viewer = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_wowcharacter"))
    client.force_login(viewer)
    assert client.get(url).status_code == 403
    text = upload_text([addon_member("Lonely")])
    assert client.post(url, {"file": _lua_file(text)}).status_code == 403
    assert not SyncLog.objects.exists()
    assert b"upload-addon/" not in client.get("/admin/guildsync/wowcharacter/").content
