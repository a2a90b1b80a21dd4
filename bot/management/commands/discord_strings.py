"""``manage.py discord_strings``: (re)write ``bot/command_strings.py``, the slash commands'
names and descriptions for ``makemessages`` (see ``bot.translator``). Run it after changing a
command, before ``makemessages``."""

from __future__ import annotations

import asyncio
from pathlib import Path

from django.core.management.base import BaseCommand

import bot
from bot.translator import strings_module

TARGET = Path(bot.__file__).with_name("command_strings.py")


async def built_tree():
    """The bot's command tree as ``runbot`` builds it (nothing connects to Discord)."""
    from bot.runner import GuildOpsBot

    client = GuildOpsBot(sync_only=True)
    await client.load_commands()
    return client.tree


def current_text() -> str:
    return strings_module(asyncio.run(built_tree()))


class Command(BaseCommand):
    help = "Write bot/command_strings.py (the slash commands' strings, for makemessages)."

    def handle(self, *args, **options) -> None:
        text = current_text()
        TARGET.write_text(text, encoding="utf-8")
        self.stdout.write(f"wrote {TARGET} ({text.count('_(')} strings)")
