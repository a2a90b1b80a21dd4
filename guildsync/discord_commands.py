"""guildsync in Discord: gateway listeners keep ``DiscordUser`` current between full syncs and
feed the directory of names (the server, its channels, roles and members at GUILD_CREATE;
channel and server renames), and ``/guild whois`` tells officers who a member is. Thin: everything calls services. The
listeners queue their work on the bot's gateway event lane (``bot.interactions.EVENTS``), so
a wave of member updates never takes the threads that answer commands."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from django.conf import settings

from bot import interactions
from guildsync.services import directory, discord_sync, identity_engine

log = logging.getLogger(__name__)


def _ours(member: discord.abc.Snowflake) -> bool:
    guild = getattr(member, "guild", None)
    return not settings.DISCORD_GUILD_ID or guild is None or guild.id == settings.DISCORD_GUILD_ID


async def on_member_join(member: discord.Member) -> None:
    if _ours(member) and not member.bot:
        await interactions.EVENTS.submit("member_join", discord_sync.on_member_join,
                                         discord_sync.member_from_gateway(member))


async def on_member_remove(member: discord.Member) -> None:
    if _ours(member) and not member.bot:
        await interactions.EVENTS.submit("member_remove", discord_sync.on_member_remove, member.id)


async def on_member_update(before: discord.Member, after: discord.Member) -> None:
    if not _ours(after) or after.bot:
        return
    if before.display_name == after.display_name and before.name == after.name and \
            {r.id for r in before.roles} == {r.id for r in after.roles}:
        return  # presence/avatar changes: nothing we store
    await interactions.EVENTS.submit("member_update", discord_sync.on_member_update,
                                     discord_sync.member_from_gateway(before), discord_sync.member_from_gateway(after))


def _our_server(guild: discord.Guild) -> bool:
    return not settings.DISCORD_GUILD_ID or guild.id == settings.DISCORD_GUILD_ID


def _channel(channel: discord.abc.GuildChannel) -> dict:
    return {"id": channel.id, "name": channel.name, "guild_id": channel.guild.id}


async def on_guild_available(guild: discord.Guild) -> None:
    """GUILD_CREATE (start-up, reconnect, joining): discord.py dispatches it once the member
    chunks (GUILD_MEMBERS_CHUNK) are in, so ``guild.members`` is the whole list when
    ``guild.chunked``; otherwise only the server's, channels' and roles' names are recorded."""
    if not _our_server(guild):
        return
    server = {"id": guild.id, "name": guild.name,
              "channels": [_channel(c) for c in [*guild.channels, *guild.threads]],
              "roles": [{"id": r.id, "name": r.name} for r in guild.roles if not r.is_default()],
              "members": [discord_sync.member_from_gateway(m) for m in guild.members if not m.bot]
              if guild.chunked else None}
    await interactions.EVENTS.submit("server_seen", discord_sync.on_server_seen, server)


async def on_guild_update(before: discord.Guild, after: discord.Guild) -> None:
    if _our_server(after) and before.name != after.name:
        await interactions.EVENTS.submit("server_renamed", directory.record_server, after.id, after.name)


async def on_guild_channel_create(channel: discord.abc.GuildChannel) -> None:
    if _our_server(channel.guild):
        await interactions.EVENTS.submit("channel_seen", directory.record_channels, [_channel(channel)])


async def on_guild_channel_update(before: discord.abc.GuildChannel, after: discord.abc.GuildChannel) -> None:
    if _our_server(after.guild) and before.name != after.name:
        await interactions.EVENTS.submit("channel_seen", directory.record_channels, [_channel(after)])


async def on_guild_channel_delete(channel: discord.abc.GuildChannel) -> None:
    if _our_server(channel.guild):
        await interactions.EVENTS.submit("channel_deleted", directory.record_channel_deleted, channel.id)


async def whois(interaction: discord.Interaction, member: discord.Member) -> None:
    await interactions.answer(interaction, identity_engine.describe_member, member.id)


def build_group() -> app_commands.Group:
    group = app_commands.Group(name="guild", description="WoW guild identity: who plays which characters",
                               default_permissions=discord.Permissions(manage_roles=True), guild_only=True)
    group.command(name="whois", description="Show a member's player and characters (officers)")(
        app_commands.describe(member="The Discord member to look up")(whois))
    return group


def setup(bot) -> None:
    bot.add_listener(on_member_join, "on_member_join")
    bot.add_listener(on_member_remove, "on_member_remove")
    bot.add_listener(on_member_update, "on_member_update")
    for listener in (on_guild_available, on_guild_update, on_guild_channel_create, on_guild_channel_update,
                     on_guild_channel_delete):
        bot.add_listener(listener, listener.__name__)
    bot.add_listener(on_guild_available, "on_guild_join")  # invited to the server while running
    bot.tree.add_command(build_group())
