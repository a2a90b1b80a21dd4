"""discord_commands: setup() registers the listeners and a valid command tree; callbacks
reach the services."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from guildsync import discord_commands
from guildsync.models import DiscordUser

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _close_async_connections():
    """sync_to_async runs services on asgiref's shared thread: close its connection after."""
    yield
    from asgiref.sync import sync_to_async
    from django.db import connections

    asyncio.run(sync_to_async(connections.close_all)())


def fake_member(discord_id: int, name: str, roles=("Member",), guild_id: int | None = None):
    return SimpleNamespace(id=discord_id, name=name, display_name=name.title(), bot=False,
                           roles=[SimpleNamespace(id=sum(map(ord, r)), name=r) for r in roles],
                           joined_at=None, guild=SimpleNamespace(id=guild_id) if guild_id else None)


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


def test_gateway_events_reach_the_services(settings):
    member = fake_member(42, "thrall", ["Officer"], settings.DISCORD_GUILD_ID)
    asyncio.run(discord_commands.on_member_join(member))
    assert DiscordUser.objects.get(discord_id=42).highest_guild_role == "Officer"
    after = fake_member(42, "thrall", ["Veteran"], settings.DISCORD_GUILD_ID)
    asyncio.run(discord_commands.on_member_update(member, after))
    assert DiscordUser.objects.get(discord_id=42).highest_guild_role == "Veteran"
    asyncio.run(discord_commands.on_member_remove(after))
    assert DiscordUser.objects.get(discord_id=42).is_present is False
    asyncio.run(discord_commands.on_member_join(fake_member(43, "other", guild_id=1)))  # another server
    assert not DiscordUser.objects.filter(discord_id=43).exists()


def test_whois_replies_ephemeral(make):
    user = make.discord_user("thrall", discord_id=42, role="Officer")
    make.player("Thrall", discord_user=user, characters=[make.character("Thrall", guild_rank="Officer")])
    sent = {}

    async def send_message(text, ephemeral=False):
        sent.update(text=text, ephemeral=ephemeral)

    interaction = SimpleNamespace(response=SimpleNamespace(send_message=send_message))
    asyncio.run(discord_commands.whois(interaction, fake_member(42, "thrall")))
    assert sent["ephemeral"] and "Thrall-twisting-nether" in sent["text"] and "Officer" in sent["text"]
    asyncio.run(discord_commands.whois(interaction, fake_member(99, "nobody")))
    assert "don't know" in sent["text"]
