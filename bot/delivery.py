"""Delivery of outbox rows to Discord: concurrent within Discord's limits, safe across crashes.

Three steps, each in its own transaction, so a crash at any point loses nothing:

1. ``claim_due`` marks due rows ``sending`` (``SELECT … FOR UPDATE SKIP LOCKED`` plus a
   conditional update, so two workers never claim the same row), counts the attempt (the
   attempt number is the claim's fencing token), names the run holding it (``claimed_by``) and
   sets a short lease (``next_attempt_at``, ``OUTBOX_LEASE_SECONDS``) that the run renews while
   it lives (see "lease" below).
   A claim takes at most ``ROWS_PER_CHANNEL`` rows of one channel (a channel drains at 5
   messages per 5 s, so more would only wait while other channels could go), skips channels
   another worker holds, and never takes an edit or delete while an earlier row for the same
   message is unsettled, so edits of one message land in the order they were queued.
2. The rows are sent outside any transaction by an event loop on a thread of its own: one
   lane per channel (or DM recipient, or member), lanes concurrent, requests paced by
   ``bot.clients`` (route buckets, a global pace shared through Redis). Channel messages and
   DMs carry a nonce with ``enforce_nonce``. A row whose earlier attempt may have reached
   Discord (``uncertain_since``) longer ago than Discord's nonce window can be trusted
   (``OUTBOX_NONCE_TRUST_SECONDS``) is first looked for in the channel's recent messages
   and, if found, adopted instead of posted again.
3. Each outcome is recorded the moment it arrives (``record_sent`` / ``record_failure``), with
   ``bot.signals.outbox_sent`` / ``outbox_failed`` in the same transaction. A ``sent`` row is
   never touched again; a failure is only recorded by the attempt that still owns the row.

Lease: a ``LeaseKeeper`` thread of the run renews the lease of every row the run holds every
third of ``OUTBOX_LEASE_SECONDS`` (one indexed UPDATE by ``claimed_by``), however long Discord
takes to answer: a slow but alive worker keeps its rows. When the process dies (kill -9, OOM)
its requests die with it and the renewals stop, so its rows are claimable again within one
lease. A request only leaves while the run's last renewal is younger than the lease minus a
margin (``SEND_GATE``), so a run whose renewals stall (its database went away, it was frozen)
stops sending before anyone else may take its rows. A re-claim of a row left ``sending``
marks it uncertain, and step 2's nonce and lookup cover the case where the lost attempt did post.

Stopping: ``STOP`` is set when the worker is told to shut down (Celery's warm shutdown,
``bot.tasks``). The run then claims nothing more and starts no request; requests in flight get
``OUTBOX_STOP_GRACE_SECONDS`` to answer, then are abandoned; every row not sent is given back
at once, with no attempt counted when its write never left, and marked uncertain (the nonce
and the lookup handle it) when it did.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import queue
import socket
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from bot import guard, outbox, scheduled_events
from bot.clients import SEND_GATE, DiscordAuthError, DiscordFailureError, DiscordRest, run_async
from bot.models import OutboxMessage
from bot.signals import outbox_failed, outbox_sent
from core.claims import claim_rows
from core.reports import RunReport

log = logging.getLogger(__name__)
Status = OutboxMessage.Status
Kind = OutboxMessage.Kind

ROWS_PER_CHANNEL = 5
STOP = threading.Event()  # the worker is shutting down (set by bot.tasks on Celery's warm shutdown)
CLOCK_SKEW_SECONDS = 60  # looked-for messages may be this much older than our own clock says
LOOKUP_PAGES = 5  # × 100 messages after the uncertain attempt
MESSAGE_KINDS = (Kind.CHANNEL_MESSAGE, Kind.EDIT_MESSAGE, Kind.DELETE_MESSAGE)
DISCORD_EPOCH_MS = 1_420_070_400_000


@dataclass
class DeliveryReport(RunReport):
    claimed: int = 0  # rows marked "sending" by this run (each claim counts an attempt)
    sent: int = 0  # rows Discord carried out, the adopted ones included
    adopted: int = 0  # of ``sent``: found already posted by an earlier attempt, not posted again
    retrying: int = 0  # failed attempts put back to wait (backoff or Discord's retry_after)
    failed: int = 0  # rows given up: a permanent failure, or OUTBOX_MAX_ATTEMPTS reached
    released: int = 0  # claimed but handed back unsent (token refused, or the run's time ran out)
    errors: list[str] = field(default_factory=list)  # "#<row id>: <failure>" per failed attempt, or why none ran

    def __str__(self) -> str:
        return (f"{self.claimed} claimed, {self.sent} sent ({self.adopted} found already posted), "
                f"{self.retrying} to retry, {self.failed} failed, {self.released} given back unsent")


def backoff(attempts: int) -> dt.timedelta:
    """15 s, 30 s, 1 min, 2 min … capped at one hour."""
    return dt.timedelta(seconds=min(15 * 2 ** max(attempts - 1, 0), 3600))


def row_seconds() -> float:
    """How long one row's requests may take at most (a DM: open the channel, maybe look for
    an earlier attempt, post), after which it is cancelled and counted as a timeout."""
    return 2 * float(settings.DISCORD_HTTP_TIMEOUT)


def lease_seconds() -> float:
    return float(settings.OUTBOX_LEASE_SECONDS)


def lease_margin() -> float:
    """A run sends nothing once its last renewal is older than the lease minus this: room for
    the clocks of two hosts and a request's way to Discord."""
    return min(2.0, lease_seconds() / 5)


