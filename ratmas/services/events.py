"""Events: create, open sign-ups, update, move through their statuses, complete; and the
event described to a member."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Q

from bot import outbox
from bot.models import OutboxMessage
from ratmas.models import Event, Pairing

from .common import (
    MIN_PARTICIPANTS,
    STATE_WORDS,
    TOPIC_PREFIX,
    TRANSITION_WORDS,
    TRANSITIONS,
    RatmasError,
    Status,
    _announce,
    _lock,
    _mirror,
    _now,
    _ts,
    _validate_dates,
    md,
    parse_local_datetime,
    validate_timezone,
)

# --------------------------------------------------------------------------- events


def validate_event_fields(signup_deadline: dt.datetime, purchase_deadline: dt.datetime, reveal_date: dt.datetime,
                          timezone: str, budget: str, *, new: bool, guild_id: int | None = None) -> dict[str, Any]:
    """The rules of an event's settings, shared by create/update and the admin form (so an
    officer sees the same message on the form as in Discord). Returns the cleaned values."""
    signup, purchase, reveal = _validate_dates(signup_deadline, purchase_deadline, reveal_date)
    budget = (budget or "").strip()
    if len(budget) > 200:
        raise RatmasError("The budget text is limited to 200 characters.")
    if new and signup <= _now():
        raise RatmasError("The signup deadline must be in the future.")
    if new and guild_id is not None and get_active_event(guild_id) is not None:
        raise RatmasError("This server already has a Ratmas in progress; finish or cancel it first.")
    return {"signup_deadline": signup, "purchase_deadline": purchase, "reveal_date": reveal,
            "timezone": validate_timezone(timezone), "budget": budget}


def _event_name(name: str | None) -> str:
    name = " ".join((name or "").split())
    if len(name) > Event._meta.get_field("name").max_length:
        raise RatmasError(f"An event's name is at most {Event._meta.get_field('name').max_length} characters.")
    return name


def create_event(guild_id: int, signup_deadline: dt.datetime, purchase_deadline: dt.datetime,
                 reveal_date: dt.datetime, announcement_channel_id: int | None = None,
                 participant_role_id: int | None = None, managing_role_id: int | None = None,
                 timezone: str = "UTC", budget: str = "", name: str = "") -> Event:
    """Open a new event for signups. One unfinished event per guild (database-enforced)."""
    fields = validate_event_fields(signup_deadline, purchase_deadline, reveal_date, timezone, budget, new=True)
    try:
        with transaction.atomic():
            event = Event.objects.create(
                guild_id=int(guild_id), name=_event_name(name), announcement_channel_id=announcement_channel_id,
                participant_role_id=participant_role_id, managing_role_id=managing_role_id, **fields)
            _announce(event, f"🎄 **Ratmas is open!** Join with `/ratmas join` before {_ts(event.signup_deadline)}. "
                             f"Budget: {event.budget or 'not set'}. Gifts are revealed {_ts(event.reveal_date)}.")
    except IntegrityError:
        raise RatmasError("This server already has a Ratmas in progress; finish or cancel it first.") from None
    return event


def open_signups(guild_id: int, *, may_organise: Callable[[Event | None], bool],
                 signup_deadline: str | None = None, purchase_deadline: str | None = None,
                 reveal_date: str | None = None, time_zone: str = "UTC", budget: str = "",
                 announcement_channel_id: int | None = None, participant_role_id: int | None = None,
                 managing_role_id: int | None = None) -> tuple[Event, bool]:
    """``/ratmas open``: reopen the guild's event, or start one when there is none. The choice
    is made under the guild's event lock, so two organisers can't both create. ``may_organise``
    answers who may act for an event (or, given None, who may start one): Discord roles are
    the caller's to read. Returns the event and whether it was reopened."""
    with transaction.atomic():
        existing = (Event.objects.select_for_update().filter(guild_id=guild_id)
                    .exclude(status__in=Event.FINISHED).first())
        if existing is not None:
            if not may_organise(existing):
                raise RatmasError("Only Ratmas organisers (the managing role or Manage Server) can do that.")
            return set_status(existing, Status.OPEN), True
        if not may_organise(None):
            raise RatmasError("Starting a Ratmas needs the Manage Server permission.")
        if not (signup_deadline and purchase_deadline and reveal_date):
            raise RatmasError("Give the signup deadline, purchase deadline and reveal date.")
        dates = [parse_local_datetime(d, time_zone) for d in (signup_deadline, purchase_deadline, reveal_date)]
        event = create_event(guild_id, *dates, announcement_channel_id=announcement_channel_id,
                             participant_role_id=participant_role_id, managing_role_id=managing_role_id,
                             timezone=time_zone, budget=budget)
        return event, False


