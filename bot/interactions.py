"""How the bot answers members: one reply helper for every app, the database pool behind it,
the global error handler, the button router and the gateway-event lane.

Discord's contract: an interaction must be acknowledged within 3 seconds or the member sees
"This interaction failed"; after that the bot has 15 minutes to edit the answer. So
:func:`respond` starts the work, and if it has not finished after ``DISCORD_DEFER_AFTER``
seconds (0.4 by default) it *defers* (callback type 5, "thinking…") and edits the original
response when the work is done. Quick work is answered with one callback (type 4), slow work
with a callback plus an edit — never late.

Database work never runs on the event loop, nor on asgiref's single thread-sensitive thread
(one thread for the whole bot made a burst of 400 signups wait in one line): it runs on
:data:`DB`, a bounded pool of ``DISCORD_DB_THREADS`` threads, each with its own connection,
with ``close_old_connections`` before and after every job (like a request), so a broken or
expired connection is dropped instead of reused, and nothing leaks at shutdown.

Gateway events (auto-moderation of every message, member updates) use :data:`EVENTS`, their
own threads behind a bounded queue, so a busy chat can never take the threads interactions
need. When the queue is full an event is skipped: logged and counted (``EVENTS.stats``), never
dropped silently.

Failures: a :class:`core.errors.DomainError` is shown to the member as written; anything else
is logged with its traceback and the member gets a plain sentence. Both are ephemeral.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
import discord
from asgiref.sync import sync_to_async
from discord import app_commands
from django.conf import settings
from django.db import close_old_connections, connections
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from bot import vitals
from core import i18n
from core.errors import DomainError
from core.observability import report_exception

log = logging.getLogger(__name__)
T = TypeVar("T")

FAILED = _("Something went wrong on our side; the officers have the details in the logs. Please try again later.")
# What sending an answer may raise: Discord's refusal, or the network (the answer is lost; the
# work is done and logged either way).
SEND_ERRORS = (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError)
ALREADY_ACKNOWLEDGED = 40060  # Discord's JSON error code: the interaction already has its one callback
STALE_BUTTON = _("This button is no longer valid. Use the latest message or the slash command instead.")
STALE_FORM = _("This form is no longer valid; run the command again.")
GUILD_ONLY = _("This command only works in a server, not in direct messages.")
NOT_ALLOWED = _("You are not allowed to use this command.")


class StaleComponentError(DomainError):
    """A button whose custom id no longer leads anywhere (old message, deleted object)."""

    def __init__(self, message: str = STALE_BUTTON) -> None:
        super().__init__(message)


# -- the database pool ---------------------------------------------------------------------------
class DatabasePool:
    """A bounded pool of threads for blocking database work, one connection per thread.

    ``inline`` runs the work on asgiref's thread-sensitive thread instead: only for tests that
    call command bodies inside the test's own transaction (the end-to-end tests run the real
    pool in the ``runbot`` process)."""

    def __init__(self, name: str, size_setting: str) -> None:
        self.name = name
        self.size_setting = size_setting
        self.inline = False
        self._closing = False
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self.in_flight = 0  # jobs submitted and not finished (touched on the event loop only)

    @property
    def size(self) -> int:
        return int(getattr(settings, self.size_setting))

    def executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._closing = False
                self._executor = ThreadPoolExecutor(max_workers=self.size, thread_name_prefix=f"bot-{self.name}")
            return self._executor

    def _job(self, fn: Callable[..., T], args: tuple, kwargs: dict, language: str | None = None) -> T:
        close_old_connections()
        try:
            if language:  # the caller's language (the member's, or the server's for a public answer)
                with translation.override(language):
                    return fn(*args, **kwargs)
            return fn(*args, **kwargs)
        finally:
            if self._closing:
                connections.close_all()
            else:
                close_old_connections()

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if self.inline:
            return await sync_to_async(fn, thread_sensitive=True)(*args, **kwargs)
        loop = asyncio.get_running_loop()
        self.in_flight += 1
        try:
            return await loop.run_in_executor(self.executor(), self._job, fn, args, kwargs, translation.get_language())
        finally:
            self.in_flight -= 1

    @property
    def backlogged(self) -> bool:
        """Every thread is taken: new work will queue, so an answer can't come quickly."""
        return not self.inline and self.in_flight >= self.size

    def shutdown(self) -> None:
        """Drop queued work, let running work finish, close the threads' connections."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is None:
            return
        self._closing = True
        executor.shutdown(wait=True, cancel_futures=True)
        # An idle thread's connection goes with its thread-local state when the thread ends;
        # a thread that was working closes its own (``_job``).


DB = DatabasePool("db", "DISCORD_DB_THREADS")


async def db(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking (database) function on the interaction pool."""
    return await DB.run(fn, *args, **kwargs)