def due_filter(now: dt.datetime) -> Q:
    # A row left in "sending" by a worker that died is due again once its lease lapses.
    return Q(status__in=[Status.PENDING, Status.SENDING], next_attempt_at__lte=now)


def lane_of(row: OutboxMessage) -> tuple:
    """Rows of one lane go out one after another: one channel (its rate limit, the order of a
    message's edits), one DM recipient, one member of a guild."""
    if row.kind in MESSAGE_KINDS:
        return ("channel", row.channel_id)
    if row.kind == Kind.DM:
        return ("dm", row.user_id)
    if row.scheduled_event_id is not None:
        return ("event", row.scheduled_event_id)
    return ("member", row.guild_id, row.user_id)


def claim_due(limit: int | None = None, now: dt.datetime | None = None, ids: list[int] | None = None, *,
              own_channels: Iterable[int] = (), owner: str = "") -> list[OutboxMessage]:
    """Claim due rows for one worker (see the module docstring). ``own_channels`` are the
    channels this worker already holds rows of (it may take more of them); ``owner`` names the
    run, whose ``LeaseKeeper`` renews the rows' lease."""
    now = now or timezone.now()
    limit = limit or settings.OUTBOX_BATCH_SIZE
    lease_end = now + dt.timedelta(seconds=lease_seconds())
    held_elsewhere = OutboxMessage.objects.filter(
        status=Status.SENDING, next_attempt_at__gt=now, channel_id=OuterRef("channel_id"),
        kind__in=MESSAGE_KINDS,
    ).exclude(channel_id__in=list(own_channels))
    earlier_unsettled = OutboxMessage.objects.filter(
        status__in=[Status.PENDING, Status.SENDING], channel_id=OuterRef("channel_id"),
        message_id=OuterRef("message_id"), id__lt=OuterRef("id"), kind__in=[Kind.EDIT_MESSAGE, Kind.DELETE_MESSAGE],
    )
    earlier_of_event = OutboxMessage.objects.filter(  # a scheduled event's rows, in queue order
        status__in=[Status.PENDING, Status.SENDING], scheduled_event=OuterRef("scheduled_event"), id__lt=OuterRef("id"))
    candidates = (
        OutboxMessage.objects.filter(due_filter(now))
        .exclude(Q(kind__in=MESSAGE_KINDS) & Exists(held_elsewhere))
        .exclude(Q(kind__in=[Kind.EDIT_MESSAGE, Kind.DELETE_MESSAGE]) & Exists(earlier_unsettled))
        .exclude(Q(scheduled_event__isnull=False) & Exists(earlier_of_event))
    )
    if ids is not None:
        candidates = candidates.filter(id__in=ids)
    per_channel: dict[int, int] = defaultdict(int)
    with transaction.atomic():
        # Lock the candidates (skipping rows another worker is claiming right now, so two
        # workers claiming at once get different rows), pick at most ROWS_PER_CHANNEL per
        # channel, mark those; the locks on the rest end with the transaction.
        locked = claim_rows(candidates).order_by("next_attempt_at", "id")
        picked: dict[str, list[int]] = {Status.PENDING: [], Status.SENDING: []}
        for pk, kind, channel_id, status in locked.values_list("pk", "kind", "channel_id", "status")[: limit * 4]:
            if kind in MESSAGE_KINDS:
                if per_channel[channel_id] >= ROWS_PER_CHANNEL:
                    continue
                per_channel[channel_id] += 1
            picked[status].append(pk)
            if sum(map(len, picked.values())) >= limit:
                break
        claim = {"status": Status.SENDING, "next_attempt_at": lease_end, "attempts": F("attempts") + 1,
                 "claimed_at": now, "claimed_by": owner, "updated_at": now}
        # Conditional updates (still due, same status): no-ops for a row another worker changed
        # meanwhile, which is also the guard on SQLite (no row locks). A row found "sending"
        # lost its worker mid-attempt: it may have posted, so it becomes uncertain.
        OutboxMessage.objects.filter(due_filter(now), pk__in=picked[Status.PENDING], status=Status.PENDING).update(**claim)
        OutboxMessage.objects.filter(due_filter(now), pk__in=picked[Status.SENDING], status=Status.SENDING).update(
            uncertain_since=Coalesce(F("uncertain_since"), F("claimed_at"), F("updated_at")), **claim)
        return list(OutboxMessage.objects.filter(pk__in=picked[Status.PENDING] + picked[Status.SENDING],
                                                 status=Status.SENDING, claimed_at=now).order_by("id"))


