"""Events: create, open sign-ups, update, move through their statuses, complete; and the
event described to a member."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from bot import outbox
from bot.models import OutboxMessage
from core.i18n import number
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
        raise RatmasError(_("The budget text is limited to 200 characters."))
    if new and signup <= _now():
        raise RatmasError(_("The signup deadline must be in the future."))
    if new and guild_id is not None and get_active_event(guild_id) is not None:
        raise RatmasError(_("This server already has a Ratmas in progress; finish or cancel it first."))
    return {"signup_deadline": signup, "purchase_deadline": purchase, "reveal_date": reveal,
            "timezone": validate_timezone(timezone), "budget": budget}


def _event_name(name: str | None) -> str:
    name = " ".join((name or "").split())
    if len(name) > Event._meta.get_field("name").max_length:
        raise RatmasError(_("An event's name is at most %(count)s characters.")
                          % {"count": Event._meta.get_field("name").max_length})
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
            _announce(event, lambda: "🎄 " + _(
                "**Ratmas is open!** Join with `/ratmas join` before %(deadline)s. Budget: %(budget)s. "
                "Gifts are revealed %(reveal)s.") % {"deadline": _ts(event.signup_deadline),
                                                    "budget": event.budget or _("not set"),
                                                    "reveal": _ts(event.reveal_date)})
    except IntegrityError:
        raise RatmasError(_("This server already has a Ratmas in progress; finish or cancel it first.")) from None
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
                raise RatmasError(_("Only Ratmas organisers (the managing role or Manage Server) can do that."))
            return set_status(existing, Status.OPEN), True
        if not may_organise(None):
            raise RatmasError(_("Starting a Ratmas needs the Manage Server permission."))
        if not (signup_deadline and purchase_deadline and reveal_date):
            raise RatmasError(_("Give the signup deadline, purchase deadline and reveal date."))
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
        raise RatmasError(_("These fields cannot be changed: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    with transaction.atomic():
        locked = _lock(event)
        if locked.is_finished:
            raise RatmasError(_("A finished event cannot be changed."))
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
        raise RatmasError(_("Unknown status %(status)s.") % {"status": repr(status)})
    if status not in TRANSITIONS[event.status]:
        raise RatmasError(_("Cannot %(action)s: %(state)s.") % {"action": TRANSITION_WORDS[status],
                                                                 "state": STATE_WORDS[event.status]})
    participants = event.participants.count()
    if status == Status.MATCHED:
        pairings = event.pairings.count()
        if participants < MIN_PARTICIPANTS or pairings != participants:
            raise RatmasError(_("Draw the pairings first (`/ratmas match`)."))
    if status == Status.NOTIFIED and event.pairings.filter(notified_at__isnull=True).exists():
        raise RatmasError(_("Not every Santa has received their DM yet."))


def set_status(event: Event, status: str) -> Event:
    """Move the event along its lifecycle (open → locked → matched → notified → completed;
    locked → open; any unfinished → cancelled)."""
    with transaction.atomic():
        locked = _lock(event)
        _check_transition(locked, status)
        locked.status = status
        locked.save(update_fields=["status", "updated_at"])
        if status == Status.LOCKED:
            count = locked.participants.count()
            _announce(locked, lambda: "🔒 " + ngettext(
                "Ratmas signups are closed with %(count)s participant.",
                "Ratmas signups are closed with %(count)s participants.", count) % {"count": number(count)})
        elif status == Status.OPEN:
            _announce(locked, lambda: "🔓 " + _("Ratmas signups are open again until %(deadline)s.")
                      % {"deadline": _ts(locked.signup_deadline)})
        elif status == Status.CANCELLED:
            _withdraw_queued(locked)
            _announce(locked, lambda: "❌ " + _("This Ratmas was cancelled by the organisers."))
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
            count = locked.participants.count()
            _announce(locked, lambda: "🎁 " + ngettext(
                "Ratmas %(year)s is complete — thank you, %(count)s Santa!",
                "Ratmas %(year)s is complete — thank you, %(count)s Santas!", count)
                % {"year": f"{locked.reveal_date:%Y}", "count": number(count)},
                dedupe_key=f"ratmas:{locked.pk}:completed")
    _mirror(event, locked)
    return locked


# --------------------------------------------------------------------------- describe


def describe_event(event: Event, user_id: int | None = None) -> str:
    """The /ratmas status text (never reveals a pairing to anyone but the Santa)."""
    counts = event.pairings.aggregate(total=Count("pk"), notified=Count("pk", filter=Q(notified_at__isnull=False)))
    lines = [f"**Ratmas {event.reveal_date:%Y}** — {event.get_status_display()}",
             _("Participants: %(count)s · Budget: %(budget)s") % {"count": number(event.participants.count()),
                                                                  "budget": event.budget or _("not set")},
             _("Signups close %(signup)s · buy by %(purchase)s · reveal %(reveal)s")
             % {"signup": _ts(event.signup_deadline), "purchase": _ts(event.purchase_deadline),
                "reveal": _ts(event.reveal_date)}]
    if counts["total"]:
        lines.append(_("Santas notified: %(notified)s/%(total)s") % {"notified": number(counts["notified"]),
                                                                     "total": number(counts["total"])})
    if user_id is not None:
        me = event.participants.filter(user_id=user_id).first()
        if me is None:
            lines.append(_("You have not joined."))
        else:
            lines.append(_("You are in as **%(name)s**; wishlist: %(wishlist)s.")
                         % {"name": md(me.display_name), "wishlist": me.wishlist_url or _("not set")})
            mine = Pairing.objects.filter(santa=me, notified_at__isnull=False).select_related("recipient").first()
            if mine:
                lines.append(_("You give to **%(name)s** (wishlist: %(wishlist)s).")
                             % {"name": md(mine.recipient.display_name),
                                "wishlist": mine.recipient.wishlist_url or _("not set")})
    return "\n".join(lines)
