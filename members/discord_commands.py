"""``/calendar``: a member's private calendar feed from Discord (all answers ephemeral).

- ``show``: the feed URL (made on first use); afterwards what is known of it (only a hash is kept);
- ``rotate``: a new URL, the old one stops working (e.g. shared by mistake);
- ``revoke``: switch the feed off.
Thin: the texts come from ``members.messages``, which calls ``members.services``."""

from __future__ import annotations

import discord
from discord import app_commands

from bot import interactions
from members import messages


async def calendar_show(interaction: discord.Interaction) -> None:
    await interactions.answer(interaction, messages.show_text, interaction.user.id)


async def calendar_rotate(interaction: discord.Interaction) -> None:
    await interactions.answer(interaction, messages.rotate_text, interaction.user.id)


async def calendar_revoke(interaction: discord.Interaction) -> None:
    await interactions.answer(interaction, messages.revoke_text, interaction.user.id)


def build_group() -> app_commands.Group:
    group = app_commands.Group(name="calendar", description="Your raids, Ark matches and Santa deadlines "
                                                            "in your own calendar app")
    group.command(name="show", description="Your private calendar feed link (made the first time)")(calendar_show)
    group.command(name="rotate", description="A new calendar link; the old one stops working")(calendar_rotate)
    group.command(name="revoke", description="Switch your calendar feed off")(calendar_revoke)
    return group


def setup(bot) -> None:
    """Called by ``bot.runner.GuildOpsBot.setup_hook``."""
    bot.tree.add_command(build_group())