# -- sending ------------------------------------------------------------------------------------
@dataclass
class Outcome:
    row: OutboxMessage
    response: dict | None = None
    failure: DiscordFailureError | None = None
    started: bool = True
    adopted: bool = False


async def _send(api: DiscordRest, row: OutboxMessage) -> dict | None:
    p = outbox.payload_of(row)
    if p == outbox.UNREADABLE_PAYLOAD:  # encrypted under a key this server lost: never send the placeholder
        raise DiscordFailureError("its text is encrypted with a FIELD_ENCRYPTION_KEY this server no longer has",
                                  permanent=True)
    reason = p.get("reason", "")
    if row.kind == Kind.CHANNEL_MESSAGE:
        return await api.create_message(row.channel_id, p, nonce=row.nonce)
    if row.kind == Kind.DM:
        return await api.send_dm(row.user_id, p, nonce=row.nonce)
    if row.kind == Kind.EDIT_MESSAGE:
        return await api.edit_message(row.channel_id, row.message_id, p)
    if row.kind == Kind.DELETE_MESSAGE:
        return await api.delete_message(row.channel_id, row.message_id, reason)
    if row.kind in (Kind.ADD_ROLE, Kind.REMOVE_ROLE):
        return await api.set_role(row.guild_id, row.user_id, row.role_id, add=row.kind == Kind.ADD_ROLE,
                                  reason=reason)
    if row.kind == Kind.TIMEOUT_MEMBER:
        return await api.timeout_member(row.guild_id, row.user_id, p.get("until"), reason)
    if row.kind == Kind.KICK_MEMBER:
        return await api.kick_member(row.guild_id, row.user_id, reason)
    if row.kind == Kind.BAN_MEMBER:
        return await api.ban_member(row.guild_id, row.user_id, reason, int(p.get("delete_message_seconds", 0)))
    raise DiscordFailureError(f"unknown outbox kind {row.kind}", permanent=True)


def needs_lookup(row: OutboxMessage, now: dt.datetime) -> bool:
    """A message create whose earlier attempt may have posted, longer ago than the nonce is
    trusted to dedupe (Discord honours ``enforce_nonce`` for "a few minutes")."""
    return (row.kind in (Kind.CHANNEL_MESSAGE, Kind.DM) and row.uncertain_since is not None
            and (now - row.uncertain_since).total_seconds() >= settings.OUTBOX_NONCE_TRUST_SECONDS)


