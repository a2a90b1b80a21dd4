"""Issue #12, defects 3 and 4: ranks keyed by the roster's index 0–9 (named by the addon or
officers, "Rank 7" until then, never none) and Discord role names per rank ("GM" counts as
the Guild Leader). Each test is named after its defect and failed before the fix."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from guildsync.models import AuditIssue, DiscordUser, GuildRank, WowCharacter
from guildsync.services import db_sync, discord_sync, ranks
from guildsync.services import integrity_checker as ic

pytestmark = pytest.mark.django_db


def roster_char(name: str, rank_index: int, **kw) -> dict:
    return {"character_name": name, "realm_slug": "twisting-nether", "realm_name": "Twisting Nether",
            "class_name": "Druid", "spec_name": "Balance", "rank_index": rank_index, "level": 80, **kw}


def addon_member(name: str, rank_index: int, rank_name: str) -> dict:
    return {"character_name": name, "realm": "TwistingNether", "rank_index": rank_index, "rank_name": rank_name,
            "guild_note": "", "officer_note": "", "class_name": "Druid", "level": 80}


def test_defect3_members_of_ranks_5_to_9_get_a_rank():
    db_sync.sync_blizzard_roster([roster_char(f"Member{i}", i) for i in range(10)])
    by_name = dict(WowCharacter.objects.values_list("character_name", "guild_rank__name"))
    assert by_name == {"Member0": "Guild Leader", "Member1": "Officer", "Member2": "Veteran", "Member3": "Member",
                       "Member4": "Initiate", "Member5": "Rank 5", "Member6": "Rank 6", "Member7": "Rank 7",
                       "Member8": "Rank 8", "Member9": "Rank 9"}
    assert not WowCharacter.objects.filter(guild_rank__isnull=True).exists()


def test_defect3_ranks_exist_even_after_someone_removed_rows():
    GuildRank.objects.filter(blizzard_rank_index__gte=7).delete()
    stats = db_sync.sync_blizzard_roster([roster_char("Newbie", 8)])
    assert WowCharacter.objects.get().guild_rank.name == "Rank 8" and not stats.unknown_ranks
    assert GuildRank.objects.count() == 10


def test_defect3_a_rank_index_beyond_9_is_reported_not_guessed():
    stats = db_sync.sync_blizzard_roster([roster_char("Odd", 12)])
    assert WowCharacter.objects.get().guild_rank is None and stats.unknown_ranks == ["Odd-twisting-nether: 12"]


def test_defect3_addon_rank_names_fill_in_the_ranks():
    officer_rank = GuildRank.objects.get(blizzard_rank_index=1)
    ranks.save_guild_rank(officer_rank.pk, name="Council", level=4, scheduling_weight=4, role_names=["Officer"])
    stats = db_sync.sync_addon_data([
        addon_member("Thrall", 0, "Warchief"), addon_member("Jaina", 1, "Officer"),
        addon_member("Kel", 7, "Raider"), addon_member("Kelalt", 7, "Raider"), addon_member("Alt", 9, "Alts"),
    ])
    names = dict(GuildRank.objects.values_list("blizzard_rank_index", "name"))
    assert names[0] == "Warchief" and names[7] == "Raider" and names[9] == "Alts"
    assert names[1] == "Council"  # an officer's name is never replaced by the addon
    assert names[5] == "Rank 5"  # nobody named it yet: still the placeholder
    assert WowCharacter.objects.get(character_name="Kel").guild_rank.name == "Raider"
    assert stats.rank_names["kept_officer_names"] == ["Council (the game calls it Officer)"]
    assert GuildRank.objects.get(blizzard_rank_index=7).name_source == GuildRank.NameSource.ADDON
    # the guild renames a rank in game: the next upload follows; swapping two names works too
    db_sync.sync_addon_data([addon_member("Kel", 7, "Alts"), addon_member("Alt", 9, "Raider")])
    names = dict(GuildRank.objects.values_list("blizzard_rank_index", "name"))
    assert (names[7], names[9]) == ("Alts", "Raider")


def test_defect3_addon_name_clashing_with_an_officer_name_is_left_out_and_said():
    rank = GuildRank.objects.get(blizzard_rank_index=3)
    ranks.save_guild_rank(rank.pk, name="Raider", level=2, scheduling_weight=2, role_names=["Member"])
    stats = db_sync.sync_addon_data([addon_member("Kel", 6, "raider")])
    assert GuildRank.objects.get(blizzard_rank_index=6).name == "Rank 6"
    assert stats.rank_names["conflicts"] == ["rank 6: 'raider' is also another rank's name"]


def test_defect4_gm_counts_as_guild_leader(make):
    discord_sync.sync_discord_members([{"discord_id": 42, "username": "boss", "roles": ["GM", "Raider"]}])
    user = DiscordUser.objects.get(discord_id=42)
    assert user.highest_guild_role == "GM"
    make.player("Boss", discord_user=user, characters=[make.character("Boss", guild_rank="Guild Leader")])
    ic.run_integrity_check()
    assert not AuditIssue.objects.filter(issue_type="rank_mismatch").exists()


def test_defect4_role_names_per_rank_are_editable_and_one_role_counts_for_one_rank(make):
    leader = make.rank("Guild Leader")
    ranks.save_guild_rank(leader.pk, name=leader.name, level=leader.level, scheduling_weight=leader.scheduling_weight,
                          role_names=["Guild Leader", "GM", "Raid Boss"])
    user = make.discord_user("boss", role="raid boss")
    make.player("Boss", discord_user=user, characters=[make.character("Boss", guild_rank=leader)])
    ic.run_integrity_check()
    assert not AuditIssue.objects.filter(issue_type="rank_mismatch").exists()
    officer = make.rank("Officer")
    with pytest.raises(ranks.GuildSyncError, match="already counts as Guild Leader"):
        ranks.save_guild_rank(officer.pk, name="Officer", level=4, scheduling_weight=4, role_names=["gm"])
    # removing "GM" from the list makes a GM-role Guild Leader a mismatch again
    ranks.save_guild_rank(leader.pk, name=leader.name, level=5, scheduling_weight=5, role_names=["Guild Leader"])
    user.highest_guild_role = "GM"
    user.save()
    ic.run_integrity_check()
    [issue] = AuditIssue.objects.filter(issue_type="rank_mismatch", resolved_at__isnull=True)
    assert issue.details["accepted_roles"] == ["Guild Leader"]


@pytest.mark.django_db(transaction=True)
def test_defect3_and_4_migration_moves_existing_ranks():
    """Data as main had it (five ranks, one renamed and one without an index, a single
    Discord role each) → ten ranks keyed 0–9, role lists with GM for rank 0."""
    GuildRank.objects.all().delete()  # ten ranks would not fit the old unique level
    executor = MigrationExecutor(connection)
    old = [("guildsync", "0007_identitychange")]
    executor.migrate(old)
    apps = executor.loader.project_state(old).apps
    old_rank_model = apps.get_model("guildsync", "GuildRank")
    old_rank_model.objects.all().delete()
    old_rank_model.objects.create(name="Guild Leader", level=5, blizzard_rank_index=0, discord_role_name="Guild Leader")
    old_rank_model.objects.create(name="Council", level=4, blizzard_rank_index=1, discord_role_name="Officer")
    old_rank_model.objects.create(name="Member", level=2, blizzard_rank_index=None, discord_role_name="")
    old_rank_model.objects.create(name="Alts", level=1, blizzard_rank_index=None, discord_role_name="Alt")
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    got = {r.blizzard_rank_index: (r.name, r.name_source, [x.role_name for x in r.discord_roles.all()])
           for r in GuildRank.objects.prefetch_related("discord_roles")}
    assert got[0] == ("Guild Leader", "placeholder", ["Guild Leader", "GM"])
    assert got[1] == ("Council", "officer", ["Officer"])
    assert got[3] == ("Member", "placeholder", ["Member"])  # the seed's index for its name
    assert got[2] == ("Alts", "officer", ["Alt"])  # the next free index
    assert sorted(got) == list(range(10)) and got[9] == ("Rank 9", "placeholder", [])
