"""The outbox: how domain services say something in Discord.

Services call these functions inside their own ``transaction.atomic()`` block, so a message
is queued if and only if the state it announces is committed; the delivery task sends it
afterwards. Never call Discord from a service or a view directly.

Payloads are checked against Discord's limits here, at queue time, so an over-long embed is
a clear error in the service that built it, not a silent 400 at delivery.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone, translation

from bot.models import OutboxMessage, ScheduledEvent
from core import jobs
from core.claims import claim_rows
from core.privacy import sealed

log = logging.getLogger(__name__)
Kind = OutboxMessage.Kind

CONTENT_LIMIT = 2000
EMBEDS_LIMIT = 10
EMBEDS_TOTAL_CHARS = 6000
EMBED_LIMITS = {"title": 256, "description": 4096}
FIELDS_LIMIT = 25
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
AUTHOR_NAME_LIMIT = 256
ACTION_ROWS_LIMIT = 5


class OutboxError(ValueError):
    """A message that Discord would refuse, or a queue call outside a transaction."""


def _embed_chars(embed: dict[str, Any]) -> int:
    total = len(embed.get("title", "")) + len(embed.get("description", ""))
    total += len((embed.get("footer") or {}).get("text", "")) + len((embed.get("author") or {}).get("name", ""))
    for field in embed.get("fields", []):
        total += len(field.get("name", "")) + len(field.get("value", ""))
    return total


def validate_message_body(body: dict[str, Any]) -> None:
    content = body.get("content")
    embeds = body.get("embeds") or []
    if content is not None and len(content) > CONTENT_LIMIT:
        raise OutboxError(f"content is {len(content)} characters; Discord allows {CONTENT_LIMIT}.")
    if not content and not embeds and "components" not in body:
        raise OutboxError("a message needs content, embeds or components.")
    if len(embeds) > EMBEDS_LIMIT:
        raise OutboxError(f"{len(embeds)} embeds; Discord allows {EMBEDS_LIMIT} per message.")
    for i, embed in enumerate(embeds):
        for key, limit in EMBED_LIMITS.items():
            if len(embed.get(key, "")) > limit:
                raise OutboxError(f"embed {i}: {key} is over {limit} characters.")
        fields = embed.get("fields", [])
        if len(fields) > FIELDS_LIMIT:
            raise OutboxError(f"embed {i}: {len(fields)} fields; Discord allows {FIELDS_LIMIT}.")
        for field in fields:
            if not field.get("name") or not field.get("value"):
                raise OutboxError(f"embed {i}: a field needs a non-empty name and value.")
            if len(field["name"]) > FIELD_NAME_LIMIT or len(field["value"]) > FIELD_VALUE_LIMIT:
                raise OutboxError(f"embed {i}: field {field['name'][:40]!r} is over the name/value limit.")
        if len((embed.get("footer") or {}).get("text", "")) > FOOTER_LIMIT:
            raise OutboxError(f"embed {i}: footer is over {FOOTER_LIMIT} characters.")
    total = sum(_embed_chars(e) for e in embeds)
    if total > EMBEDS_TOTAL_CHARS:
        raise OutboxError(f"embeds hold {total} characters; Discord allows {EMBEDS_TOTAL_CHARS} per message.")
    if len(body.get("components") or []) > ACTION_ROWS_LIMIT:
        raise OutboxError(f"more than {ACTION_ROWS_LIMIT} rows of buttons.")


def message_body(
    content: str | None = None,
    embeds: list[dict[str, Any]] | None = None,
    components: list[dict[str, Any]] | None = None,
    allowed_mentions: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if content is not None:
        body["content"] = content
    if embeds:
        body["embeds"] = embeds
    if components is not None:
        body["components"] = components
    # Nobody gets pinged by accident unless the caller says so.
    body["allowed_mentions"] = allowed_mentions if allowed_mentions is not None else {"parse": []}
    validate_message_body(body)
    return body


def enqueue(
    kind: str,
    *,
    payload: dict[str, Any] | None = None,
    guild_id: int | None = None,
    channel_id: int | None = None,
    user_id: int | None = None,
    message_id: int | None = None,
    role_id: int | None = None,
    scheduled_event: ScheduledEvent | None = None,
    dedupe_key: str | None = None,
    topic: str = "",
    not_before: dt.datetime | None = None,
    secret: bool = False,
    language: str | None = None,
) -> OutboxMessage:
    """Queue one Discord operation in the caller's transaction.

    With a ``dedupe_key`` the call is idempotent: a second call with the same key returns
    the first row (whatever its status) instead of queuing again. ``secret`` marks a payload
    that only holders of ``ratmas.view_pairings_secret`` may read in the admin (it is still
    delivered whole); it is also encrypted at rest when ``FIELD_ENCRYPTION_KEY`` is set
    (``core.privacy.sealed``): read it with ``payload_of``.
    """
    if not connection.in_atomic_block:
        raise OutboxError("enqueue() must run inside the service's transaction.atomic() block.")
    if kind not in Kind.values:
        raise OutboxError(f"unknown outbox kind {kind!r}.")
    fields = {
        "kind": kind,
        "payload": sealed.seal_payload(payload or {}) if secret else payload or {},
        "guild_id": guild_id,
        "channel_id": channel_id,
        "user_id": user_id,
        "message_id": message_id,
        "role_id": role_id,
        "scheduled_event": scheduled_event,
        "topic": topic,
        "secret": secret,
        "language": language or translation.get_language() or "",  # what the caller rendered the payload in
        "next_attempt_at": not_before or timezone.now(),
    }
    if dedupe_key:
        if len(dedupe_key) > 200:
            raise OutboxError("dedupe_key is limited to 200 characters.")
        row, _created = OutboxMessage.objects.get_or_create(dedupe_key=dedupe_key, defaults=fields)
    else:
        row = OutboxMessage.objects.create(**fields)
    if getattr(settings, "OUTBOX_KICK_ON_COMMIT", True) and not any(
        entry[1] is _kick_delivery for entry in connection.run_on_commit
    ):
        transaction.on_commit(_kick_delivery)  # one kick per transaction, however many messages
    return row


UNREADABLE_PAYLOAD = sealed.UNREADABLE_PAYLOAD


def payload_of(row: OutboxMessage) -> dict[str, Any]:
    """The body as Discord expects it: a secret row's payload decrypted (``core.privacy.sealed``);
    ``UNREADABLE_PAYLOAD`` when its key is gone (delivery then fails the row)."""
    return sealed.unseal_payload(row.payload) if row.secret else row.payload


def _kick_delivery() -> None:
    """Queue the delivery worker by task name (``core.jobs``: the outbox never imports
    ``bot.tasks``, which imports the delivery code that reads the outbox)."""
    try:
        jobs.send("bot.tasks.deliver_outbox_task")
    except jobs.JobQueueUnavailableError as exc:  # broker down: the beat sweep delivers it within a minute
        log.warning("outbox: could not kick delivery (%s); the sweep will deliver", exc)


def post_message(channel_id: int, *, content: str | None = None, embeds=None, components=None,
                 allowed_mentions=None, dedupe_key: str | None = None, topic: str = "",
                 language: str | None = None) -> OutboxMessage:
    """A channel post. ``language``: what it was written in when the caller rendered it outside
    an active language (``core.i18n.post_language``); the active language by default."""
    body = message_body(content, embeds, components, allowed_mentions)
    return enqueue(Kind.CHANNEL_MESSAGE, channel_id=channel_id, payload=body, dedupe_key=dedupe_key, topic=topic,
                   language=language)


def send_dm(user_id: int, *, content: str | None = None, embeds=None, components=None,
            dedupe_key: str | None = None, topic: str = "", secret: bool = False) -> OutboxMessage:
    """A direct message. ``secret=True`` when the text (or the dedupe key) gives away a
    secret such as a Secret Santa pairing: the admin then shows it redacted."""
    body = message_body(content, embeds, components)
    return enqueue(Kind.DM, user_id=user_id, payload=body, dedupe_key=dedupe_key, topic=topic, secret=secret)


def edit_message(channel_id: int, message_id: int, *, content: str | None = None, embeds=None, components=None,
                 dedupe_key: str | None = None, topic: str = "") -> OutboxMessage:
    body = message_body(content, embeds if embeds is not None else [], components)
    if embeds is not None:
        body["embeds"] = embeds  # an empty list clears the embeds on edit
    return enqueue(Kind.EDIT_MESSAGE, channel_id=channel_id, message_id=message_id, payload=body,
                   dedupe_key=dedupe_key, topic=topic)


def delete_message(channel_id: int, message_id: int, *, reason: str = "", dedupe_key: str | None = None,
                   topic: str = "") -> OutboxMessage:
    return enqueue(Kind.DELETE_MESSAGE, channel_id=channel_id, message_id=message_id, payload={"reason": reason},
                   dedupe_key=dedupe_key, topic=topic)


def add_role(guild_id: int, user_id: int, role_id: int, *, reason: str = "", dedupe_key: str | None = None,
             topic: str = "") -> OutboxMessage:
    return enqueue(Kind.ADD_ROLE, guild_id=guild_id, user_id=user_id, role_id=role_id, payload={"reason": reason},
                   dedupe_key=dedupe_key, topic=topic)


def remove_role(guild_id: int, user_id: int, role_id: int, *, reason: str = "", dedupe_key: str | None = None,
                topic: str = "") -> OutboxMessage:
    return enqueue(Kind.REMOVE_ROLE, guild_id=guild_id, user_id=user_id, role_id=role_id,
                   payload={"reason": reason}, dedupe_key=dedupe_key, topic=topic)


def timeout_member(guild_id: int, user_id: int, until: dt.datetime, *, reason: str = "",
                   dedupe_key: str | None = None, topic: str = "") -> OutboxMessage:
    if timezone.is_naive(until):
        raise OutboxError("timeout 'until' must be timezone-aware (UTC).")
    return enqueue(Kind.TIMEOUT_MEMBER, guild_id=guild_id, user_id=user_id,
                   payload={"until": until.astimezone(dt.UTC).isoformat(), "reason": reason},
                   dedupe_key=dedupe_key, topic=topic)


def kick_member(guild_id: int, user_id: int, *, reason: str = "", dedupe_key: str | None = None,
                topic: str = "") -> OutboxMessage:
    return enqueue(Kind.KICK_MEMBER, guild_id=guild_id, user_id=user_id, payload={"reason": reason},
                   dedupe_key=dedupe_key, topic=topic)


def ban_member(guild_id: int, user_id: int, *, reason: str = "", delete_message_seconds: int = 0,
               dedupe_key: str | None = None, topic: str = "") -> OutboxMessage:
    return enqueue(Kind.BAN_MEMBER, guild_id=guild_id, user_id=user_id,
                   payload={"reason": reason, "delete_message_seconds": delete_message_seconds},
                   dedupe_key=dedupe_key, topic=topic)


def rewrite_pending(row_id: int | None, *, content: str | None = None, embeds=None, components=None) -> bool:
    """Coalesce: replace the body of a queued message that no worker has claimed yet, instead
    of queuing another (e.g. several roster changes before one edit goes out). False when the
    row is already being sent or done; the caller then queues a new message."""
    if row_id is None:
        return False
    body = message_body(content, embeds, components)
    return bool(OutboxMessage.objects.filter(pk=row_id, status=OutboxMessage.Status.PENDING).update(
        payload=body, updated_at=timezone.now()))


def withdraw_pending(row_ids, reason: str) -> list[int]:
    """Withdraw queued messages that no worker has claimed yet (a cancelled match's reminders).
    Rows being sent or already sent are left alone; returns the ids actually withdrawn."""
    if not connection.in_atomic_block:
        raise OutboxError("withdraw_pending() must run inside the service's transaction.atomic() block.")
    ids = list(claim_rows(OutboxMessage.objects.filter(pk__in=row_ids, status=OutboxMessage.Status.PENDING))
               .values_list("pk", flat=True))
    OutboxMessage.objects.filter(pk__in=ids).update(
        status=OutboxMessage.Status.CANCELLED, last_error=f"withdrawn: {reason}"[:2000], updated_at=timezone.now()
    )
    return ids


def find(dedupe_key: str) -> OutboxMessage | None:
    """The row queued under ``dedupe_key`` (its status, sent_message_id, last_error), if any."""
    return OutboxMessage.objects.filter(dedupe_key=dedupe_key).first()


def latest_in_series(prefix: str, *, topic: str) -> tuple[int, OutboxMessage | None]:
    """The highest-numbered row queued as ``prefix`` + a number (e.g. ``ark:registration:7:3``,
    the third post of one message) and its number; ``(0, None)`` when there is none. Lets a
    caller number its next repost and adopt a post whose id it lost, without parsing keys."""
    rows = OutboxMessage.objects.filter(dedupe_key__startswith=prefix, topic=topic)
    numbered = [(int(r.dedupe_key[len(prefix):]), r) for r in rows if r.dedupe_key[len(prefix):].isdigit()]
    return max(numbered, key=lambda pair: pair[0], default=(0, None))


def will_never_land(row: OutboxMessage | None) -> bool:
    """True for a message that failed for good or was withdrawn (a caller then queues another)."""
    return row is None or row.status in (OutboxMessage.Status.FAILED, OutboxMessage.Status.CANCELLED)


def is_sending(row_id: int | None) -> bool:
    """True while a worker has claimed the row and is delivering it (it can no longer be
    rewritten, and a follow-up edit should wait so edits land in order)."""
    return bool(row_id) and OutboxMessage.objects.filter(pk=row_id, status=OutboxMessage.Status.SENDING).exists()


# -- scheduled events ---------------------------------------------------------------------------
# Discord's limits (discord-api-docs resources/Guild_Scheduled_Event.md): name 1-100, description
# 1-1000, entity_metadata.location 1-100; an EXTERNAL event (3) needs the location and an end.
EVENT_NAME_LIMIT = 100
EVENT_DESCRIPTION_LIMIT = 1000
EVENT_LOCATION_LIMIT = 100
GUILD_ONLY = 2
EXTERNAL = 3
EVENT_KINDS = (Kind.EVENT_CREATE, Kind.EVENT_EDIT, Kind.EVENT_CANCEL, Kind.EVENT_DELETE)


def _fit(text: str, limit: int, what: str) -> str:
    text = " ".join((text or "").split()) if what != "description" else (text or "").strip()
    if not text:
        raise OutboxError(f"a scheduled event needs a {what}.")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def event_body(name: str, description: str, location: str, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """The JSON of an EXTERNAL, server-only scheduled event, cut to Discord's lengths."""
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise OutboxError("a scheduled event's start and end must be timezone-aware (UTC).")
    if end <= start:
        raise OutboxError("a scheduled event must end after it starts.")
    return {
        "name": _fit(name, EVENT_NAME_LIMIT, "name"),
        "description": _fit(description, EVENT_DESCRIPTION_LIMIT, "description"),
        "privacy_level": GUILD_ONLY,
        "entity_type": EXTERNAL,
        "channel_id": None,
        "entity_metadata": {"location": _fit(location, EVENT_LOCATION_LIMIT, "location")},
        "scheduled_start_time": start.astimezone(dt.UTC).isoformat(),
        "scheduled_end_time": end.astimezone(dt.UTC).isoformat(),
    }


def _event_rows(mirror: ScheduledEvent, kind: str):
    return OutboxMessage.objects.filter(scheduled_event=mirror, kind=kind).order_by("-id")


def _never_attempted(row: OutboxMessage | None) -> bool:
    """Queued, never claimed, never uncertain: nothing of it can have reached Discord."""
    return (row is not None and row.status == OutboxMessage.Status.PENDING and row.attempts == 0
            and row.uncertain_since is None)


def mirror_event(source: str, *, guild_id: int, name: str, description: str, location: str,
                 start: dt.datetime, end: dt.datetime, topic: str, now: dt.datetime | None = None
                 ) -> OutboxMessage | None:
    """Keep ``source`` (e.g. ``"raids.raidevent:12"``) mirrored as a scheduled event of the
    server ``guild_id``: the first call queues its create, later calls an edit with the whole
    state (idempotent: a retried or rewritten edit says the same). Returns the row queued (or
    rewritten), ``None`` when there is nothing to send: the event already started (Discord takes
    no past start, and an EXTERNAL event that started is ACTIVE), it was cancelled (for good:
    Discord cannot bring a CANCELED event back) or nothing changed."""
    if not connection.in_atomic_block:
        raise OutboxError("mirror_event() must run inside the service's transaction.atomic() block.")
    now = now or timezone.now()
    body = event_body(name, description, location, start, end)
    mirror = ScheduledEvent.objects.select_for_update().filter(source=source).first()
    if start <= now or (mirror is not None and mirror.state != ScheduledEvent.State.SCHEDULED):
        return None  # started, or cancelled for good (Discord cannot bring a CANCELED event back either)
    if mirror is None:
        mirror = ScheduledEvent.objects.create(source=source, guild_id=guild_id, name=body["name"], starts_at=start)
    mirror.name, mirror.starts_at = body["name"], start
    mirror.save()
    create = _event_rows(mirror, Kind.EVENT_CREATE).first()
    if mirror.discord_event_id is None and (create is None or will_never_land(create)):
        return enqueue(Kind.EVENT_CREATE, guild_id=mirror.guild_id, scheduled_event=mirror, payload=body, topic=topic)
    if _never_attempted(create):  # not tried yet: the create says it all (a lookup compares its body)
        OutboxMessage.objects.filter(pk=create.pk).update(payload=body, updated_at=timezone.now())
        return create
    edit = _event_rows(mirror, Kind.EVENT_EDIT).first()
    if edit is not None and edit.status == OutboxMessage.Status.PENDING:  # a whole-state PATCH: rewrite it
        OutboxMessage.objects.filter(pk=edit.pk, status=OutboxMessage.Status.PENDING).update(
            payload=body, updated_at=timezone.now())
        return edit
    if edit is None and create.payload == body or edit is not None and edit.payload == body:
        return None
    return enqueue(Kind.EVENT_EDIT, guild_id=mirror.guild_id, scheduled_event=mirror, payload=body, topic=topic)


def cancel_event(source: str, *, topic: str, remove: bool = False, reason: str = "",
                 now: dt.datetime | None = None) -> OutboxMessage | None:
    """The mirrored thing was cancelled (``remove``: deleted): cancel its scheduled event
    (``PATCH status=4``, CANCELED), or delete it when ``remove`` or when it already started
    (an EXTERNAL event is ACTIVE from its start, and ACTIVE cannot become CANCELED). A create
    that was never attempted is withdrawn instead: Discord never hears of the event."""
    if not connection.in_atomic_block:
        raise OutboxError("cancel_event() must run inside the service's transaction.atomic() block.")
    now = now or timezone.now()
    mirror = ScheduledEvent.objects.select_for_update().filter(source=source).first()
    if mirror is None or mirror.state != ScheduledEvent.State.SCHEDULED:
        return None
    mirror.state = ScheduledEvent.State.DELETED if remove else ScheduledEvent.State.CANCELLED
    mirror.save(update_fields=["state", "updated_at"])
    pending = OutboxMessage.objects.filter(scheduled_event=mirror, status=OutboxMessage.Status.PENDING)
    withdraw_pending(list(pending.filter(kind=Kind.EVENT_EDIT).values_list("pk", flat=True)), "the event was cancelled")
    create = _event_rows(mirror, Kind.EVENT_CREATE).first()
    if _never_attempted(create):
        withdraw_pending([create.pk], "the event was cancelled before it was created")
        return None
    kind = Kind.EVENT_DELETE if remove or mirror.starts_at <= now else Kind.EVENT_CANCEL
    return enqueue(kind, guild_id=mirror.guild_id, scheduled_event=mirror, payload={"reason": reason}, topic=topic)


def discord_timestamp(moment: dt.datetime, style: str = "F") -> str:
    """Discord's time markup: each reader sees the moment in their own time zone."""
    return f"<t:{int(moment.timestamp())}:{style}>"
