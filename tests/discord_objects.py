"""Real discord.py objects for the apps' unit tests of commands, buttons and listeners.

A stand-in for ``discord.Interaction`` accepts what the real one refuses (a wrong keyword, a
second response, a member without permission data), so a test could pass while the bot fails.
:class:`DiscordHarness` instead builds a real :class:`~bot.runner.GuildOpsBot` (with only the
app modules the test names), whose real discord.py ``ConnectionState`` learns the guild from
the GUILD_CREATE payload the fake gateway would send (tests/fakes/discord_gateway.py), and
whose real ``HTTPClient`` talks to the fake Discord REST API (tests/fakes/discord_api.py,
through ``DISCORD_API_BASE`` like the bot process). A test hands it the payloads
``FakeGateway`` builds (``slash``, ``button``, ``message_command``, ``modal_submit``,
``message_create``, ``member_add``...) and they are parsed and dispatched by discord.py's own
``parse_interaction_create`` / ``parse_message_create`` / ``parse_guild_member_*``: the command
tree's option parsing and checks, the component router and the listeners run exactly as in
``manage.py runbot``, and the member's answer is read back from the fake's recorded callbacks
(:func:`tests.fakes.bot_process.outcome`, the same reader the end-to-end tests use).

Each call runs on a fresh event loop through ``async_to_sync``, so the apps' database work
(``bot.interactions.DB`` inline in unit tests, see tests/conftest.py) stays on the test's
thread, inside the test's transaction. The bot and its cache (guild, members, pending views
and modals) live across calls; its HTTP session is opened and closed per call (an aiohttp
session belongs to one loop).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import discord
from asgiref.sync import async_to_sync
from discord.utils import MISSING

from tests.fakes.bot_process import Outcome, outcome
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.discord_gateway import FakeGateway, Guild

# Gateway dispatch name -> discord.py's parser of it (discord/state.py ``parse_<event>``).
PARSERS = {
    "INTERACTION_CREATE": "parse_interaction_create",
    "MESSAGE_CREATE": "parse_message_create",
    "GUILD_MEMBER_ADD": "parse_guild_member_add",
    "GUILD_MEMBER_REMOVE": "parse_guild_member_remove",
    "GUILD_MEMBER_UPDATE": "parse_guild_member_update",
}


class DiscordHarness:
    """One bot with the given apps' ``setup`` functions, in ``guild`` (plus ``other_guilds``),
    answering through the fake REST API ``rest``.

    ``harness.payloads`` is a :class:`FakeGateway` used only for its payload builders (never
    started); ``harness.interact(payload)`` dispatches an INTERACTION_CREATE and returns what the
    member saw (``ask`` also checks it was acknowledged once, ephemerally, and returns its text);
    ``harness.event(name, data)`` dispatches any other gateway event to the listeners;
    ``harness.handle(payload, handler)`` gives one handler the real interaction."""

    def __init__(self, rest: FakeDiscord, guild: Guild, *setups: Callable[[Any], Any],
                 other_guilds: Iterable[Guild] = ()) -> None:
        from bot.runner import GuildOpsBot

        self.rest, self.guild = rest, guild
        self.payloads = FakeGateway(rest, guild)
        self.payloads.loop.close()  # its server is never started: only the payload builders are used
        self.bot = GuildOpsBot()
        for setup in setups:
            setup(self.bot)
        self._guilds: list[Guild] | None = [guild, *other_guilds]
        async_to_sync(self._connected)(_nothing)  # connected: the guilds are cached as they are now

    # -- one connected call ---------------------------------------------------------------
    async def _connected(self, work: Callable[[], Awaitable[Any]]) -> Any:
        """``work()`` with the bot's loop and HTTP session set up on the running loop; on the
        first call the guilds' GUILD_CREATE payloads are parsed into its cache, as on connecting
        (later changes to a :class:`Guild` reach the cache only through gateway events)."""
        bot = self.bot
        await bot._async_setup_hook()  # discord.py's own: binds the client, state and HTTP to this loop
        bot.http.connector = MISSING  # the last call's connector closed with its session
        data = await bot.http.static_login(self.rest.token)  # GET /users/@me on the fake, like Client.login
        state = bot._connection
        state.user = discord.ClientUser(state=state, data=data)
        if self._guilds is not None:
            before = asyncio.all_tasks()
            for guild in self._guilds:
                state.parse_guild_create(guild.create_json(self.payloads.bot))
            self._guilds = None
            # discord.py dispatches guild_available from a task once the members are in: wait
            # for it, so the listeners (the member directory's feed) ran before any test step
            started = asyncio.all_tasks() - before
            if started:
                await asyncio.gather(*started)
        try:
            return await work()
        finally:
            await bot.http.close()

    async def _dispatch(self, event: str, data: dict) -> None:
        """Parse and dispatch like the gateway reader does, then wait for what that started
        (the command tree's invoker, listeners, view/modal dispatch) to finish."""
        before = asyncio.all_tasks()
        getattr(self.bot._connection, PARSERS[event])(data)
        started = asyncio.all_tasks() - before
        if started:
            await asyncio.gather(*started)

    # -- what tests call -------------------------------------------------------------------
    def interact(self, payload: dict) -> Outcome:
        """Dispatch an INTERACTION_CREATE (registered with the REST fake first, as the fake
        gateway does) and return the member's view of the answer."""
        self.rest.issue_interaction(int(payload["id"]), payload["token"])
        async_to_sync(self._connected)(lambda: self._dispatch("INTERACTION_CREATE", payload))
        return outcome(self.rest, payload["token"])

    def ask(self, payload: dict) -> str:
        """:meth:`interact`, asserting Discord's contract (exactly one callback, first) and an
        ephemeral answer; returns its text."""
        result = self.interact(payload)
        assert_acknowledged_once(result)
        assert result.ephemeral, result
        return result.text

    def event(self, event: str, data: dict) -> None:
        """Dispatch a gateway event (``MESSAGE_CREATE``, ``GUILD_MEMBER_ADD``...) to the listeners."""
        async_to_sync(self._connected)(lambda: self._dispatch(event, data))

    def handle(self, payload: dict, handler: Callable[[discord.Interaction], Awaitable[Any]]) -> Outcome:
        """``await handler(interaction)`` with the real interaction discord.py parses from an
        INTERACTION_CREATE ``payload`` (for the reply helper itself, tested beside the tree),
        and return the member's view of the answer."""
        self.rest.issue_interaction(int(payload["id"]), payload["token"])

        async def work() -> None:
            await handler(discord.Interaction(data=payload, state=self.bot._connection))

        async_to_sync(self._connected)(work)
        return outcome(self.rest, payload["token"])


async def _nothing() -> None:
    return None


def assert_acknowledged_once(result: Outcome) -> None:
    """Discord's contract, as the end-to-end tests check it per module: exactly one callback
    per interaction, before any edit or follow-up of it."""
    kinds = [a.kind for a in result.answers]
    assert kinds.count("callback") == 1 and kinds[0] == "callback", kinds