# -- gateway events --------------------------------------------------------------------------------
class EventLane:
    """Gateway events' own threads behind a bounded queue (``DISCORD_EVENT_QUEUE``).

    ``submit`` never waits: the gateway reader must keep reading (heartbeats, interactions).
    Under overload the queue fills, work lags by the queue's length, and once full an event is
    skipped with a warning and counted in ``stats[kind + ':skipped']``."""

    def __init__(self) -> None:
        self.pool = DatabasePool("events", "DISCORD_EVENT_THREADS")
        self.stats: Counter[str] = Counter()
        self.max_lag = 0.0
        self._queue: asyncio.Queue | None = None
        self._workers: list[asyncio.Task] = []

    @property
    def inline(self) -> bool:
        return self.pool.inline

    @inline.setter
    def inline(self, value: bool) -> None:
        self.pool.inline = value

    def _ensure_started(self) -> asyncio.Queue:
        if self._queue is None:
            self._queue = asyncio.Queue(maxsize=settings.DISCORD_EVENT_QUEUE)
            self._workers = [asyncio.create_task(self._work(self._queue), name=f"bot-events-{i}")
                             for i in range(self.pool.size)]
        return self._queue

    async def submit(self, kind: str, fn: Callable[..., Any], *args: Any) -> None:
        if self.inline:
            await self._call(kind, fn, args, time.monotonic())
            return
        queue = self._ensure_started()
        try:
            queue.put_nowait((kind, fn, args, time.monotonic()))
        except asyncio.QueueFull:
            self.stats[f"{kind}:skipped"] += 1
            log.warning("gateway events overloaded: skipped %s %s (queue of %d full; %d %s skipped so far)",
                        kind, args[:1], queue.maxsize, self.stats[f"{kind}:skipped"], kind)
            return
        self.stats[f"{kind}:queued"] += 1

    async def _call(self, kind: str, fn: Callable[..., Any], args: tuple, queued_at: float) -> None:
        lag = time.monotonic() - queued_at
        self.max_lag = max(self.max_lag, lag)
        try:
            await self.pool.run(fn, *args)
            self.stats[f"{kind}:done"] += 1
        except Exception as exc:
            self.stats[f"{kind}:failed"] += 1
            log.exception("gateway event %s failed (after %.1f s in the queue)", kind, lag)
            report_exception(exc, where="bot.gateway_event", event=kind)

    async def _work(self, queue: asyncio.Queue) -> None:
        while True:
            kind, fn, args, queued_at = await queue.get()
            try:
                await self._call(kind, fn, args, queued_at)
            finally:
                queue.task_done()

    @property
    def depth(self) -> int:
        """Events queued and not started yet (``bot.vitals`` serves it as a metric)."""
        return self._queue.qsize() if self._queue is not None else 0

    async def drain(self) -> None:
        if self._queue is not None:
            await self._queue.join()

    async def shutdown(self) -> None:
        for task in self._workers:
            task.cancel()
        queue, self._workers, self._queue = self._queue, [], None
        while queue is not None and not queue.empty():
            kind = queue.get_nowait()[0]
            self.stats[f"{kind}:skipped"] += 1
            self.stats["skipped at shutdown"] += 1
        await asyncio.to_thread(self.pool.shutdown)
        if self.stats:
            log.info("gateway events: %s; longest wait %.1f s", dict(self.stats), self.max_lag)


EVENTS = EventLane()
vitals.watch_event_lane(EVENTS)


# -- answering -------------------------------------------------------------------------------------
@dataclass
class Reply:
    """An answer richer than plain text."""

    content: str | None = None
    embed: discord.Embed | None = None
    allowed_mentions: discord.AllowedMentions | None = None
    view: discord.ui.View | None = None  # buttons, e.g. an ephemeral "are you sure?"

    def kwargs(self) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if self.embed is not None:
            extra["embed"] = self.embed
        if self.view is not None:
            extra["view"] = self.view
        if self.allowed_mentions is not None:
            extra["allowed_mentions"] = self.allowed_mentions
        return extra


