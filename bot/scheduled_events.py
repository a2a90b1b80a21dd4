"""Delivery of the scheduled-event outbox rows (``event_create``, ``event_edit``,
``event_cancel``, ``event_delete``), queued by ``bot.outbox.mirror_event`` / ``cancel_event``.

They ride the outbox's claims, leases, backoff and recording (``bot.delivery``); what differs
from messages is argued here and in bot/README.md ("Scheduled events"):

- **One lane per event.** Rows of one mirrored event (``OutboxMessage.scheduled_event``) go out
  in queue order: ``claim_due`` takes none while an earlier row of the same event is unsettled,
  so an edit never overtakes the create whose answer gives it its target.
- **The target is read at claim time.** Edits are queued before Discord has answered the
  create; ``prepare`` reads the event's Discord id from its ``ScheduledEvent`` (written by the
  create's record, ``on_sent``, in the same transaction) after the claim, before sending.
- **No nonce.** Discord dedupes nothing for scheduled events. A create whose earlier attempt
  may have reached Discord (``uncertain_since``: a timeout, a 5xx, a dropped connection, a
  worker killed with its lease lapsed) first lists the guild's events (``GET
  /guilds/{id}/scheduled-events``) and adopts the bot's own event with the create's name,
  start, end, location and description that no other mirror owns; only if none is there does
  it create. Unlike messages there is no window to trust: the lookup runs on every uncertain
  retry (the list is one request, at most 100 events).
- **Gone is done.** Cancelling or deleting an event Discord no longer knows (10070 Unknown
  Guild Scheduled Event: an officer deleted it by hand) is recorded as done.
"""

from __future__ import annotations

import datetime as dt
import logging

from bot.clients import DiscordFailureError, DiscordRest
from bot.models import OutboxMessage, ScheduledEvent
from bot.outbox import EVENT_KINDS

log = logging.getLogger(__name__)
Kind = OutboxMessage.Kind
UNKNOWN_EVENT = 10070
INVALID_FORM_BODY = 50035
CANCELED = 4  # Guild Scheduled Event Status
CLOCK_SKEW_SECONDS = 60
DISCORD_EPOCH_MS = 1_420_070_400_000


def is_event_row(row: OutboxMessage) -> bool:
    return row.kind in EVENT_KINDS


def prepare(rows: list[OutboxMessage]) -> dict[int, set[int]]:
    """After a claim: give each edit/cancel/delete its target (the event's Discord id, in
    ``row.message_id``; ``None`` if the create never succeeded) and return, for each create
    that will look for an earlier attempt, the Discord ids other mirrors of the guild own."""
    event_rows = [r for r in rows if is_event_row(r)]
    if not event_rows:
        return {}
    mirrors = ScheduledEvent.objects.in_bulk({r.scheduled_event_id for r in event_rows})
    taken: dict[int, set[int]] = {}
    for row in event_rows:
        mirror = mirrors[row.scheduled_event_id]
        if row.kind != Kind.EVENT_CREATE:
            row.message_id = mirror.discord_event_id
        elif row.uncertain_since is not None:
            taken[row.pk] = set(ScheduledEvent.objects.filter(guild_id=row.guild_id, discord_event_id__isnull=False)
                                .exclude(pk=mirror.pk).values_list("discord_event_id", flat=True))
    return taken


def _moment(value: object) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


def is_our_event(event: dict, body: dict, bot_user_id: int | None) -> bool:
    """Is ``event`` (from the guild's list) what this create's body made? The bot created it
    (``creator_id``), and name, start, end, location and description are the body's."""
    if bot_user_id is not None and event.get("creator_id") is not None and str(event["creator_id"]) != str(bot_user_id):
        return False
    metadata = event.get("entity_metadata")
    return (event.get("name") == body["name"]
            and (event.get("description") or "") == body.get("description", "")
            and isinstance(metadata, dict) and metadata.get("location") == body["entity_metadata"]["location"]
            and _moment(event.get("scheduled_start_time")) == _moment(body["scheduled_start_time"])
            and _moment(event.get("scheduled_end_time")) == _moment(body["scheduled_end_time"]))


async def find_earlier_create(api: DiscordRest, row: OutboxMessage, taken: set[int]) -> dict | None:
    """The event an earlier attempt of this create made, if Discord has it: the oldest match
    created since shortly before that attempt that no other mirror owns."""
    since_ms = int((row.uncertain_since - dt.timedelta(seconds=CLOCK_SKEW_SECONDS)).timestamp() * 1000)
    answer = await api.list_scheduled_events(row.guild_id)
    listed = [e for e in answer if isinstance(e, dict) and str(e.get("id", "")).isdigit()] if isinstance(answer, list) else []
    found = [e for e in listed
             if int(e["id"]) not in taken and (int(e["id"]) >> 22) + DISCORD_EPOCH_MS >= since_ms
             and is_our_event(e, row.payload, api.user_id)]
    return min(found, key=lambda e: int(e["id"]), default=None)


async def deliver(api: DiscordRest, row: OutboxMessage, taken: set[int]) -> tuple[dict | None, bool]:
    """Carry out one scheduled-event row: (Discord's answer, whether it was adopted)."""
    reason = row.payload.get("reason", "") if row.kind in (Kind.EVENT_CANCEL, Kind.EVENT_DELETE) else ""
    if row.kind == Kind.EVENT_CREATE:
        if row.uncertain_since is not None:
            found = await find_earlier_create(api, row, taken)
            if found is not None:
                log.info("outbox: #%s adopts scheduled event %s, created by an earlier attempt", row.pk, found["id"])
                return found, True
        return await api.create_scheduled_event(row.guild_id, row.payload), False
    event_id = row.message_id
    if event_id is None:
        if row.kind == Kind.EVENT_EDIT:
            raise DiscordFailureError("the scheduled event was never created (its create failed): nothing to edit",
                                      permanent=True)
        return None, False  # never created: nothing to cancel or delete
    try:
        if row.kind == Kind.EVENT_EDIT:
            return await api.modify_scheduled_event(row.guild_id, event_id, row.payload), False
        if row.kind == Kind.EVENT_CANCEL:
            try:
                return await api.modify_scheduled_event(row.guild_id, event_id, {"status": CANCELED}, reason), False
            except DiscordFailureError as failure:
                if failure.code != INVALID_FORM_BODY:
                    raise  # started meanwhile (ACTIVE cannot become CANCELED): delete it instead
        await api.delete_scheduled_event(row.guild_id, event_id, reason)
        return None, False
    except DiscordFailureError as failure:
        if failure.code == UNKNOWN_EVENT and row.kind in (Kind.EVENT_CANCEL, Kind.EVENT_DELETE):
            return None, False  # already gone from Discord: what we wanted
        raise


def on_sent(sender, message: OutboxMessage, **kwargs) -> None:
    """``outbox_sent`` of a create (in the transaction that records it): the mirror learns the
    event's Discord id, which its later rows target."""
    if message.kind == Kind.EVENT_CREATE and message.sent_message_id:
        ScheduledEvent.objects.filter(pk=message.scheduled_event_id).update(discord_event_id=message.sent_message_id)
