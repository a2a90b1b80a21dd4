"""Delivery of outbox rows to Discord.

The three steps each run in their own transaction, so a crash at any point loses nothing
and sends nothing twice:

1. ``claim_due`` marks due rows ``sending`` with a lease (``next_attempt_at`` = lease end),
   using ``SELECT … FOR UPDATE SKIP LOCKED`` plus a conditional update, so two workers never
   claim the same row.
2. The rows are sent to Discord, outside any transaction. Channel messages and DMs carry a
   nonce with ``enforce_nonce``: if a worker dies after Discord accepted a message but before
   step 3, the row is reclaimed when its lease lapses and Discord returns the first message
   instead of posting again.
3. ``record_*`` stores the outcome and fires ``bot.signals.outbox_sent``/``outbox_failed``
   in the same transaction, so domain state that depends on it moves with it. A row that is
   ``sent`` is never touched again.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from bot.clients import DiscordAuthError, DiscordFailure, DiscordRest, run_async
from bot.models import OutboxMessage
from bot.signals import outbox_failed, outbox_sent

log = logging.getLogger(__name__)
Status = OutboxMessage.Status
Kind = OutboxMessage.Kind


@dataclass
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.claimed} claimed, {self.sent} sent, {self.retrying} to retry, {self.failed} failed"


def backoff(attempts: int) -> dt.timedelta:
    """15 s, 30 s, 1 min, 2 min … capped at one hour."""
    return dt.timedelta(seconds=min(15 * 2 ** max(attempts - 1, 0), 3600))


def due_filter(now: dt.datetime) -> Q:
    # A row left in "sending" by a worker that died is due again once its lease lapses.
    return Q(status__in=[Status.PENDING, Status.SENDING], next_attempt_at__lte=now)


def claim_due(limit: int | None = None, now: dt.datetime | None = None, ids: list[int] | None = None) -> list[OutboxMessage]:
    now = now or timezone.now()
    limit = limit or settings.OUTBOX_BATCH_SIZE
    lease_end = now + dt.timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    claimed: list[OutboxMessage] = []
    with transaction.atomic():
        candidates = OutboxMessage.objects.select_for_update(skip_locked=True).filter(due_filter(now))
        if ids is not None:
            candidates = candidates.filter(id__in=ids)
        for row in candidates.order_by("next_attempt_at", "id")[:limit]:
            # Conditional update: a no-op if another worker changed the row meanwhile
            # (the guard that also holds on SQLite, which has no row locks).
            won = OutboxMessage.objects.filter(
                id=row.id, status=row.status, next_attempt_at=row.next_attempt_at
            ).update(status=Status.SENDING, next_attempt_at=lease_end, attempts=F("attempts") + 1, updated_at=now)
            if won:
                row.refresh_from_db()
                claimed.append(row)
    return claimed


async def _send(api: DiscordRest, row: OutboxMessage) -> dict | None:
    p = row.payload
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
    raise DiscordFailure(f"unknown outbox kind {row.kind}", permanent=True)


def record_sent(row: OutboxMessage, response: dict | None) -> None:
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


def record_failure(row: OutboxMessage, failure: DiscordFailure, report: DeliveryReport) -> None:
    now = timezone.now()
    with transaction.atomic():
        locked = OutboxMessage.objects.select_for_update().get(pk=row.pk)
        if locked.status in (Status.SENT, Status.FAILED):
            return
        locked.last_error = str(failure)[:2000]
        locked.last_error_code = failure.code
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
            wait = dt.timedelta(seconds=failure.retry_after) if failure.retry_after else backoff(locked.attempts)
            locked.status = Status.PENDING
            locked.next_attempt_at = now + wait
            locked.save()
            report.retrying += 1
    report.errors.append(f"#{row.pk}: {failure}")


def release(rows: list[OutboxMessage], reason: str, wait: dt.timedelta) -> None:
    """Give claimed rows back untouched (the token was refused: not the rows' fault)."""
    OutboxMessage.objects.filter(pk__in=[r.pk for r in rows], status=Status.SENDING).update(
        status=Status.PENDING, next_attempt_at=timezone.now() + wait, last_error=reason,
        attempts=F("attempts") - 1,
    )


async def _deliver_rows(rows: list[OutboxMessage]) -> list[tuple[OutboxMessage, dict | None, DiscordFailure | None]]:
    results = []
    async with DiscordRest() as api:
        for row in rows:
            try:
                results.append((row, await _send(api, row), None))
            except DiscordFailure as failure:
                results.append((row, None, failure))
    return results


def deliver_due(limit: int | None = None, ids: list[int] | None = None) -> DeliveryReport:
    """Claim due rows and deliver them. Safe to run from any number of workers at once."""
    report = DeliveryReport()
    if not settings.DISCORD_TOKEN:
        # The embedded demo runs without a bot: messages wait in the outbox (visible in the
        # admin) until a token is configured, without burning attempts.
        report.errors.append("DISCORD_TOKEN is not set: messages wait in the outbox")
        return report
    rows = claim_due(limit=limit, ids=ids)
    report.claimed = len(rows)
    if not rows:
        return report
    try:
        results = run_async(lambda: _deliver_rows(rows))
    except DiscordAuthError as exc:
        release(rows, str(exc), dt.timedelta(minutes=5))
        report.errors.append(str(exc))
        log.error("outbox: %s", exc)
        return report
    except DiscordFailure as failure:  # login itself failed (Discord down, timeout)
        for row in rows:
            record_failure(row, failure, report)
        return report
    for row, response, failure in results:
        if failure is None:
            record_sent(row, response)
            report.sent += 1
        else:
            record_failure(row, failure, report)
    return report


def retry_now(queryset) -> int:
    """Officer's "retry now": failed or waiting rows become due immediately. Sent rows are
    never re-sent, and withdrawn ones stay withdrawn."""
    return queryset.exclude(status__in=[Status.SENT, Status.CANCELLED]).update(
        status=Status.PENDING, next_attempt_at=timezone.now(), failed_at=None, attempts=0
    )
