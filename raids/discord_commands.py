"""raids in Discord: ``/raid next`` (the next raid, with its sign-up link), ``/raid roster``
(its live roster by role against the wanted composition) and ``/raid attendance`` (your
attendance this season). Thin: read-only calls to raids.reports and raids.roster."""

from __future__ import annotations

import discord
from discord import app_commands

from bot import interactions
from raids import reports, roster


async def raid_next(interaction: discord.Interaction) -> None:
    await interactions.answer(interaction, reports.next_event_text)


async def raid_roster(interaction: discord.Interaction) -> None:
    await interactions.answer(interaction, roster.next_roster_text)


async def raid_attendance(interaction: discord.Interaction) -> None:
    await interactions.answer(interaction, reports.my_attendance_text, interaction.user.id)


def build_group() -> app_commands.Group:
    group = app_commands.Group(name="raid", description="Raid nights: next raid, its roster and your attendance",
                               guild_only=True)
    group.command(name="next", description="Show the next raid and where to sign up")(raid_next)
    group.command(name="attendance", description="Your raid attendance this season")(raid_attendance)
    group.command(name="roster", description="The next raid's live roster by role, and the missing roles")(
        raid_roster)
    return group


def setup(bot) -> None:
    bot.tree.add_command(build_group())
