"""guildsync in Discord: gateway listeners keep ``DiscordUser`` current between full syncs,
and ``/guild whois`` tells officers who a member is. Thin: everything calls services. The
listeners queue their work on the bot's gateway event lane (``bot.interactions.EVENTS``), so
a wave of member updates never takes the threads that answer commands."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from django.conf import settings

from bot import interactions
from guildsync.services import discord_sync, identity_engine

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
    bot.tree.add_command(build_group())