def _snowflake_at(moment: dt.datetime) -> int:
    return max(int(moment.timestamp() * 1000) - DISCORD_EPOCH_MS, 0) << 22


def _embed_key(embed: dict) -> tuple:
    return (embed.get("title") or "", embed.get("description") or "",
            tuple((f.get("name"), f.get("value")) for f in embed.get("fields") or []))


def is_our_message(message: dict, row: OutboxMessage, bot_user_id: int | None) -> bool:
    """Is ``message`` (from the channel's history) this row's earlier attempt? By its nonce
    when Discord shows one; otherwise by author and body. Discord does not keep a message's
    nonce (a fetched message has none), so the body is what identifies it in practice."""
    if bot_user_id is not None and int((message.get("author") or {}).get("id") or 0) != bot_user_id:
        return False
    if message.get("nonce") is not None:
        return str(message["nonce"]) == row.nonce
    body = outbox.payload_of(row)
    return ((message.get("content") or "") == (body.get("content") or "")
            and [_embed_key(e) for e in message.get("embeds") or []] == [_embed_key(e) for e in body.get("embeds") or []])


async def find_earlier_attempt(api: DiscordRest, channel_id: int, row: OutboxMessage,
                               taken: set[int]) -> dict | None:
    """The message an earlier attempt of ``row`` posted, if it is in the channel: the oldest
    match posted since that attempt began that no other row has recorded as its own."""
    after = _snowflake_at(row.uncertain_since - dt.timedelta(seconds=CLOCK_SKEW_SECONDS))
    for _ in range(LOOKUP_PAGES):
        page = await api.recent_messages(channel_id, after=after)
        for message in sorted(page, key=lambda m: int(m["id"])):
            if int(message["id"]) not in taken and is_our_message(message, row, api.user_id):
                return message
        if len(page) < 100:
            return None
        after = max(int(m["id"]) for m in page)
    return None


class RowSend:
    """One row's attempt as the lane runs it: whether its write (the post, edit, role change…)
    has left this process. An attempt abandoned after that has an uncertain outcome."""

    def __init__(self, row: OutboxMessage) -> None:
        self.row = row
        self.wrote = False


async def deliver_one(api: DiscordRest, row: OutboxMessage, taken: set[int] | None = None,
                      now: dt.datetime | None = None, gate: Callable[[bool], None] | None = None) -> Outcome:
    """One row, all its requests bounded by ``row_seconds()``. ``gate`` is asked before each
    request leaves (``bot.clients.SEND_GATE``); a request it or the guard holds back makes the
    row "not started": given back unsent."""
    async def attempt() -> Outcome:
        if scheduled_events.is_event_row(row):
            response, adopted = await scheduled_events.deliver(api, row, taken or set())
            return Outcome(row, response, adopted=adopted)
        if needs_lookup(row, now or timezone.now()):
            channel = row.channel_id if row.kind == Kind.CHANNEL_MESSAGE else await api.dm_channel(row.user_id)
            found = await find_earlier_attempt(api, channel, row, taken or set())
            if found is not None:
                return Outcome(row, found, adopted=True)
        return Outcome(row, await _send(api, row))

    token = SEND_GATE.set(gate)
    try:
        async with asyncio.timeout(row_seconds()):
            return await attempt()
    except DiscordFailureError as failure:
        if failure.held_back:  # never left this process: give it back unsent
            return Outcome(row, started=False)
        return Outcome(row, failure=failure)
    except TimeoutError:
        return Outcome(row, failure=DiscordFailureError("timed out waiting for Discord", maybe_delivered=True))
    finally:
        SEND_GATE.reset(token)


