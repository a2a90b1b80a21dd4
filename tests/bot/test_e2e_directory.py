"""The gateway feeds the member directory (issue 24, Build 1): ``manage.py runbot`` against the
fake gateway records the server's, channels' and members' names from GUILD_CREATE (sent after
IDENTIFY, members completed by GUILD_MEMBERS_CHUNK), channel create/rename/delete and server
renames, so admin pages show names on a real install. Real payload shapes (the fake gateway's
builders, discord-api-docs' object tables), parsed by discord.py."""

from __future__ import annotations

import pytest

from tests.bot.conftest import GENERAL, GUILD_ID, People
from tests.fakes.discord_gateway import Member, channel_json
from tests.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_guild_create_channels_and_renames_feed_the_directory(bot):
    from django.urls import reverse

    from guildsync.models import DiscordChannel, DiscordServer, DiscordUser
    from guildsync.services import directory

    gw = bot.gateway
    log = bot.log
    # a reconnect that cannot resume: IDENTIFY again, GUILD_CREATE again (what a restart sees);
    # the guild now has a newcomer only the GUILD_CREATE member list names
    newcomer = gw.guild.add_member(Member(1_100_000_000_000_000_077, "freshface", global_name="Fresh Face"))
    gw.dispatch("GUILD_CREATE", gw.guild.create_json(gw.bot))
    wait_until(lambda: DiscordServer.objects.filter(discord_id=GUILD_ID).exists(), 30, "the server's name",
               context=lambda: log()[-2000:])
    assert DiscordServer.objects.get(discord_id=GUILD_ID).name == gw.guild.name
    wait_until(lambda: DiscordUser.objects.filter(discord_id=newcomer.id).exists(), 30, "the members' names")
    assert directory.names_for("member", [newcomer.id, People.bob.id, People.alice.id]) == {
        newcomer.id: "Fresh Face", People.bob.id: "Bobby", People.alice.id: "Alice"}  # nick, else global name
    assert not DiscordUser.objects.filter(username=gw.bot.username).exists()  # the bot is no member
    assert directory.names_for("channel", [GENERAL]) == {GENERAL: "general"}
    assert directory.names_for("role", [next(iter(gw.guild.roles.keys() - {GUILD_ID}))])  # roles by name

    # CHANNEL_CREATE, CHANNEL_UPDATE (renamed), CHANNEL_DELETE
    new_channel = 1_100_000_000_000_000_500
    gw.dispatch("CHANNEL_CREATE", channel_json(new_channel, "raid-signups", GUILD_ID))
    wait_until(lambda: directory.names_for("channel", [new_channel]) == {new_channel: "raid-signups"}, 20,
               "the new channel")
    gw.dispatch("CHANNEL_UPDATE", channel_json(new_channel, "raid-sign-ups", GUILD_ID))
    wait_until(lambda: directory.names_for("channel", [new_channel]) == {new_channel: "raid-sign-ups"}, 20,
               "the renamed channel")
    gw.dispatch("CHANNEL_DELETE", channel_json(new_channel, "raid-sign-ups", GUILD_ID))
    wait_until(lambda: DiscordChannel.objects.filter(discord_id=new_channel, name="raid-sign-ups (deleted)").exists(),
               20, "the deleted channel")

    # GUILD_UPDATE: the server renamed
    renamed = {k: v for k, v in gw.guild.create_json(gw.bot).items()
               if k not in ("members", "channels", "threads", "presences", "voice_states", "joined_at", "large",
                            "member_count", "unavailable", "stage_instances", "guild_scheduled_events",
                            "soundboard_sounds")}
    gw.dispatch("GUILD_UPDATE", {**renamed, "name": "Stormwatch"})
    wait_until(lambda: DiscordServer.objects.filter(discord_id=GUILD_ID, name="Stormwatch").exists(), 20,
               "the renamed server")
    assert directory.label("server", GUILD_ID) == "Stormwatch"
    assert reverse  # the admin reads these rows (tests/core/test_no_bare_ids.py on the demo data)
    assert "Traceback" not in log()


def test_a_partial_member_list_never_marks_members_gone(db):
    """The gateway's list is upserted without departures: a member the list lacks stays present."""
    from guildsync.models import DiscordUser
    from guildsync.services import discord_sync

    DiscordUser.objects.create(discord_id=42_000_000_000_000_001, username="stays")
    stats = discord_sync.on_server_seen({"id": GUILD_ID, "name": "Test", "channels": [], "roles": [], "members": [
        {"discord_id": 42_000_000_000_000_002, "username": "new", "display_name": "New", "roles": []}]})
    assert stats.created == 1 and stats.departed == 0
    assert DiscordUser.objects.get(discord_id=42_000_000_000_000_001).is_present
    assert discord_sync.on_server_seen({"id": GUILD_ID, "name": "Test", "members": None}) is None
