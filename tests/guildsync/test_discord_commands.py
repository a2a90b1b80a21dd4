"""discord_commands: setup() registers the listeners and a valid command tree; callbacks
reach the services."""

from __future__ import annotations

import pytest

from guildsync import discord_commands
from guildsync.models import DiscordUser
from tests.discord_objects import DiscordHarness
from tests.fakes.discord_gateway import MANAGE_ROLES, Guild, Member

pytestmark = pytest.mark.django_db

OFFICER_ROLE, VETERAN_ROLE, MEMBER_ROLE, LOOKUP_ROLE = 901, 902, 903, 904
THRALL = Member(42, "thrall", roles=[OFFICER_ROLE])
NOBODY = Member(99, "nobody", roles=[MEMBER_ROLE])
GUILD_OFFICER = Member(77, "guildofficer", roles=[LOOKUP_ROLE])


@pytest.fixture
def harness(fake_discord, settings):
    """The bot with guildsync's listeners and /guild, in the configured server (and in another
    one, whose members are none of our business)."""
    guild = Guild(settings.DISCORD_GUILD_ID)
    guild.add_channel(settings.DISCORD_GUILD_ID + 1, "general")
    for role_id, name in ((OFFICER_ROLE, "Officer"), (VETERAN_ROLE, "Veteran"), (MEMBER_ROLE, "Member")):
        guild.add_role(role_id, name)
    guild.add_role(LOOKUP_ROLE, "Guild officers", MANAGE_ROLES)
    for member in (NOBODY, GUILD_OFFICER):
        guild.add_member(member)
    return DiscordHarness(fake_discord, guild, discord_commands.setup, other_guilds=[Guild(OTHER_GUILD)])


OTHER_GUILD = 1


def test_setup_registers_listeners_and_commands():
    from bot.runner import GuildOpsBot

    bot = GuildOpsBot()
    discord_commands.setup(bot)
    assert discord_commands.on_member_join in bot.extra_events["on_member_join"]
    assert discord_commands.on_member_remove in bot.extra_events["on_member_remove"]
    assert discord_commands.on_member_update in bot.extra_events["on_member_update"]
    group = bot.tree.get_command("guild")
    assert group is not None and len(group.commands) <= 25
    for command in [group, *group.commands]:
        assert command.name == command.name.lower() and len(command.name) <= 32
        assert 1 <= len(command.description) <= 100
    assert len(group.get_command("whois").parameters) <= 25


def test_gateway_events_reach_the_services(harness):
    harness.event("GUILD_MEMBER_ADD", harness.payloads.member_add(THRALL))
    assert DiscordUser.objects.get(discord_id=42).highest_guild_role == "Officer"
    veteran = Member(42, "thrall", roles=[VETERAN_ROLE])
    harness.event("GUILD_MEMBER_UPDATE", harness.payloads.member_update(veteran))
    assert DiscordUser.objects.get(discord_id=42).highest_guild_role == "Veteran"
    harness.event("GUILD_MEMBER_REMOVE", harness.payloads.member_remove(veteran))
    assert DiscordUser.objects.get(discord_id=42).is_present is False
    # GUILD_MEMBER_ADD in another server (the shape of FakeGateway.member_add, another guild_id)
    harness.event("GUILD_MEMBER_ADD", {**Member(43, "other").json(), "guild_id": str(OTHER_GUILD)})
    assert not DiscordUser.objects.filter(discord_id=43).exists()


def test_whois_replies_ephemeral(make, harness):
    user = make.discord_user("thrall", discord_id=42, role="Officer")
    make.player("Thrall", discord_user=user, characters=[make.character("Thrall", guild_rank="Officer")])
    harness.guild.add_member(THRALL)  # in the server: Discord resolves the option to a member
    text = harness.ask(harness.payloads.slash("guild whois", {"member": THRALL}, member=GUILD_OFFICER))
    assert "Thrall-twisting-nether" in text and "Officer" in text
    # in the server when the bot connected: GUILD_CREATE's member list put them in the directory
    known = harness.ask(harness.payloads.slash("guild whois", {"member": NOBODY}, member=GUILD_OFFICER))
    assert "**nobody** (Member) has no characters linked yet." in known
    stranger = Member(98, "stranger")  # joined while the bot missed it: no event, no sync yet
    harness.guild.add_member(stranger)
    assert "don't know" in harness.ask(harness.payloads.slash("guild whois", {"member": stranger}, member=GUILD_OFFICER))