async def _deliver_rows(rows: list[OutboxMessage]) -> list[tuple[OutboxMessage, dict | None, DiscordFailureError | None]]:
    """Send ``rows`` (lanes concurrent, each lane in order) and return the outcomes without
    recording them; for tests that stop between Discord's answer and the record."""
    async with DiscordRest() as api:
        lanes: dict[tuple, list[OutboxMessage]] = defaultdict(list)
        for row in rows:
            lanes[lane_of(row)].append(row)

        async def run(lane: list[OutboxMessage]) -> list[Outcome]:
            return [await deliver_one(api, row) for row in lane]

        done = await asyncio.gather(*(run(lane) for lane in lanes.values()))
    by_id = {o.row.pk: o for lane in done for o in lane}
    return [(row, by_id[row.pk].response, by_id[row.pk].failure) for row in rows]


class LeaseKeeper:
    """Renews the lease of every row its run holds (``claimed_by = owner``), every third of
    ``OUTBOX_LEASE_SECONDS``, on a thread (and database connection) of its own, so neither a
    slow Discord nor a busy event loop delays it. ``holds()`` says whether the run may still
    send: its last renewal (or first claim) is younger than the lease minus ``lease_margin()``."""

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.lease = lease_seconds()
        self.valid_from: float | None = None  # time.monotonic() of the last renewal's start
        self.renewals = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="outbox-lease", daemon=True)

    def claimed(self, started: float) -> None:
        """Rows were claimed by a claim that began at ``started`` (monotonic)."""
        if self.valid_from is None:
            self.valid_from = started
            self.thread.start()

    def holds(self) -> bool:
        return self.valid_from is not None and time.monotonic() < self.valid_from + self.lease - lease_margin()

    def renew(self) -> int:
        started, now = time.monotonic(), timezone.now()
        renewed = OutboxMessage.objects.filter(claimed_by=self.owner, status=Status.SENDING).update(
            next_attempt_at=now + dt.timedelta(seconds=self.lease))
        self.valid_from = started
        self.renewals += 1
        return renewed

    def _run(self) -> None:
        try:
            while not self.stopped.wait(self.lease / 3):
                try:
                    self.renew()
                except DatabaseError as exc:  # the next renewal may succeed; until then holds() decides
                    log.warning("outbox: renewing the leases of %s failed: %s", self.owner, exc)
                    connection.close()
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
        if self.thread.is_alive():
            self.thread.join(timeout=10)


