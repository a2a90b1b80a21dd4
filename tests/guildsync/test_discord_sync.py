"""discord_sync (seed Task 10) plus the full sync through the (fake) Discord REST API."""

from __future__ import annotations

import datetime as dt

import pytest

from guildsync.models import DiscordUser, Player, SyncLog
from guildsync.services import discord_sync
from guildsync.services.common import GuildSyncError
from tests.fakes.discord_api import member_json
from tests.guildsync.conftest import GUILD_ID

pytestmark = pytest.mark.django_db


def member(discord_id: int, username: str, roles=("Member",), display_name: str | None = None) -> dict:
    return {"discord_id": discord_id, "username": username, "display_name": display_name or username.title(),
            "roles": list(roles), "joined_at": dt.datetime(2024, 1, 1, tzinfo=dt.UTC)}


def test_sync_creates_discord_user():
    stats = discord_sync.sync_discord_members([member(1, "thrall", ["Officer", "Member", "Raider"])])
    assert stats.created == 1
    user = DiscordUser.objects.get(discord_id=1)
    assert user.username == "thrall" and user.is_present and user.last_sync
    assert user.highest_guild_role == "Officer"
    assert user.all_guild_roles == ["Officer", "Member"]  # "Raider" is not a guild-rank role


def test_sync_updates_existing_discord_user():
    discord_sync.sync_discord_members([member(1, "thrall", ["Member"])])
    stats = discord_sync.sync_discord_members([member(1, "thrall", ["Veteran"], display_name="Warchief")])
    assert (stats.created, stats.updated) == (0, 1)
    user = DiscordUser.objects.get(discord_id=1)
    assert user.highest_guild_role == "Veteran" and user.display_name == "Warchief"


def test_sync_marks_departed_not_present():
    discord_sync.sync_discord_members([member(1, "thrall"), member(2, "jaina")])
    stats = discord_sync.sync_discord_members([member(1, "thrall")])
    assert stats.departed == 1
    jaina = DiscordUser.objects.get(discord_id=2)
    assert not jaina.is_present and jaina.removed_at is not None
    # coming back makes them present again
    stats = discord_sync.sync_discord_members([member(1, "thrall"), member(2, "jaina")])
    jaina.refresh_from_db()
    assert stats.returned == 1 and jaina.is_present and jaina.removed_at is None


def test_sync_never_touches_player_links(make):
    user = make.discord_user("thrall", discord_id=1)
    player = make.player("Thrall", discord_user=user)
    discord_sync.sync_discord_members([])
    player.refresh_from_db()
    assert player.discord_user_id == user.pk


def test_on_member_join_creates_discord_user():
    user = discord_sync.on_member_join(member(5, "sylvanas", ["Initiate"]))
    assert user.is_present and user.highest_guild_role == "Initiate"
    assert DiscordUser.objects.filter(discord_id=5).count() == 1


def test_on_member_remove_marks_not_present():
    discord_sync.on_member_join(member(5, "sylvanas"))
    assert discord_sync.on_member_remove({"discord_id": 5}) == 1
    user = DiscordUser.objects.get(discord_id=5)
    assert not user.is_present and user.removed_at is not None
    assert discord_sync.on_member_remove(5) == 0  # replayed event: nothing changes


def test_on_member_update_reflects_roles():
    discord_sync.on_member_join(member(5, "sylvanas", ["Initiate"]))
    discord_sync.on_member_update(None, member(5, "sylvanas", ["Officer"]))
    assert DiscordUser.objects.get(discord_id=5).highest_guild_role == "Officer"


def test_role_helpers_follow_renamed_ranks(make):
    from guildsync.services import ranks

    rank = make.rank("Officer")
    ranks.save_guild_rank(rank.pk, name=rank.name, level=rank.level, scheduling_weight=rank.scheduling_weight,
                          role_names=["Council"])
    roles = [{"name": "council"}, "Member", "Booster"]
    assert discord_sync.get_highest_guild_role(roles) == "Council"
    assert discord_sync.get_all_guild_roles(roles) == ["Council", "Member"]
    assert discord_sync.get_highest_guild_role(["Booster"]) == ""


def test_bad_member_rejected_and_nothing_written():
    with pytest.raises(GuildSyncError):
        discord_sync.sync_discord_members([member(1, "ok"), {"discord_id": "x", "username": ""}])
    assert not DiscordUser.objects.exists()


def test_sync_is_bulk(django_assert_max_num_queries):
    discord_sync.sync_discord_members([member(i, f"user{i}") for i in range(1, 301)])
    with django_assert_max_num_queries(12):
        discord_sync.sync_discord_members([member(i, f"user{i}", ["Veteran"]) for i in range(1, 301)])


def test_full_sync_through_discord_rest(discord_guild):
    from guildsync.services import pipeline

    discord_guild.guild_roles[GUILD_ID] = [{"id": "11", "name": "Officer"}, {"id": "12", "name": "Member"},
                                           {"id": "13", "name": "Raider"}]
    discord_guild.members[GUILD_ID] = [member_json(100 + i, f"user{i}", roles=[12] if i else [11, 12])
                                       for i in range(1500)]
    result = pipeline.run_discord_sync("test")
    assert result.status == SyncLog.Status.SUCCESS
    assert DiscordUser.objects.count() == 1500
    assert DiscordUser.objects.get(discord_id=100).highest_guild_role == "Officer"
    assert DiscordUser.objects.get(discord_id=101).all_guild_roles == ["Member"]
    assert len(discord_guild.calls("GET", r"/guilds/\d+/members")) == 2  # paginated by 1,000
    assert SyncLog.objects.get(pk=result.sync_log_id).stats["created"] == 1500
    assert not Player.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_full_syncs_are_harmless(run_in_parallel):
    members = [member(i, f"user{i}") for i in range(1, 200)]
    results = run_in_parallel(lambda i: discord_sync.sync_discord_members(members), 4)
    assert all(not isinstance(r, BaseException) for r in results), results
    assert DiscordUser.objects.count() == 199
    assert sum(r.created for r in results) == 199
