"""The outbox's part of the privacy registry (core/privacy): messages to a member, and
messages that quote them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from bot import outbox
from bot.models import OutboxMessage
from core.privacy import ANONYMISED, ERASED, KEPT, TOMBSTONE_ID, AppPart, ForgetContext, Holds, sealed

Status = OutboxMessage.Status
REDACTED = {"content": "(removed: the member this was for asked to be forgotten)"}


def export(member: int) -> dict[str, Any]:
    rows = OutboxMessage.objects.filter(user_id=member).order_by("created_at")
    return {"messages_to_them": [
        {"kind": row.kind, "status": row.status, "queued_at": row.created_at.isoformat(),
         "sent_at": row.sent_at.isoformat() if row.sent_at else None,
         "content": None if row.secret else row.payload.get("content"),
         "note": "a Secret Santa message: its text is in the Ratmas part" if row.secret else ""}
        for row in rows]}


def _quoting(ctx: ForgetContext):
    """Rows to the member, or whose payload, error or dedupe key mention them (id, mention or a name).
    Encrypted payloads (``core.privacy.sealed``) cannot be searched in SQL: they are all read and checked."""
    text = Cast("payload", TextField())
    condition = Q(user_id=ctx.needles.member_id) | Q(secret=True, payload__has_key=sealed.PAYLOAD_KEY)
    for term in ctx.needles.search_terms():
        condition |= Q(payload_text__icontains=term) | Q(dedupe_key__icontains=term) | Q(last_error__icontains=term)
    return OutboxMessage.objects.annotate(payload_text=text).filter(condition)


def forget(member: int, ctx: ForgetContext) -> dict[str, Any]:
    to_them = OutboxMessage.objects.filter(user_id=member)
    cancelled = outbox.withdraw_pending(to_them.filter(status=Status.PENDING).values_list("pk", flat=True),
                                        "the member asked to be forgotten")
    failed = to_them.filter(status=Status.FAILED).update(status=Status.CANCELLED, updated_at=timezone.now())
    redacted = 0
    # A row a worker is sending right now is left to that worker; forgetting again (or the
    # outbox retention) redacts it once it is settled.
    for row in _quoting(ctx).exclude(status=Status.SENDING).select_for_update(of=("self",)):
        to_member = row.user_id == member
        body = outbox.payload_of(row)
        payload = dict(REDACTED) if to_member else ctx.needles.json(body)
        key = row.dedupe_key.replace(str(member), f"forgotten-{row.pk}") if row.dedupe_key else row.dedupe_key
        if payload == body and key == row.dedupe_key and not ctx.needles.found_in(row.last_error):
            continue
        row.payload = sealed.seal_payload(payload) if row.secret else payload
        row.dedupe_key, row.last_error = key, ctx.needles.text(row.last_error)
        row.save(update_fields=["payload", "dedupe_key", "last_error", "updated_at"])
        redacted += 1
    repointed = to_them.exclude(status=Status.SENDING).update(user_id=TOMBSTONE_ID)
    return {ERASED: {"pending_messages_cancelled": len(cancelled) + failed},
            ANONYMISED: {"messages_redacted": redacted, "messages_to_them_repointed": repointed},
            KEPT: {}}


def retention(now: dt.datetime, dry_run: bool) -> dict[str, int]:
    """Settled messages (sent, failed, withdrawn) older than RETENTION_OUTBOX_DAYS are deleted
    with their payloads; references to them (Santa DMs, Ark posts, reminders) become empty."""
    from core.privacy.retention import purge

    cutoff = now - dt.timedelta(days=settings.RETENTION_OUTBOX_DAYS)
    settled = OutboxMessage.objects.filter(status__in=[Status.SENT, Status.FAILED, Status.CANCELLED],
                                           updated_at__lt=cutoff)
    return {"settled_messages": purge(settled, dry_run=dry_run)}


PART = AppPart(
    app="bot",
    retention=retention,
    retention_rules=("Messages to Discord, once sent (or given up or withdrawn), are deleted with their text after "
                     "RETENTION_OUTBOX_DAYS days.",),
    order=90,  # last: also redacts what the other apps' erasure queued about them
    holds=(
        Holds("bot.OutboxMessage", ("user_id", "payload", "dedupe_key", "last_error"), ANONYMISED,
              "Messages still waiting to be sent to them are cancelled. The stored text of messages sent to them "
              "is removed, their id in the delivery record becomes the tombstone account, and other messages that "
              "mention or name them have that mention or name replaced by 'a forgotten member'. Sent messages' "
              "records are deleted after OUTBOX_RETENTION_DAYS anyway."),
    ),
    export=export,
    forget=forget,
)