class Sender:
    """The event loop thread of one delivery run: lanes of rows, outcomes to ``results``."""

    def __init__(self, deadline: float, keeper: LeaseKeeper) -> None:
        self.deadline = deadline
        self.keeper = keeper
        self.stopping = threading.Event()  # start nothing more (the worker is shutting down)
        self.results: queue.Queue[Outcome] = queue.Queue()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="outbox-sender", daemon=True)
        self.api = DiscordRest()
        self.lanes: dict[tuple, deque[tuple[OutboxMessage, set[int]]]] = {}
        self.current: dict[tuple, RowSend] = {}
        self.tasks: set[asyncio.Task] = set()
        self.lane_tasks: dict[tuple, asyncio.Task] = {}

    def start(self) -> None:
        self.thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self.api.__aenter__(), self.loop).result()
        except BaseException:
            self.stop()
            raise

    def submit(self, rows: list[tuple[OutboxMessage, set[int]]]) -> None:
        self.loop.call_soon_threadsafe(self._enqueue, rows)

    def _enqueue(self, rows: list[tuple[OutboxMessage, set[int]]]) -> None:
        for row, taken in rows:
            lane = lane_of(row)
            if lane in self.lanes:
                self.lanes[lane].append((row, taken))
            else:
                self.lanes[lane] = deque([(row, taken)])
                task = self.loop.create_task(self._run_lane(lane))
                self.tasks.add(task)
                self.lane_tasks[lane] = task
                task.add_done_callback(self.tasks.discard)

    def gate(self, send: RowSend) -> Callable[[bool], None]:
        def check(write: bool) -> None:
            if self.stopping.is_set():
                raise DiscordFailureError("the worker is shutting down", held_back=True)
            if not self.keeper.holds():
                raise DiscordFailureError("the run's lease on its rows was not renewed in time", held_back=True)
            if write:
                send.wrote = True
        return check

    async def _run_lane(self, lane: tuple) -> None:
        rows = self.lanes[lane]
        try:
            while rows:
                row, taken = rows.popleft()
                if self.stopping.is_set() or time.monotonic() >= self.deadline:
                    self.results.put(Outcome(row, started=False))
                    continue
                send = self.current[lane] = RowSend(row)
                try:
                    outcome = await deliver_one(self.api, row, taken, gate=self.gate(send))
                except Exception as exc:  # a bug must not leave the row unreported
                    log.exception("outbox: delivering #%s failed unexpectedly", row.pk)
                    outcome = Outcome(row, failure=DiscordFailureError(f"internal error: {exc!r}"[:300],
                                                                       maybe_delivered=True))
                del self.current[lane]
                self.results.put(outcome)
        except asyncio.CancelledError:
            # Abandoned (shutdown grace over, or the run ends): report every row of the lane.
            send = self.current.pop(lane, None)
            if send is not None:
                self.results.put(Outcome(send.row, failure=ABANDONED) if send.wrote
                                 else Outcome(send.row, started=False))
            while rows:
                self.results.put(Outcome(rows.popleft()[0], started=False))
            raise
        finally:
            del self.lanes[lane]
            self.lane_tasks.pop(lane, None)

    def stop_sending(self) -> None:
        """Start nothing more (from any thread): lanes whose current row has not written yet
        (it waits for its bucket, a pacing slot or a lookup) are cancelled now and report their
        rows unsent; rows whose write left keep their request until ``abandon``."""
        self.stopping.set()

        def cancel_unwritten() -> None:
            for lane, task in list(self.lane_tasks.items()):
                send = self.current.get(lane)
                if send is None or not send.wrote:
                    task.cancel()
        self.loop.call_soon_threadsafe(cancel_unwritten)

    def abandon(self) -> None:
        """Cancel every lane now (from any thread); each reports its rows."""
        def cancel() -> None:
            for task in list(self.tasks):
                task.cancel()
        self.loop.call_soon_threadsafe(cancel)

    def stop(self, timeout: float = 30) -> None:
        async def close() -> None:
            for task in list(self.tasks):
                task.cancel()
            await asyncio.gather(*self.tasks, return_exceptions=True)
            await self.api.__aexit__()

        if self.thread.is_alive():
            try:
                asyncio.run_coroutine_threadsafe(close(), self.loop).result(timeout=timeout)
            except TimeoutError:
                log.error("outbox: the sender did not close within %.0f s", timeout)
            finally:
                self.loop.call_soon_threadsafe(self.loop.stop)
                self.thread.join(timeout=timeout)
        if not self.thread.is_alive():
            self.loop.close()


ABANDONED = DiscordFailureError("abandoned when the worker stopped: Discord may have carried it out",
                                maybe_delivered=True, retry_after=0.0)


# -- recording ----------------------------------------------------------------------------------
def record_sent(row: OutboxMessage, response: dict | None) -> None:
    """Discord carried it out. Recorded even if the row's lease lapsed meanwhile: it is sent."""
    now = timezone.now()
    with transaction.atomic():
        locked = OutboxMessage.objects.select_for_update().get(pk=row.pk)
        if locked.status == Status.SENT:
            return
        locked.status = Status.SENT
        locked.sent_at = now
        locked.last_error = ""
        locked.last_error_code = None
        if isinstance(response, dict) and response.get("id"):
            locked.sent_message_id = int(response["id"])
            locked.sent_channel_id = int(response.get("channel_id") or row.channel_id or 0) or None
        locked.save()
        outbox_sent.send(sender=OutboxMessage, message=locked)