def _as_reply(result: str | Reply | None) -> Reply:
    if isinstance(result, Reply):
        return result
    return Reply(content=(result or gettext("Done."))[:2000])


def _describe(interaction: Any) -> str:
    data = getattr(interaction, "data", None) or {}
    what = data.get("name") or data.get("custom_id") or "?"
    return f"interaction {getattr(interaction, 'id', '?')} ({what}) by {getattr(interaction.user, 'id', '?')}"


async def _send(interaction: Any, reply: Reply, *, ephemeral: bool) -> None:
    await interaction.response.send_message(reply.content, ephemeral=ephemeral, **reply.kwargs())


async def respond(interaction: Any, work: Callable[[], Awaitable[str | Reply | None]], *,
                  ephemeral: bool = True) -> None:
    """Run ``work`` and answer with its result within Discord's 3 seconds.

    ``ephemeral`` is decided before the work starts (a deferral fixes it); errors are always
    ephemeral (after a public deferral the "thinking…" message is deleted and the error sent
    as an ephemeral follow-up).

    The work and the answer run in the reader's language (``core.i18n``): an ephemeral answer
    in the member's Discord language (``interaction.locale``), a public one in the server
    language officers chose."""
    language = await answer_language(interaction, ephemeral=ephemeral)
    with translation.override(language):
        await _respond(interaction, work, ephemeral=ephemeral)


async def answer_language(interaction: Any, *, ephemeral: bool = True) -> str:
    """The language of an answer: the member's own for an ephemeral one (if we ship it), else
    the server language (read at most every few seconds, off the event loop)."""
    if ephemeral:
        own = i18n.language_of_locale(getattr(interaction, "locale", None))
        if own:
            return own
    cached = i18n.cached_server_language()
    if cached is not None:
        return cached
    try:
        return await db(i18n.server_language)
    except Exception:  # the database is down: the answer still goes out, in English
        log.exception("the server language could not be read")
        return i18n.SOURCE


async def _respond(interaction: Any, work: Callable[[], Awaitable[str | Reply | None]], *,
                   ephemeral: bool = True) -> None:
    # In a rush (every database thread taken) the work would only queue: acknowledge first, so
    # the acknowledgement never waits behind other members' work.
    wait = 0 if DB.backlogged else settings.DISCORD_DEFER_AFTER
    started, acked_at, answered_at = time.monotonic(), None, None  # for bot.vitals' histograms
    task = asyncio.ensure_future(work())
    deferred = False
    try:
        try:
            result = await asyncio.wait_for(asyncio.shield(task), wait)
        except TimeoutError:
            try:
                await interaction.response.defer(ephemeral=ephemeral, thinking=True)
                deferred, acked_at = True, time.monotonic()
            except SEND_ERRORS as exc:  # expired, already answered, network: finish the work anyway
                log.warning("%s: could not defer (%s)", _describe(interaction), exc)
            result = await task
        reply, failed = _as_reply(result), False
    except DomainError as exc:
        reply, failed = Reply(content=str(exc)[:2000]), True
    except Exception as exc:
        log.exception("%s failed", _describe(interaction))
        report_exception(exc, where="bot.interaction", interaction=_describe(interaction))
        reply, failed = Reply(content=str(FAILED)), True
    try:
        if not deferred:
            await _send(interaction, reply, ephemeral=ephemeral or failed)
        elif failed and not ephemeral:
            await interaction.followup.send(reply.content, ephemeral=True)
            await interaction.delete_original_response()
        else:
            await interaction.edit_original_response(content=reply.content, **reply.kwargs())
        answered_at = time.monotonic()
        acked_at = acked_at or answered_at
    except discord.HTTPException as exc:
        if deferred or exc.code != ALREADY_ACKNOWLEDGED or not await _edit_after_lost_deferral(interaction, reply):
            log.warning("%s: the answer could not be delivered (%s)", _describe(interaction), exc)
        else:
            answered_at = time.monotonic()
    except SEND_ERRORS as exc:
        log.warning("%s: the answer could not be delivered (%s)", _describe(interaction), exc)
    vitals.observe_interaction(started, acked_at, answered_at)
    await remember_member(interaction)


