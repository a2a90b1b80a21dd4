"""raids in Discord: ``/raid next`` (the next raid, with its sign-up link) and
``/raid attendance`` (your attendance this season). Thin: read-only calls to raids.reports."""

from __future__ import annotations

import discord
from asgiref.sync import sync_to_async
from discord import app_commands

from core.errors import DomainError
from raids import reports


async def raid_next(interaction: discord.Interaction) -> None:
    try:
        text = await sync_to_async(reports.next_event_text)()
    except DomainError as exc:
        text = str(exc)
    await interaction.response.send_message(text, ephemeral=True)


async def raid_attendance(interaction: discord.Interaction) -> None:
    try:
        text = await sync_to_async(reports.my_attendance_text)(interaction.user.id)
    except DomainError as exc:
        text = str(exc)
    await interaction.response.send_message(text, ephemeral=True)


def build_group() -> app_commands.Group:
    group = app_commands.Group(name="raid", description="Raid nights: next raid and your attendance",
                               guild_only=True)
    group.command(name="next", description="Show the next raid and where to sign up")(raid_next)
    group.command(name="attendance", description="Your raid attendance this season")(raid_attendance)
    return group


def setup(bot) -> None:
    bot.tree.add_command(build_group())