def record_failure(row: OutboxMessage, failure: DiscordFailureError, report: DeliveryReport) -> None:
    """Record one failed attempt, only if this attempt still owns the row (``attempts`` is the
    claim's token: a newer claim, after a lapsed lease, has its own say)."""
    now = timezone.now()
    with transaction.atomic():
        locked = OutboxMessage.objects.select_for_update().get(pk=row.pk)
        if locked.status != Status.SENDING or locked.attempts != row.attempts:
            return
        locked.last_error = str(failure)[:2000]
        locked.last_error_code = failure.code
        if failure.maybe_delivered and locked.uncertain_since is None:
            locked.uncertain_since = locked.claimed_at or now
        if failure.status == 429:
            locked.attempts -= 1  # held back by a rate limit: not an attempt that failed
        gave_up = not failure.permanent and locked.attempts >= settings.OUTBOX_MAX_ATTEMPTS
        if failure.permanent or gave_up:
            if gave_up:
                locked.last_error = f"gave up after {locked.attempts} attempts: {locked.last_error}"
            locked.status = Status.FAILED
            locked.failed_at = now
            locked.save()
            report.failed += 1
            outbox_failed.send(sender=OutboxMessage, message=locked)
        else:
            wait = (dt.timedelta(seconds=failure.retry_after) if failure.retry_after is not None
                    else backoff(locked.attempts))
            locked.status = Status.PENDING
            locked.next_attempt_at = now + wait
            locked.save()
            report.retrying += 1
    report.errors.append(f"#{row.pk}: {failure}")


def release(rows: list[OutboxMessage], reason: str, wait: dt.timedelta) -> int:
    """Give claimed rows back unsent (token refused, or the run's time was up before their
    turn): not an attempt, due again after ``wait``."""
    released = 0
    for row in rows:
        released += OutboxMessage.objects.filter(pk=row.pk, status=Status.SENDING, attempts=row.attempts).update(
            status=Status.PENDING, next_attempt_at=timezone.now() + wait, attempts=F("attempts") - 1,
            **({"last_error": reason} if reason else {}),
        )
    return released


def _taken_message_ids(rows: list[OutboxMessage]) -> dict[int, set[int]]:
    """For rows that will look for an earlier attempt: message ids other rows already own in
    the same channel / DM (so two identical messages are never both taken for one)."""
    now = timezone.now()
    out: dict[int, set[int]] = {}
    for row in rows:
        if not needs_lookup(row, now):
            continue
        same = OutboxMessage.objects.filter(status=Status.SENT, sent_message_id__isnull=False,
                                            sent_at__gte=row.uncertain_since - dt.timedelta(seconds=CLOCK_SKEW_SECONDS))
        same = same.filter(channel_id=row.channel_id) if row.kind == Kind.CHANNEL_MESSAGE else same.filter(
            kind=Kind.DM, user_id=row.user_id)
        out[row.pk] = set(same.exclude(pk=row.pk).values_list("sent_message_id", flat=True))
    return out


def _record(outcome: Outcome, report: DeliveryReport) -> None:
    if not outcome.started:
        report.released += release([outcome.row], "", dt.timedelta(0))
    elif outcome.failure is None:
        record_sent(outcome.row, outcome.response)
        report.sent += 1
        report.adopted += outcome.adopted
    else:
        record_failure(outcome.row, outcome.failure, report)