def update_event(event: Event, **changes: Any) -> Event:
    """Officers adjust dates, channels, roles, time zone or budget of an unfinished event."""
    editable = {"signup_deadline", "purchase_deadline", "reveal_date", "announcement_channel_id",
                "participant_role_id", "managing_role_id", "timezone", "budget", "name"}
    if "name" in changes:
        changes["name"] = _event_name(changes["name"])
    unknown = set(changes) - editable
    if unknown:
        raise RatmasError(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        locked = _lock(event)
        if locked.is_finished:
            raise RatmasError("A finished event cannot be changed.")
        for name, value in changes.items():
            setattr(locked, name, value)
        cleaned = validate_event_fields(locked.signup_deadline, locked.purchase_deadline, locked.reveal_date,
                                        locked.timezone, locked.budget, new=False)
        for name, value in cleaned.items():
            setattr(locked, name, value)
        locked.save()
    return locked


def get_active_event(guild_id: int) -> Event | None:
    """The guild's unfinished event (there is at most one)."""
    return Event.objects.filter(guild_id=guild_id).exclude(status__in=Event.FINISHED).first()


def _check_transition(event: Event, status: str) -> None:
    if status not in Status.values:
        raise RatmasError(f"Unknown status {status!r}.")
    if status not in TRANSITIONS[event.status]:
        raise RatmasError(f"Cannot {TRANSITION_WORDS[status]}: {STATE_WORDS[event.status]}.")
    participants = event.participants.count()
    if status == Status.MATCHED:
        pairings = event.pairings.count()
        if participants < MIN_PARTICIPANTS or pairings != participants:
            raise RatmasError("Draw the pairings first (`/ratmas match`).")
    if status == Status.NOTIFIED and event.pairings.filter(notified_at__isnull=True).exists():
        raise RatmasError("Not every Santa has received their DM yet.")


def set_status(event: Event, status: str) -> Event:
    """Move the event along its lifecycle (open → locked → matched → notified → completed;
    locked → open; any unfinished → cancelled)."""
    with transaction.atomic():
        locked = _lock(event)
        _check_transition(locked, status)
        locked.status = status
        locked.save(update_fields=["status", "updated_at"])
        if status == Status.LOCKED:
            _announce(locked, f"🔒 Ratmas signups are closed with {locked.participants.count()} participants.")
        elif status == Status.OPEN:
            _announce(locked, f"🔓 Ratmas signups are open again until {_ts(locked.signup_deadline)}.")
        elif status == Status.CANCELLED:
            _withdraw_queued(locked)
            _announce(locked, "❌ This Ratmas was cancelled by the organisers.")
    _mirror(event, locked)
    return locked


def _withdraw_queued(event: Event) -> list[int]:
    """A cancelled event must fall silent: Santa DMs, reminders and relayed messages still
    waiting in the outbox are withdrawn (those already being sent are left alone)."""
    relay_rows = event.relay_messages.filter(outbox_message__isnull=False).values("outbox_message_id")
    pending = (OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING, topic__startswith=TOPIC_PREFIX)
               .filter(Q(dedupe_key__startswith=f"ratmas:{event.pk}:") | Q(pk__in=relay_rows)))
    return outbox.withdraw_pending(list(pending.values_list("pk", flat=True)), reason="Ratmas cancelled")


def complete_event(event: Event, announce: bool = True) -> Event:
    """Close a notified event; its pairings become "last year's" for the next draw."""
    with transaction.atomic():
        locked = _lock(event)
        _check_transition(locked, Status.COMPLETED)
        locked.status = Status.COMPLETED
        locked.save(update_fields=["status", "updated_at"])
        if announce:
            _announce(locked, f"🎁 Ratmas {locked.reveal_date:%Y} is complete — thank you, "
                              f"{locked.participants.count()} Santas!", dedupe_key=f"ratmas:{locked.pk}:completed")
    _mirror(event, locked)
    return locked


# --------------------------------------------------------------------------- describe


def describe_event(event: Event, user_id: int | None = None) -> str:
    """The /ratmas status text (never reveals a pairing to anyone but the Santa)."""
    counts = event.pairings.aggregate(total=Count("pk"), notified=Count("pk", filter=Q(notified_at__isnull=False)))
    lines = [f"**Ratmas {event.reveal_date:%Y}** — {event.get_status_display()}",
             f"Participants: {event.participants.count()} · Budget: {event.budget or 'not set'}",
             f"Signups close {_ts(event.signup_deadline)} · buy by {_ts(event.purchase_deadline)} · "
             f"reveal {_ts(event.reveal_date)}"]
    if counts["total"]:
        lines.append(f"Santas notified: {counts['notified']}/{counts['total']}")
    if user_id is not None:
        me = event.participants.filter(user_id=user_id).first()
        if me is None:
            lines.append("You have not joined.")
        else:
            lines.append(f"You are in as **{md(me.display_name)}**; wishlist: {me.wishlist_url or 'not set'}.")
            mine = Pairing.objects.filter(santa=me, notified_at__isnull=False).select_related("recipient").first()
            if mine:
                lines.append(f"You give to **{md(mine.recipient.display_name)}** "
                             f"(wishlist: {mine.recipient.wishlist_url or 'not set'}).")
    return "\n".join(lines)
