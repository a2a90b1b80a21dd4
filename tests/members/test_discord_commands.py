"""/calendar through discord.py against the fake Discord: show makes the feed once, then only says
what is known of it; rotate replaces the URL; revoke switches it off. Every answer is ephemeral
(``DiscordHarness.ask`` checks it)."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.test import Client

from members import discord_commands
from members.models import CalendarToken
from tests.discord_objects import DiscordHarness
from tests.fakes.discord_gateway import Guild, Member

pytestmark = pytest.mark.django_db

AELITH = Member(4242, "aelith")


@pytest.fixture
def harness(fake_discord, settings):
    cache.clear()
    settings.DISCORD_GUILD_ID = 555_000_000_000_000_001
    guild = Guild(settings.DISCORD_GUILD_ID)
    guild.add_channel(settings.DISCORD_GUILD_ID + 1, "general")
    guild.add_member(AELITH)
    return DiscordHarness(fake_discord, guild, discord_commands.setup)


def _url(text: str) -> str:
    found = re.search(r"<(https?://[^>]+\.ics)>", text)
    assert found, text
    return found.group(1)


def _status(url: str) -> int:
    return Client().get("/" + url.split("/", 3)[3]).status_code


def test_setup_registers_a_valid_group():
    from bot.runner import GuildOpsBot

    bot = GuildOpsBot()
    discord_commands.setup(bot)
    group = bot.tree.get_command("calendar")
    assert {c.name for c in group.commands} == {"show", "rotate", "revoke"}
    for command in [group, *group.commands]:
        assert command.name == command.name.lower() and len(command.name) <= 32
        assert 1 <= len(command.description) <= 100


def test_show_rotate_revoke(harness):
    first = harness.ask(harness.payloads.slash("calendar show", member=AELITH))
    url = _url(first)
    assert _status(url) == 200 and CalendarToken.objects.filter(discord_user_id=AELITH.id).count() == 1
    again = harness.ask(harness.payloads.slash("calendar show", member=AELITH))
    assert ".ics" not in again and "cannot show it again" in again and "/calendar rotate" in again
    rotated = _url(harness.ask(harness.payloads.slash("calendar rotate", member=AELITH)))
    assert rotated != url and _status(url) == 404 and _status(rotated) == 200
    assert "switched off" in harness.ask(harness.payloads.slash("calendar revoke", member=AELITH))
    assert _status(rotated) == 404 and not CalendarToken.objects.exists()
    assert "no calendar feed" in harness.ask(harness.payloads.slash("calendar revoke", member=AELITH))