def run_owner() -> str:
    """Names one delivery run in ``claimed_by``: the host and process (who to look at) and a
    random part (two runs of one process never share their rows' leases)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _start_sender(sender: Sender, rows: list[OutboxMessage], report: DeliveryReport) -> bool:
    """Open the Discord session (``GET /users/@me``); on failure settle ``rows`` and say so."""
    try:
        sender.start()
        return True
    except DiscordAuthError as exc:
        report.released += release(rows, str(exc), dt.timedelta(minutes=5))
        report.errors.append(str(exc))
        log.error("outbox: %s", exc)
    except DiscordFailureError as failure:  # logging in failed: Discord down, timeout, guard pause
        if failure.held_back:
            report.released += release(rows, str(failure), dt.timedelta(0))
            report.errors.append(str(failure))
        else:
            for row in rows:
                record_failure(row, failure, report)
    return False


def deliver_due(limit: int | None = None, ids: list[int] | None = None,
                budget: float | None = None) -> DeliveryReport:
    """Claim due rows and deliver them until none is due (or ``limit`` rows were claimed, or
    the run's ``budget`` of seconds is spent, or the worker is stopping: ``STOP``). Safe to
    run from any number of workers."""
    report = DeliveryReport()
    if not settings.DISCORD_TOKEN:
        # The embedded demo runs without a bot: messages wait in the outbox (visible in the
        # admin) until a token is configured, without burning attempts.
        report.errors.append("DISCORD_TOKEN is not set: messages wait in the outbox")
        return report
    if STOP.is_set():
        report.errors.append("the worker is shutting down")
        return report
    if (pause := guard.paused()) is not None:
        report.errors.append(pause.reason)
        return report
    budget = float(budget if budget is not None else settings.OUTBOX_RUN_SECONDS)
    deadline = time.monotonic() + budget
    window = min(limit or settings.OUTBOX_BATCH_SIZE, settings.OUTBOX_BATCH_SIZE)
    held: dict[int, OutboxMessage] = {}
    keeper = LeaseKeeper(run_owner())
    sender: Sender | None = None
    stop_at: float | None = None
    abandoned = False
    grace = float(settings.OUTBOX_STOP_GRACE_SECONDS)
    try:
        while True:
            now = time.monotonic()
            if STOP.is_set() and stop_at is None:
                stop_at = now
                log.info("outbox: the worker is stopping; %d row(s) held, giving back what has not left", len(held))
                if sender is not None:
                    sender.stop_sending()
            if stop_at is not None and sender is not None and now - stop_at >= grace and not abandoned:
                sender.abandon()  # requests still in flight: their rows come back uncertain
                abandoned = True
            if stop_at is not None and now - stop_at >= grace + 3:  # the event loop does not answer
                log.error("outbox: %d row(s) unsettled %.0f s after the stop; their lease lapses", len(held),
                          now - stop_at)
                return report
            if now > deadline + row_seconds() + 10:  # the sender is stuck: stop renewing, leases lapse
                log.error("outbox: %d row(s) unsettled after the run's time; their lease lapses", len(held))
                return report
            room = window - len(held)
            if limit is not None:
                room = min(room, limit - report.claimed)
            may_claim = (stop_at is None and room > 0 and now < deadline
                         and (keeper.valid_from is None or keeper.holds()) and guard.paused() is None)
            if may_claim:
                rows = claim_due(limit=room, ids=ids, owner=keeper.owner,
                                 own_channels={r.channel_id for r in held.values() if r.channel_id})
                if rows:
                    keeper.claimed(now)
                    report.claimed += len(rows)
                    if sender is None:
                        sender = Sender(deadline, keeper)
                        if not _start_sender(sender, rows, report):
                            sender = None
                            return report
                    taken = _taken_message_ids(rows) | scheduled_events.prepare(rows)
                    held.update({r.pk: r for r in rows})
                    sender.submit([(r, taken.get(r.pk, set())) for r in rows])
            if not held:
                return report
            try:
                outcome = sender.results.get(timeout=0.2)  # type: ignore[union-attr]
            except queue.Empty:
                continue
            # Record every outcome as it comes (not at the end of a batch), then any others ready.
            while True:
                held.pop(outcome.row.pk, None)
                _record(outcome, report)
                try:
                    outcome = sender.results.get_nowait()  # type: ignore[union-attr]
                except queue.Empty:
                    break
    finally:
        if sender is not None:
            sender.stop(timeout=2 if stop_at is not None else 30)
            while not sender.results.empty():  # lanes cancelled just now report their rows
                outcome = sender.results.get_nowait()
                if held.pop(outcome.row.pk, None) is not None:
                    _record(outcome, report)
        keeper.stop()


def retry_now(queryset) -> int:
    """Officer's "retry now": failed or waiting rows become due immediately. Sent rows are
    never re-sent, withdrawn ones stay withdrawn, and a row being sent is left to its worker."""
    return queryset.exclude(status__in=[Status.SENT, Status.CANCELLED, Status.SENDING]).update(
        status=Status.PENDING, next_attempt_at=timezone.now(), failed_at=None, attempts=0
    )


__all__ = ["DeliveryReport", "claim_due", "deliver_due", "deliver_one", "record_failure", "record_sent",
           "release", "retry_now", "run_async"]