async def _edit_after_lost_deferral(interaction: Any, reply: Reply) -> bool:
    """The deferral reached Discord although its answer never reached us (a timeout or a dropped
    connection under load): Discord shows the member "thinking…" and refuses a second callback
    (40060), so the answer edits that message instead. True when it did."""
    try:
        await interaction.edit_original_response(content=reply.content, **reply.kwargs())
    except SEND_ERRORS as exc:
        log.warning("%s: the answer could not be delivered after a lost deferral (%s)", _describe(interaction), exc)
        return False
    log.info("%s: the deferral had reached Discord; answered by editing it", _describe(interaction))
    return True


async def remember_member(interaction: Any) -> None:
    """Keep the member directory's name of whoever interacted current (after the answer, on
    the event lane: it never delays one). Members who changed their name since the last
    member sync, or who joined since, are then shown by name in the admin."""
    user = getattr(interaction, "user", None)
    name = getattr(user, "name", None)
    if not isinstance(getattr(user, "id", None), int) or not isinstance(name, str) or getattr(user, "bot", False):
        return
    from guildsync.services.members import record_member  # bot carries every app's Discord I/O

    guild_id = getattr(interaction, "guild_id", None)
    in_server = guild_id is not None and (not settings.DISCORD_GUILD_ID or guild_id == settings.DISCORD_GUILD_ID)
    display = getattr(user, "display_name", "")
    locale = getattr(getattr(interaction, "locale", None), "value", "")  # the language of their DMs
    await EVENTS.submit("member_seen", functools.partial(record_member, in_server=in_server,
                                                         locale=locale if isinstance(locale, str) else ""),
                        user.id, name, display if isinstance(display, str) else "")


async def answer(interaction: Any, fn: Callable[..., str | Reply | None], *args: Any, ephemeral: bool = True,
                 **kwargs: Any) -> None:
    """:func:`respond` with one blocking function run on the database pool."""
    await respond(interaction, lambda: db(fn, *args, **kwargs), ephemeral=ephemeral)


async def refuse(interaction: Any, text: str) -> None:
    """An immediate ephemeral "no" (permission checks that need no database)."""
    await respond(interaction, _raise(text))


def _raise(text: str) -> Callable[[], Awaitable[None]]:
    async def work() -> None:
        raise DomainError(text)
    return work


async def choices(fn: Callable[..., list[T]], *args: Any, timeout: float = 2.0) -> list[T]:
    """Autocomplete suggestions from the database. Autocomplete cannot be deferred, so a slow
    or failing lookup offers nothing rather than missing Discord's deadline."""
    try:
        return await asyncio.wait_for(db(fn, *args), timeout)
    except TimeoutError:
        log.warning("autocomplete %s took longer than %.1f s: no suggestions", getattr(fn, "__name__", fn), timeout)
    except Exception:
        log.exception("autocomplete %s failed", getattr(fn, "__name__", fn))
    return []


# -- the global error handler ------------------------------------------------------------------------
def error_text(error: app_commands.AppCommandError) -> tuple[str, bool]:
    """The member's sentence for a command error, and whether it is our fault (log the trace)."""
    if isinstance(error, app_commands.NoPrivateMessage):
        return str(GUILD_ONLY), False
    if isinstance(error, app_commands.MissingPermissions | app_commands.MissingRole | app_commands.MissingAnyRole):
        return str(NOT_ALLOWED), False
    if isinstance(error, app_commands.CheckFailure):
        return str(error) or str(NOT_ALLOWED), False
    if isinstance(error, app_commands.TransformerError):
        return gettext("I could not understand '%(value)s' for this option.") % {"value": str(error.value)[:100]}, False
    if isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
        return gettext("This command is out of date; Discord will offer the current version in a minute."), False
    original = getattr(error, "original", None)
    if isinstance(original, DomainError):
        return str(original), False
    return str(FAILED), True


async def on_tree_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
    """``bot.tree.on_error``: every failure of a command answers the member ephemerally, in
    their language."""
    with translation.override(i18n.language_of_locale(getattr(interaction, "locale", None)) or i18n.SOURCE):
        text, ours = error_text(error)
        text = str(text)
    if ours:
        original = getattr(error, "original", error)
        log.error("%s failed", _describe(interaction), exc_info=original)
        report_exception(original, where="bot.command", interaction=_describe(interaction))
    else:
        log.info("%s refused: %s (%s)", _describe(interaction), text, error.__class__.__name__)
    if interaction.type == discord.InteractionType.autocomplete:
        return
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except SEND_ERRORS as exc:
        log.warning("%s: the error answer could not be delivered (%s)", _describe(interaction), exc)


