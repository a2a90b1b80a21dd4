"""raids in Discord: ``/raid next`` (the next raid, with its sign-up link) and
``/raid attendance`` (your attendance this season). Thin: read-only calls to raids.reports."""

from __future__ import annotations

import discord
from discord import app_commands

from bot import interactions
from raids import reports


async def raid_next(interaction: discord.Interaction) -> None:
    await interactions.answer(interaction, reports.next_event_text)


async def raid_attendance(interaction: discord.Interaction) -> None:
    await interactions.answer(interaction, reports.my_attendance_text, interaction.user.id)


def build_group() -> app_commands.Group:
    group = app_commands.Group(name="raid", description="Raid nights: next raid and your attendance",
                               guild_only=True)
    group.command(name="next", description="Show the next raid and where to sign up")(raid_next)
    group.command(name="attendance", description="Your raid attendance this season")(raid_attendance)
    return group


def setup(bot) -> None:
    bot.tree.add_command(build_group())
