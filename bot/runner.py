"""The discord.py client behind ``manage.py runbot``.

It stays thin on purpose: it loads each domain app's ``discord_commands`` module (like the
admin's autodiscovery), whose ``setup(bot)`` registers that app's slash commands, buttons and
gateway listeners; every listener and command calls a service. Nothing of a domain lives here.

What keeps it up is in :mod:`bot.gateway`: discord.py's parsers are isolated (an event it cannot
read is skipped, counted in ``event_stats`` and reported), a listener that raises is logged,
counted and reported (:meth:`GuildOpsBot.on_error`), and IDENTIFY is paced as Discord asks.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections import Counter
from importlib import import_module
from importlib.util import find_spec

import discord
import yarl
from discord.ext import commands
from discord.gateway import DiscordWebSocket
from django.apps import apps
from django.conf import settings

from bot import gateway, interactions
from bot.clients import configure_api_base
from bot.translator import GettextTranslator
from bot.vitals import Vitals

log = logging.getLogger(__name__)


def discord_command_modules() -> list[str]:
    names = []
    for app_config in apps.get_app_configs():
        module = f"{app_config.name}.discord_commands"
        if find_spec(app_config.name) and find_spec(module):
            names.append(module)
    return names


def intents() -> discord.Intents:
    wanted = discord.Intents.default()
    wanted.members = True  # member join/leave/update, member list for sync (privileged)
    wanted.message_content = True  # auto-moderation reads message text (privileged)
    return wanted


IDENTIFY_SPACING = 5.0  # seconds between two IDENTIFYs (discord-api-docs, "Session Start Limit")


class GuildOpsBot(commands.Bot):
    def __init__(self, *, sync_only: bool = False) -> None:
        configure_api_base()
        if settings.DISCORD_GATEWAY_URL:
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.DISCORD_GATEWAY_URL)
        super().__init__(command_prefix=commands.when_mentioned, intents=intents(), help_command=None,
                         tree_cls=interactions.CommandTree)
        self.sync_only = sync_only
        self.loaded_modules: list[str] = []
        self.synced_commands: list[str] = []
        self.components = interactions.ComponentRouter()
        self.tree.on_error = interactions.on_tree_error
        self.add_listener(self.components.on_interaction, "on_interaction")
        self.vitals = Vitals(self)  # heartbeat for /healthz/deep, metrics port
        self.add_listener(self.vitals.on_socket_event_type, "on_socket_event_type")
        # Counters for metrics: unreadable events, failed listeners, reconnects (bot.gateway).
        self.event_stats: Counter[str] = Counter()
        gateway.isolate_parsers(self)
        self._last_identify: float | None = None

    async def setup_hook(self) -> None:
        if not self.sync_only:
            self.vitals.start()
        await self.load_commands()
        # Every name and description in the members' languages (bot.translator): the same catalogues.
        await self.tree.set_translator(GettextTranslator())
        await self._sync(discord.Object(id=settings.DISCORD_GUILD_ID) if settings.DISCORD_GUILD_ID else None)

    async def load_commands(self) -> None:
        """Each app's ``discord_commands.setup(bot)``: its commands, buttons and listeners."""
        for module_name in discord_command_modules():
            module = import_module(module_name)
            setup = getattr(module, "setup", None)
            if setup is None:
                continue
            result = setup(self)
            if hasattr(result, "__await__"):
                await result
            self.loaded_modules.append(module_name)

    async def _sync(self, guild: discord.Object | None) -> None:
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        synced = await self.tree.sync(guild=guild)
        self.synced_commands = [c.name for c in synced]
        log.info("runbot: loaded %s; synced %d commands %s", ", ".join(self.loaded_modules) or "no modules",
                 len(synced), f"to guild {guild.id}" if guild else "globally")

    async def on_error(self, event_method: str, /, *args, **kwargs) -> None:
        """A listener raised: logged with its traceback, counted, reported; the bot carries on."""
        gateway.listener_failed(self, event_method, sys.exc_info()[1])

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Discord allows one IDENTIFY per 5 seconds (``max_concurrency`` 1); discord.py's default
        always sleeps 5 s before a new session. Wait only what remains of those 5 s."""
        if self._last_identify is not None:
            wait = self._last_identify + IDENTIFY_SPACING - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        self._last_identify = time.monotonic()

    async def on_ready(self) -> None:
        log.info("runbot: connected as %s", self.user)

    async def close(self) -> None:
        self.vitals.stop()
        await super().close()
        await interactions.EVENTS.shutdown()
        await asyncio.to_thread(interactions.DB.shutdown)
