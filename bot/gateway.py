"""How ``manage.py runbot`` stays on Discord's gateway: one unreadable event costs that event,
never the connection; a lost connection is resumed the way Discord documents it.

**Per-event isolation.** discord.py turns each dispatch (op 0) into objects in a parser of its
``ConnectionState`` (``parse_interaction_create``, ``parse_guild_member_add``...), called by
``DiscordWebSocket.received_message`` from the table ``ConnectionState.parsers``. A payload of
a shape the installed discord.py does not expect (a field Discord added later and discord.py
indexes unconditionally, such as ``attachment_size_limit`` in 2.7, or an older recording
without a field, such as a member without ``flags``) raises out of that parser, out of
``poll_event`` and out of ``Client.connect``: the whole connection goes down for one event.
discord.py offers no hook around its parsers (``on_error`` only covers listeners, which run
*after* parsing, as tasks), so :func:`isolate_parsers` wraps every entry of that table: the
exception is logged once with its traceback and the event type (never the payload: an
interaction carries its token), counted in ``bot.event_stats``, reported to error reporting,
and the event is skipped; the gateway connection reads the next event. An interaction that
could not be read is still answered (an ephemeral sentence), so the member never sees "This
interaction failed". ``tests/bot/test_gateway.py`` fails if a discord.py upgrade stops
reading the table or renames the parsers.

**Reconnecting** (discord-api-docs ``events/gateway.mdx``, "Resuming"; close codes from
``topics/opcodes-and-status-codes.mdx``). :func:`stay_connected` owns the connection loop
instead of ``Client.connect``, whose loop IDENTIFYs again when anything else than a network
error escapes, crashes on a first connection that fails, and backs off up to 17 minutes:

- a lost connection (a resumable close code, a network error, no heartbeat ACK, RECONNECT
  op 7, INVALID_SESSION op 9 with ``d: true``) reconnects to ``resume_gateway_url`` and sends
  RESUME with the session id and the last sequence: Discord replays what was missed;
- only INVALID_SESSION with ``d: false`` starts a new session (IDENTIFY, at the URL the bot
  first connected to), at most one IDENTIFY per 5 seconds (:meth:`GuildOpsBot.before_identify_hook`);
- the old connection is always closed first (with 4000, so the session stays resumable);
- the first reconnect after a healthy connection is immediate; each further one waits longer
  (:class:`Backoff`: jittered, doubling, capped at :data:`MAX_DELAY`); a connection that stayed
  up for one heartbeat interval (~41 s on Discord) counts as healthy and resets the backoff;
- close codes that can never succeed (:data:`FATAL_CLOSES`) stop the bot with a sentence naming
  the fix, raised as :class:`GatewayClosedError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
from collections import Counter
from collections.abc import Callable
from typing import Any

import aiohttp
import discord
from discord.gateway import DiscordWebSocket, ReconnectWebSocket
from discord.http import Route
from django.utils import translation
from django.utils.translation import gettext_lazy

from core.i18n import SOURCE, language_of_locale
from core.observability import report_exception

log = logging.getLogger(__name__)

BASE_DELAY = 1.0  # seconds before the second reconnect in a row (the first is immediate)
MAX_DELAY = 60.0  # the cap of the backoff
CONNECT_TIMEOUT = 60.0  # opening a connection and reading HELLO
UNREADABLE_INTERACTION = gettext_lazy("Discord sent this in a form the bot cannot read yet; the officers have "
                                      "the details in the logs. Please try again later.")

# Close codes after which reconnecting can never succeed, and what the operator must do.
FATAL_CLOSES = {
    4004: "Discord refused the bot's token (close code 4004, authentication failed): copy the bot's token from the "
          "Developer Portal (your application → Bot → Reset Token) into DISCORD_TOKEN and start the bot again.",
    4010: "Discord refused the shard the bot sent (close code 4010, invalid shard): the bot runs one connection "
          "without sharding; remove any shard setting and start the bot again.",
    4011: "Discord requires sharding for this bot (close code 4011, sharding required): it is in too many servers "
          "for one connection; Guild Ops serves one community, so remove the bot from the servers it does not "
          "serve and start the bot again.",
    4012: "Discord refused the gateway version (close code 4012, invalid API version): upgrade discord.py "
          "(pip install -U discord.py) and start the bot again.",
    4013: "Discord refused the bot's intents (close code 4013, invalid intents): the installed discord.py sends "
          "intents Discord does not know; upgrade discord.py and start the bot again.",
    4014: "Discord refused the privileged intents (close code 4014): enable 'Server Members Intent' and 'Message "
          "Content Intent' for the bot in the Developer Portal (your application → Bot → Privileged Gateway "
          "Intents) and start the bot again.",
}
# What counts as an outage (the network or Discord's end), not as a bug of ours.
OUTAGES = (OSError, aiohttp.ClientError, asyncio.TimeoutError, discord.GatewayNotFound, discord.HTTPException,
           discord.ConnectionClosed)


class GatewayClosedError(Exception):
    """Discord closed the connection with a code that no retry can fix; the message says what to do."""


# -- per-event isolation --------------------------------------------------------------------------
def event_stats(bot: Any) -> Counter[str]:
    """The bot's counters of unreadable events and failed listeners (for metrics):
    ``parse_failures`` and ``parse_failures:<EVENT>``, ``listener_failures`` and
    ``listener_failures:<event>``, ``gateway_errors``, ``reconnects``, ``resumes``, ``identifies``."""
    stats = getattr(bot, "event_stats", None)
    if stats is None:
        stats = bot.event_stats = Counter()
    return stats


def isolate_parsers(bot: Any) -> int:
    """Wrap every parser of ``bot``'s connection state (see the module docstring); returns how
    many were wrapped. Idempotent."""
    parsers: dict[str, Callable[[Any], None]] = bot._connection.parsers
    wrapped = 0
    for event, parser in list(parsers.items()):
        if not getattr(parser, "isolated", False):
            parsers[event] = _isolated(bot, event, parser)
            wrapped += 1
    return wrapped


def _isolated(bot: Any, event: str, parser: Callable[[Any], None]) -> Callable[[Any], None]:
    @functools.wraps(parser)
    def parse(data: Any) -> None:
        try:
            parser(data)
        except Exception as exc:
            stats = event_stats(bot)
            stats["parse_failures"] += 1
            stats[f"parse_failures:{event}"] += 1
            what = data.get("id") if isinstance(data, dict) else None
            log.error("gateway event %s%s could not be read by discord.py %s and was skipped "
                      "(%d unreadable event(s) so far)", event, f" {what}" if what else "", discord.__version__,
                      stats["parse_failures"], exc_info=exc)
            report_exception(exc, where="bot.gateway_parse", event=event, discord_py=discord.__version__)
            if event == "INTERACTION_CREATE" and isinstance(data, dict):
                try:
                    task = asyncio.get_running_loop().create_task(answer_unreadable(bot, data))
                except RuntimeError:  # no running loop: parsed outside the gateway reader
                    return
                _pending.add(task)
                task.add_done_callback(_pending.discard)

    parse.isolated = True  # type: ignore[attr-defined]
    return parse


_pending: set[asyncio.Task] = set()


async def answer_unreadable(bot: Any, data: dict) -> None:
    """Answer an interaction discord.py could not read, straight over REST, so the member gets
    a sentence instead of "This interaction failed" (autocomplete gets no suggestions, a
    ping is left alone)."""
    interaction_id, token, kind = data.get("id"), data.get("token"), data.get("type")
    if not isinstance(interaction_id, str | int) or not isinstance(token, str) or kind not in (2, 3, 4, 5):
        return
    with translation.override(language_of_locale(data.get("locale")) or SOURCE):  # the member's language
        text = str(UNREADABLE_INTERACTION)
    body: dict[str, Any] = ({"type": 8, "data": {"choices": []}} if kind == 4 else
                            {"type": 4, "data": {"content": text, "flags": 64}})
    route = Route("POST", "/interactions/{interaction_id}/{interaction_token}/callback",
                  interaction_id=interaction_id, interaction_token=token)
    try:
        await bot.http.request(route, json=body)
        event_stats(bot)["unreadable_interactions_answered"] += 1
    except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as exc:
        log.warning("the unreadable interaction %s could not be answered (%s)", interaction_id, exc)


def listener_failed(bot: Any, event: str, exc: BaseException | None) -> None:
    """``on_error`` of the bot: a listener raised. Logged with its traceback, counted, reported."""
    stats = event_stats(bot)
    stats["listener_failures"] += 1
    stats[f"listener_failures:{event}"] += 1
    log.error("gateway listener %s failed (%d listener failure(s) so far)", event, stats["listener_failures"],
              exc_info=exc)
    if exc is not None:
        report_exception(exc, where="bot.listener", event=event)


# -- reconnecting ---------------------------------------------------------------------------------
class Backoff:
    """Delays between reconnects: 0 for the first after a healthy connection, then
    ``BASE_DELAY · 2^(n-1)`` scaled by a random factor in [0.5, 1) (jitter), at most ``cap``."""

    def __init__(self, base: float = BASE_DELAY, cap: float = MAX_DELAY,
                 rng: Callable[[], float] = random.random) -> None:
        self.base, self.cap, self.rng = base, cap, rng
        self.failures = 0

    def next_delay(self) -> float:
        n, self.failures = self.failures, self.failures + 1
        if n == 0:
            return 0.0
        return min(self.cap, self.base * 2 ** (n - 1)) * (0.5 + self.rng() / 2)

    def reset(self) -> None:
        self.failures = 0


def _heartbeat_interval(ws: DiscordWebSocket) -> float:
    keep_alive = getattr(ws, "_keep_alive", None)
    return float(getattr(keep_alive, "interval", None) or 41.25)


async def _close(ws: DiscordWebSocket | None) -> None:
    """Close a connection we are leaving, with 4000 (not 1000/1001: those end the session)."""
    if ws is None:
        return
    with contextlib.suppress(Exception):
        if ws.open:
            await ws.close(code=4000)
        elif ws._keep_alive is not None:  # the socket is gone; stop its heartbeat thread
            ws._keep_alive.stop()


async def stay_connected(bot: Any, stop: asyncio.Event, *, backoff: Backoff | None = None,
                         say: Callable[[str], None] = log.warning) -> None:
    """Keep ``bot`` (logged in) connected until ``stop`` is set or the bot is closed.

    Raises :class:`GatewayClosedError` on a close code in :data:`FATAL_CLOSES`. ``say``
    receives one line per disconnect (runbot writes them to stderr)."""
    backoff = backoff or Backoff()
    loop = asyncio.get_running_loop()
    stats = event_stats(bot)
    params: dict[str, Any] = {"initial": True, "shard_id": bot.shard_id}
    while not stop.is_set() and not bot.is_closed():
        ws: DiscordWebSocket | None = None
        identify_again = False
        opened_at: float | None = None
        healthy_after = 41.25
        resuming = params.get("session") is not None and params.get("resume", False)
        try:
            ws = await asyncio.wait_for(DiscordWebSocket.from_client(bot, **params), timeout=CONNECT_TIMEOUT)
            bot.ws = ws
            stats["resumes" if resuming else "identifies"] += 1
            params["initial"] = False
            opened_at, healthy_after = loop.time(), _heartbeat_interval(ws)
            while True:
                await ws.poll_event()
        except ReconnectWebSocket as exc:
            what = ("Discord asked the bot to reconnect" if exc.resume else
                    "Discord invalidated the session; identifying again")
            failure, identify_again = None, not exc.resume
        except discord.ConnectionClosed as exc:
            if bot.is_closed() or stop.is_set():
                return
            if exc.code in FATAL_CLOSES:
                raise GatewayClosedError(FATAL_CLOSES[exc.code]) from exc
            what, failure = f"the gateway closed the connection ({exc.code})", exc
        except OUTAGES as exc:
            if bot.is_closed() or stop.is_set():
                return
            what = "gateway unreachable" if ws is None else "gateway connection lost"
            failure = exc
        except Exception as exc:  # a bug (ours or discord.py's) while reading: report it, then resume
            if bot.is_closed() or stop.is_set():
                return
            stats["gateway_errors"] += 1
            log.exception("runbot: unexpected error on the gateway connection; resuming the session")
            report_exception(exc, where="bot.gateway")
            what, failure = "unexpected error on the gateway connection", exc
        finally:
            await _close(ws)
        bot.dispatch("disconnect")
        if bot.is_closed() or stop.is_set():
            return
        if ws is not None:
            params.update(sequence=ws.sequence, session=ws.session_id, gateway=ws.gateway,
                          resume=ws.session_id is not None)
        if identify_again:  # op 9 with d: false: a new session, at the URL the bot first connected to
            params.update(sequence=None, session=None, gateway=None, resume=False)
        if opened_at is not None and loop.time() - opened_at >= healthy_after:
            backoff.reset()
        delay = backoff.next_delay()
        stats["reconnects"] += 1
        detail = f" ({failure.__class__.__name__}: {failure})" if failure is not None else ""
        next_step = "resuming the session" if params.get("resume") else "connecting"
        say(f"runbot: {what}{detail}; {next_step} in {delay:.1f}s")
        if delay:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