class CommandTree(app_commands.CommandTree):
    """The bot's command tree. Discord hides server-only commands in DMs, but a stale client
    can still send one: discord.py would run it without a guild (``guild_only`` is only a
    flag for Discord), so it is refused here with :data:`GUILD_ONLY`."""

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.guild_id is not None or interaction.type not in (
                discord.InteractionType.application_command, discord.InteractionType.autocomplete):
            return True
        data = interaction.data or {}
        kind = discord.AppCommandType(int(data.get("type", 1)))
        command = self.get_command(str(data.get("name", "")), type=kind)
        if command is None or not getattr(command, "guild_only", False):
            return True
        log.info("%s refused: a server command used in a DM", _describe(interaction))
        if interaction.type == discord.InteractionType.application_command:
            await refuse(interaction, GUILD_ONLY)
        else:
            await interaction.response.autocomplete([])
        return False


# -- buttons, selects and forms --------------------------------------------------------------------
ButtonHandler = Callable[[discord.Interaction, str], Awaitable[None]]


def claimed_by_discordpy(interaction: discord.Interaction) -> bool:
    """Whether a discord.py ``View``/``Modal`` living in this process will answer this component
    or modal submit (its view store holds an item for the custom id). Read from the store's
    tables, which ``tests/bot/test_gateway.py`` pins against discord.py upgrades."""
    store = interaction._state._view_store
    data = interaction.data or {}
    custom_id = str(data.get("custom_id", ""))
    if interaction.type == discord.InteractionType.modal_submit:
        return custom_id in store._modals
    key = (int(data.get("component_type", 0) or 0), custom_id)
    message_id = interaction.message.id if interaction.message is not None else None
    if key in store._views.get(message_id, {}) or key in store._views.get(None, {}):
        return True
    return any(pattern.fullmatch(custom_id) for pattern in store._dynamic_items)


class ComponentRouter:
    """Routes buttons, selects and modal submits by the app prefix of their custom id
    (``"<app>:<action>:<id>"``), so a form or a button works the same in a process that did not
    open it (after a restart or a deploy). What nobody claims (an old message, a removed
    feature, a form of another process) gets :data:`STALE_BUTTON` (a button) or
    :data:`STALE_FORM` (a select or a modal) instead of "This interaction failed"."""

    def __init__(self) -> None:
        self.handlers: dict[str, ButtonHandler] = {}

    def register(self, prefix: str, handler: ButtonHandler) -> None:
        self.handlers[prefix] = handler

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        if interaction.type not in (discord.InteractionType.component, discord.InteractionType.modal_submit):
            return
        custom_id = str((interaction.data or {}).get("custom_id", ""))
        handler = self.handlers.get(custom_id.split(":", 1)[0])
        if handler is not None:
            await handler(interaction, custom_id)
            return
        if claimed_by_discordpy(interaction) or interaction.response.is_done():
            return
        button = (interaction.type == discord.InteractionType.component
                  and (interaction.data or {}).get("component_type") == discord.ComponentType.button.value)
        log.info("%s: unknown or stale %s", _describe(interaction), "button" if button else "form")
        await refuse(interaction, STALE_BUTTON if button else STALE_FORM)


def form_values(interaction: discord.Interaction) -> dict[str, str]:
    """A modal submit's text inputs by custom id, read from the payload (action rows of inputs,
    or Labels wrapping one input), so a process that did not open the modal can read it."""
    values: dict[str, str] = {}
    stack = list((interaction.data or {}).get("components", []))
    while stack:
        component = stack.pop()
        if not isinstance(component, dict):
            continue
        stack.extend(component.get("components", []) or [])
        if isinstance(component.get("component"), dict):
            stack.append(component["component"])
        if "custom_id" in component and isinstance(component.get("value"), str):
            values[str(component["custom_id"])] = component["value"]
    return values


def register_buttons(bot: Any, prefix: str, handler: ButtonHandler) -> None:
    """What an app's ``setup(bot)`` calls for its buttons, selects and modal submits whose custom
    id starts with ``"<prefix>:"``."""
    bot.components.register(prefix, handler)
