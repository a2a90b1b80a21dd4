"""Ratmas operations: the only code that writes Ratmas tables.

Each public function is one ``transaction.atomic()`` block that locks the event row first
(``select_for_update``), validates, writes, and queues its Discord messages in the outbox in
the same transaction. Errors are :class:`RatmasError` with a message that can be shown to
an organiser or a member as is.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import zoneinfo
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from bot import outbox
from bot.models import OutboxMessage
from core.errors import DomainError
from core.reports import RunReport
from ratmas import matching
from ratmas.models import Event, Exclusion, Pairing, Participant, RelayMessage, ScheduledSend

log = logging.getLogger(__name__)
Status = Event.Status

TOPIC_PREFIX = "ratmas."
TOPIC_SANTA_DM = "ratmas.santa_dm"
TOPIC_RELAY = "ratmas.relay"
TOPIC_RELAY_BOUNCE = "ratmas.relay_bounce"
TOPIC_ANNOUNCE = "ratmas.announce"
TOPIC_REMINDER = "ratmas.reminder"

MIN_PARTICIPANTS = 3
RELAY_LIMIT = 5  # anonymous messages per user ...
RELAY_WINDOW = dt.timedelta(hours=1)  # ... per sliding hour
RELAY_MAX_CHARS = 1500
EXPORT_FORMAT = "guildops.ratmas/1"

# Allowed lifecycle moves. Anything else is refused with a message.
TRANSITIONS: dict[str, set[str]] = {
    Status.OPEN: {Status.LOCKED, Status.CANCELLED},
    Status.LOCKED: {Status.OPEN, Status.MATCHED, Status.CANCELLED},
    Status.MATCHED: {Status.NOTIFIED, Status.CANCELLED},
    Status.NOTIFIED: {Status.COMPLETED, Status.CANCELLED},
    Status.COMPLETED: set(),
    Status.CANCELLED: set(),
}

# (kind, deadline attribute, how long before, statuses in which it applies, until (next reminder))
REMINDERS = (
    (ScheduledSend.Kind.SIGNUP_72H, "signup_deadline", dt.timedelta(hours=72), dt.timedelta(hours=24), (Status.OPEN,)),
    (ScheduledSend.Kind.SIGNUP_24H, "signup_deadline", dt.timedelta(hours=24), dt.timedelta(0), (Status.OPEN,)),
    (ScheduledSend.Kind.PURCHASE_72H, "purchase_deadline", dt.timedelta(hours=72), dt.timedelta(hours=24),
     (Status.MATCHED, Status.NOTIFIED)),
    (ScheduledSend.Kind.PURCHASE_24H, "purchase_deadline", dt.timedelta(hours=24), dt.timedelta(0),
     (Status.MATCHED, Status.NOTIFIED)),
)
REVEAL_GRACE = dt.timedelta(days=3)  # a reveal missed by more than this is not announced late


class RatmasError(DomainError):
    """A Ratmas rule was broken; the message is shown to the person who acted."""


# --------------------------------------------------------------------------- helpers


def _lock(event: Event | int) -> Event:
    pk = event.pk if isinstance(event, Event) else event
    try:
        return Event.objects.select_for_update().get(pk=pk)
    except Event.DoesNotExist:
        raise RatmasError("This Ratmas event no longer exists.") from None


def _mirror(target: Event, source: Event) -> None:
    """Keep the caller's instance in step with the row we changed."""
    if isinstance(target, Event) and target is not source:
        target.status = source.status
        target.updated_at = source.updated_at


def _require(event: Event, *statuses: str, action: str) -> None:
    if event.status not in statuses:
        raise RatmasError(f"Cannot {action}: the event is {event.status} (needs: {' or '.join(statuses)}).")


def validate_timezone(name: str) -> str:
    name = (name or "").strip()
    try:
        if not name or name.startswith("/") or ".." in name:
            raise ValueError(name)
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise RatmasError(f"{name!r} is not a time zone; use an IANA name such as Europe/Berlin or UTC.") from None
    return name


def validate_wishlist(url: str | None) -> str:
    url = (url or "").strip()
    if not url:
        return ""
    if len(url) > 500:
        raise RatmasError("The wishlist link is too long (500 characters at most).")
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise RatmasError("The wishlist must be an http:// or https:// link.") from None
    return url


def _aware(value: dt.datetime, label: str) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise RatmasError(f"The {label} must be a date and time.")
    if timezone.is_naive(value):
        raise RatmasError(f"The {label} needs a time zone.")
    return value.astimezone(dt.UTC)


def _validate_dates(signup: dt.datetime, purchase: dt.datetime, reveal: dt.datetime) -> tuple:
    signup, purchase, reveal = (_aware(signup, "signup deadline"), _aware(purchase, "purchase deadline"),
                                _aware(reveal, "reveal date"))
    if not signup <= purchase <= reveal:
        raise RatmasError("Dates must be in order: signup deadline ≤ purchase deadline ≤ reveal date.")
    return signup, purchase, reveal


def parse_local_datetime(text: str, tz_name: str = "UTC") -> dt.datetime:
    """``YYYY-MM-DD HH:MM`` read in the event's time zone, returned in UTC: organisers type
    local times, the database keeps UTC."""
    tz = zoneinfo.ZoneInfo(validate_timezone(tz_name))
    try:
        naive = dt.datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")  # noqa: DTZ007 (local; zone set below)
    except ValueError:
        raise RatmasError(f"{text!r} is not a date and time; write it as YYYY-MM-DD HH:MM.") from None
    return naive.replace(tzinfo=tz).astimezone(dt.UTC)


def _clean_name(display_name: str) -> str:
    name = " ".join((display_name or "").split())[:100]
    if not name:
        raise RatmasError("A display name is required.")
    return name


MARKDOWN_CHARS = frozenset("\\*_~`|><[]")
ERROR_SHOWN_CHARS = 300  # of Discord's error text, quoted in reports (a message holds 2000)


def md(text: str) -> str:
    """A member-chosen name, escaped for Discord markdown: a display name such as
    ``**x** ||`` or ``[link](…)`` must not reformat the message it is quoted in (mass
    mentions cannot ping anyway: the outbox sends ``allowed_mentions`` empty)."""
    return "".join(f"\\{c}" if c in MARKDOWN_CHARS else c for c in text)


def _ts(moment: dt.datetime, style: str = "F") -> str:
    return outbox.discord_timestamp(moment, style)


def _announce(event: Event, content: str, dedupe_key: str | None = None) -> None:
    if event.announcement_channel_id:
        outbox.post_message(event.announcement_channel_id, content=content, dedupe_key=dedupe_key,
                            topic=TOPIC_ANNOUNCE)


def _names(people: Iterable[str], limit: int = 10) -> str:
    people = list(people)
    shown = ", ".join(people[:limit])
    return shown + (f" and {len(people) - limit} more" if len(people) > limit else "")


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
        raise RatmasError(f"Cannot go from {event.status} to {status}.")
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


# --------------------------------------------------------------------------- participants


def join(event: Event, user_id: int, display_name: str, wishlist_url: str | None = None) -> Participant:
    """Sign up while the event is open and before the signup deadline."""
    name = _clean_name(display_name)
    url = validate_wishlist(wishlist_url)
    with transaction.atomic():
        locked = _lock(event)
        _require(locked, Status.OPEN, action="join")
        if _now() >= locked.signup_deadline:
            raise RatmasError("Signups are closed: the deadline has passed.")
        if locked.participants.filter(user_id=user_id).exists():
            raise RatmasError("You have already joined this Ratmas.")
        participant = Participant.objects.create(event=locked, user_id=user_id, display_name=name, wishlist_url=url)
        if locked.participant_role_id:
            outbox.add_role(locked.guild_id, user_id, locked.participant_role_id, reason="Joined Ratmas",
                            topic="ratmas.role")
    return participant


def leave(event: Event, user_id: int) -> None:
    """Drop out while signups are open; afterwards the draw depends on everyone."""
    with transaction.atomic():
        locked = _lock(event)
        if locked.status != Status.OPEN:
            raise RatmasError("Signups are closed; ask an organiser if you cannot take part any more.")
        deleted, _ = locked.participants.filter(user_id=user_id).delete()
        if not deleted:
            raise RatmasError("You are not signed up for this Ratmas.")
        if locked.participant_role_id:
            outbox.remove_role(locked.guild_id, user_id, locked.participant_role_id, reason="Left Ratmas",
                               topic="ratmas.role")


def update_wishlist(event: Event, user_id: int, wishlist_url: str | None) -> Participant:
    """Set or clear the wishlist link; once Santas are notified, the Santa hears about it."""
    url = validate_wishlist(wishlist_url)
    with transaction.atomic():
        locked = _lock(event)
        if locked.is_finished:
            raise RatmasError("This Ratmas is over.")
        try:
            participant = locked.participants.select_for_update().get(user_id=user_id)
        except Participant.DoesNotExist:
            raise RatmasError("You are not signed up for this Ratmas.") from None
        participant.wishlist_url = url
        participant.save(update_fields=["wishlist_url"])
        pairing = Pairing.objects.filter(recipient=participant, notified_at__isnull=False).select_related("santa").first()
        if pairing:
            outbox.send_dm(pairing.santa.user_id, topic=TOPIC_REMINDER, secret=True,
                           content=f"🎁 Your Ratmas recipient **{md(participant.display_name)}** updated their "
                                   f"wishlist: {url or 'removed'}")
    return participant


@dataclass
class SyncDiff:
    """What a role sync changed, by display name, so the organiser can check it at a glance."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)

    def __str__(self) -> str:
        return (f"{len(self.added)} added, {len(self.removed)} removed, {len(self.renamed)} renamed")


def sync_participants_from_role(event: Event, members: Iterable[tuple[int, str]]) -> SyncDiff:
    """Make the participants exactly the members holding the participant role (while open):
    add new ones, remove those who lost it, refresh display names."""
    wanted: dict[int, str] = {}
    for user_id, display_name in members:
        wanted[int(user_id)] = _clean_name(display_name)
    diff = SyncDiff()
    with transaction.atomic():
        locked = _lock(event)
        _require(locked, Status.OPEN, action="sync participants")
        current = {p.user_id: p for p in locked.participants.select_for_update()}
        if not wanted and current:
            # An empty role is far more likely a cold member cache (or a missing Server
            # Members intent) than everyone leaving at once: never wipe the signups on it.
            raise RatmasError("Nobody holds the participant role (as far as I can see), so nobody was removed. "
                              "Remove people one by one, or cancel the event.")
        gone = [p for uid, p in current.items() if uid not in wanted]
        if gone:
            Participant.objects.filter(pk__in=[p.pk for p in gone]).delete()
            diff.removed = sorted(p.display_name for p in gone)
        new = [Participant(event=locked, user_id=uid, display_name=name)
               for uid, name in wanted.items() if uid not in current]
        Participant.objects.bulk_create(new)
        diff.added = sorted(p.display_name for p in new)
        renamed = []
        for uid, name in wanted.items():
            p = current.get(uid)
            if p is not None and p.display_name != name:
                diff.renamed.append((p.display_name, name))
                p.display_name = name
                renamed.append(p)
        Participant.objects.bulk_update(renamed, ["display_name"])
    return diff


def _participant(event: Event, user_id: int) -> Participant:
    try:
        return event.participants.get(user_id=user_id)
    except Participant.DoesNotExist:
        raise RatmasError(f"<@{user_id}> is not a participant of this Ratmas.") from None


def add_exclusion(event: Event, giver_user_id: int, receiver_user_id: int, both_ways: bool = False) -> Exclusion:
    """``giver`` will not draw ``receiver`` (and the reverse when ``both_ways``). Only before
    the draw. One row per pair of people: adding it twice keeps one row (both ways if either
    call said so), and adding the reverse of an existing exclusion makes that row both ways
    (the database refuses a second row for the same two people)."""
    if int(giver_user_id) == int(receiver_user_id):
        raise RatmasError("Nobody draws themselves anyway: pick two different participants.")
    with transaction.atomic():
        locked = _lock(event)
        _require(locked, Status.OPEN, Status.LOCKED, action="add an exclusion")
        giver = _participant(locked, giver_user_id)
        receiver = _participant(locked, receiver_user_id)
        reverse = locked.exclusions.filter(giver=receiver, receiver=giver).first()
        if reverse is not None:
            if not reverse.both_ways:
                reverse.both_ways = True
                reverse.save(update_fields=["both_ways"])
            return reverse
        exclusion, created = Exclusion.objects.get_or_create(
            event=locked, giver=giver, receiver=receiver, defaults={"both_ways": both_ways})
        if not created and both_ways and not exclusion.both_ways:
            exclusion.both_ways = True
            exclusion.save(update_fields=["both_ways"])
    return exclusion


def remove_exclusion(event: Event, giver_user_id: int, receiver_user_id: int) -> None:
    """Undo an exclusion before the draw (e.g. the one that made the draw impossible). The
    reverse direction of a both-ways exclusion is removed by making it one way."""
    with transaction.atomic():
        locked = _lock(event)
        _require(locked, Status.OPEN, Status.LOCKED, action="remove an exclusion")
        deleted, _ = locked.exclusions.filter(giver__user_id=giver_user_id, receiver__user_id=receiver_user_id).delete()
        if deleted:
            return
        narrowed = locked.exclusions.filter(giver__user_id=receiver_user_id, receiver__user_id=giver_user_id,
                                            both_ways=True).update(both_ways=False)
        if not narrowed:
            raise RatmasError("There is no such exclusion.")


# --------------------------------------------------------------------------- pairings


@dataclass
class PairingPlan:
    """The outcome of a draw. ``pairs`` is secret: callers show counts only."""

    pairs: list[tuple[int, int]]  # (santa user id, recipient user id)
    method: str
    exclusions: int
    avoided_previous: int
    dry_run: bool

    def summary(self) -> str:
        verb = "A valid draw exists" if self.dry_run else "Pairings drawn"
        return (f"{verb}: {len(self.pairs)} Santas, respecting {self.exclusions} excluded pair(s)"
                f" and avoiding {self.avoided_previous} pair(s) from last time.")


def _exclusion_map(event: Event, user_of: dict[int, int] | None = None) -> dict[int, set[int]]:
    """Giver user id → receiver user ids they must not draw. ``user_of`` (participant pk →
    user id), when the caller has it, saves joining the participants twice."""
    if user_of is None:
        user_of = {pk: user_id for user_id, pk in event.participants.values_list("user_id", "pk")}
    forbidden: dict[int, set[int]] = {}
    for giver, receiver, both in event.exclusions.values_list("giver_id", "receiver_id", "both_ways"):
        giver, receiver = user_of[giver], user_of[receiver]
        forbidden.setdefault(giver, set()).add(receiver)
        if both:
            forbidden.setdefault(receiver, set()).add(giver)
    return forbidden


def previous_pairs(event: Event) -> dict[int, int]:
    """Santa → recipient (user ids) of the guild's most recent completed event before this one."""
    previous = (Event.objects.filter(guild_id=event.guild_id, status=Status.COMPLETED)
                .exclude(pk=event.pk).order_by("-reveal_date", "-pk").first())
    if previous is None:
        return {}
    return dict(previous.pairings.values_list("santa__user_id", "recipient__user_id"))


def _infeasible_message(exc: matching.InfeasibleError, names: dict[int, str], avoid_previous: bool,
                        feasible_without_previous: bool) -> str:
    if exc.kind == "too_few":
        text = f"At least {MIN_PARTICIPANTS} participants are needed for a draw."
    elif exc.kind == "no_receivers":
        text = (f"No valid draw: {names[exc.givers[0]]} cannot give to anyone — every other participant "
                f"is excluded for them.")
    elif exc.kind == "no_givers":
        text = (f"No valid draw: nobody can give to {names[exc.receivers[0]]} — every other participant "
                f"excludes them.")
    else:
        text = (f"No valid draw: {len(exc.givers)} participants ({_names(names[g] for g in exc.givers)}) "
                f"can only give to {len(exc.receivers)} people between them "
                f"({_names(names[r] for r in exc.receivers)}). Remove an exclusion involving them.")
    if avoid_previous and feasible_without_previous:
        text += " Avoiding last time's pairs is what makes it impossible: draw again without avoiding them."
    return text[:1900]


def generate_pairings(event: Event, seed: int | None = None, avoid_previous: bool = True,
                      dry_run: bool = False) -> PairingPlan:
    """Draw who gives to whom (see ``ratmas.matching``) and, unless ``dry_run``, store it
    with :func:`replace_pairings` and move the event to ``matched``."""
    with transaction.atomic():
        locked = _lock(event)
        _require(locked, Status.LOCKED, action="draw pairings")
        rows = list(locked.participants.order_by("user_id").values_list("user_id", "pk", "display_name"))
        people = {user_id: name for user_id, _, name in rows}
        if len(people) < MIN_PARTICIPANTS:
            raise RatmasError(f"At least {MIN_PARTICIPANTS} participants are needed for a draw "
                              f"(there are {len(people)}).")
        exclusions = _exclusion_map(locked, {pk: user_id for user_id, pk, _ in rows})
        forbidden = {g: set(rs) for g, rs in exclusions.items()}
        avoided = 0
        if avoid_previous:
            for santa, recipient in previous_pairs(locked).items():
                if santa in people and recipient in people and recipient not in forbidden.get(santa, ()):
                    forbidden.setdefault(santa, set()).add(recipient)
                    avoided += 1
        ids = list(people)
        rng = random.Random(seed)
        try:
            result = matching.draw(ids, forbidden, rng)
        except matching.InfeasibleError as exc:
            feasible_without = False
            if avoid_previous and avoided:
                try:
                    matching.draw(ids, exclusions, random.Random(seed))
                    feasible_without = True
                except matching.InfeasibleError:
                    pass
            raise RatmasError(_infeasible_message(exc, people, avoid_previous, feasible_without)) from None
        pairs = sorted(result.assignment.items())
        plan = PairingPlan(pairs=pairs, method=result.method, exclusions=sum(map(len, exclusions.values())),
                           avoided_previous=avoided, dry_run=dry_run)
        if not dry_run:
            _store_pairings(locked, pairs, exclusions, {user_id: pk for user_id, pk, _ in rows})
    if not dry_run:
        event.status = Status.MATCHED
    return plan


def replace_pairings(event: Event, pairings: Iterable[tuple[int, int]]) -> int:
    """Swap the event's pairings for ``pairings`` (santa user id, recipient user id) in one
    transaction: on any failure the previous pairings stay exactly as they were."""
    pairs = [(int(s), int(r)) for s, r in pairings]
    with transaction.atomic():
        locked = _lock(event)
        _store_pairings(locked, pairs, _exclusion_map(locked), dict(locked.participants.values_list("user_id", "pk")))
    _mirror(event, locked)
    return len(pairs)


def _store_pairings(locked: Event, pairs: list[tuple[int, int]], exclusions: dict[int, set[int]],
                    pk_of: dict[int, int]) -> None:
    """replace_pairings' body, for callers that already hold the event lock, the exclusion
    map and the participants' pks (generate_pairings: no second read of 10,000 rows)."""
    _require(locked, Status.LOCKED, Status.MATCHED, action="replace pairings")
    if locked.pairings.filter(notify_message__isnull=False).exists():
        raise RatmasError("Santas have already been sent their recipients; the pairings can no longer change.")
    assignment = dict(pairs)
    if len(assignment) != len(pairs) or not matching.is_valid(assignment, pk_of, exclusions):
        raise RatmasError("These pairings are not valid: every participant must give once and receive once, "
                          "never to themselves nor against an exclusion.")
    locked.pairings.all().delete()
    _insert_pairings(locked, [(pk_of[s], pk_of[r]) for s, r in pairs])
    if locked.status != Status.MATCHED:
        locked.status = Status.MATCHED
        locked.save(update_fields=["status", "updated_at"])


def _insert_pairings(event: Event, rows: list[tuple[int, int]]) -> None:
    """Insert (santa pk, recipient pk) rows. On PostgreSQL one ``INSERT … SELECT unnest``
    statement: 10,000 rows through the ORM's bulk_create cost seconds, this costs ~50 ms."""
    if connection.vendor != "postgresql":
        Pairing.objects.bulk_create([Pairing(event=event, santa_id=s, recipient_id=r) for s, r in rows],
                                    batch_size=500)
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ratmas_pairing (event_id, santa_id, recipient_id, notify_round, last_error, created_at) "
            "SELECT %s, s, r, 0, '', %s FROM unnest(%s::bigint[], %s::bigint[]) AS t(s, r)",
            [event.pk, _now(), [s for s, _ in rows], [r for _, r in rows]],
        )


# --------------------------------------------------------------------------- notifications


@dataclass
class NotifyReport(RunReport):
    queued: int = 0  # DMs queued by this call (new or retried)
    waiting: int = 0  # DMs already queued, not yet answered by Discord
    notified: int = 0  # Santas whose DM Discord accepted
    failed: int = 0  # Santas whose DM failed and was not retried by this call

    def __str__(self) -> str:
        return (f"{self.queued} DM(s) queued, {self.waiting} waiting, {self.notified} Santa(s) notified, "
                f"{self.failed} failed")


def _santa_dm(event: Event, pairing: Pairing) -> str:
    recipient = pairing.recipient
    wishlist = recipient.wishlist_url or "none yet — ask them with `/ratmas message-recipient`"
    return (f"🎅 **You are a Secret Santa!** (Ratmas {event.reveal_date:%Y})\n"
            f"Your recipient: **{md(recipient.display_name)}**\n"
            f"Wishlist: {wishlist}\n"
            f"Budget: {event.budget or 'not set'}\n"
            f"Buy your gift by {_ts(event.purchase_deadline)}; gifts are revealed {_ts(event.reveal_date)}.\n"
            f"Keep it secret! Message them anonymously with `/ratmas message-recipient`.")


def _santa_dm_key(event: Event, pairing: Pairing) -> str:
    return (f"ratmas:{event.pk}:santa:{pairing.santa.user_id}:{pairing.recipient.user_id}"
            f":r{pairing.notify_round}")


def _queue_santa_dms(event: Event, only_failed: bool) -> NotifyReport:
    report = NotifyReport()
    pairings = list(event.pairings.select_for_update(of=("self",))
                    .select_related("santa", "recipient", "notify_message"))
    changed = []
    for pairing in pairings:
        if pairing.notified_at:
            report.notified += 1
            continue
        message = pairing.notify_message
        failed = message is not None and message.status == OutboxMessage.Status.FAILED
        if message is not None and not failed:
            report.waiting += 1
            continue
        if only_failed and not failed:
            continue
        if failed:
            pairing.notify_round += 1
            pairing.last_error = ""
        pairing.notify_message = outbox.send_dm(pairing.santa.user_id, content=_santa_dm(event, pairing),
                                                dedupe_key=_santa_dm_key(event, pairing), topic=TOPIC_SANTA_DM,
                                                secret=True)
        changed.append(pairing)
        report.queued += 1
    Pairing.objects.bulk_update(changed, ["notify_round", "last_error", "notify_message"], batch_size=2000)
    report.failed = sum(1 for p in pairings if p.last_error)
    return report


def notify_santas(event: Event) -> NotifyReport:
    """DM every Santa who has not been told yet (failed DMs are sent again; DMs still on
    their way are left alone). The event becomes ``notified`` once Discord accepted them all."""
    with transaction.atomic():
        locked = _lock(event)
        if locked.status == Status.NOTIFIED:
            raise RatmasError("Every Santa already has their DM.")
        _require(locked, Status.MATCHED, action="notify Santas")
        report = _queue_santa_dms(locked, only_failed=False)
        _maybe_all_notified(locked)
    _mirror(event, locked)
    return report


def retry_failed_notifications(event: Event) -> NotifyReport:
    """Queue a new DM only for the Santas whose last DM failed (e.g. after they opened DMs)."""
    with transaction.atomic():
        locked = _lock(event)
        _require(locked, Status.MATCHED, action="retry notifications")
        return _queue_santa_dms(locked, only_failed=True)


def _maybe_all_notified(event: Event) -> None:
    if event.status == Status.MATCHED and event.pairings.exists() and \
            not event.pairings.filter(notified_at__isnull=True).exists():
        event.status = Status.NOTIFIED
        event.save(update_fields=["status", "updated_at"])
        _announce(event, f"🎅 All {event.pairings.count()} Santas have their recipient. Happy gifting!",
                  dedupe_key=f"ratmas:{event.pk}:all-notified")


def _failure_reason(message: OutboxMessage) -> str:
    """Why Discord refused, short enough to quote in a report (Discord's text can be long)."""
    if message.last_error_code == 50007:
        return "DMs closed (Discord 50007: cannot send messages to this user)"
    reason = " ".join((message.last_error or "Discord refused the DM").split())
    return reason if len(reason) <= ERROR_SHOWN_CHARS else reason[: ERROR_SHOWN_CHARS - 1] + "…"


def record_delivery(message: OutboxMessage, accepted: bool) -> None:
    """Outcome of a Ratmas DM (called from the outbox signals, inside the delivery's
    transaction): mark the Santa notified, or record why not and tell the organisers."""
    with transaction.atomic():
        if message.topic == TOPIC_SANTA_DM:
            _record_santa_dm(message, accepted)
        elif message.topic == TOPIC_RELAY:
            _record_relay(message, accepted)


def _record_santa_dm(message: OutboxMessage, accepted: bool) -> None:
    event_id = Pairing.objects.filter(notify_message=message).values_list("event_id", flat=True).first()
    if event_id is None:
        return
    event = _lock(event_id)  # serialises "is everyone notified now?" between workers
    pairing = Pairing.objects.select_related("santa").get(notify_message=message)
    if accepted:
        pairing.notified_at = message.sent_at or _now()
        pairing.last_error = ""
        pairing.save(update_fields=["notified_at", "last_error"])
        _maybe_all_notified(event)
        return
    pairing.last_error = _failure_reason(message)
    pairing.save(update_fields=["last_error"])
    if event.is_finished:
        return  # nothing left to organise: no report
    _announce(event, f"⚠️ I could not DM Santa **{md(pairing.santa.display_name)}** (<@{pairing.santa.user_id}>): "
                     f"{pairing.last_error}. Ask them to allow DMs from server members, then run "
                     f"`/ratmas notify` again.",
              dedupe_key=f"ratmas:{event.pk}:dm-failed:{pairing.pk}:r{pairing.notify_round}")


def _record_relay(message: OutboxMessage, accepted: bool) -> None:
    relay = RelayMessage.objects.select_related("pairing__santa", "pairing__recipient").filter(
        outbox_message=message).first()
    if relay is None:
        return
    if accepted:
        RelayMessage.objects.filter(pk=relay.pk).update(delivered=True)
        return
    to_recipient = relay.direction == RelayMessage.Direction.TO_RECIPIENT
    sender = relay.pairing.santa if to_recipient else relay.pairing.recipient
    outbox.send_dm(sender.user_id, topic=TOPIC_RELAY_BOUNCE, dedupe_key=f"ratmas:relay-bounce:{relay.pk}",
                   content=f"📭 Your anonymous message could not be delivered: {_failure_reason(message)}.")


# --------------------------------------------------------------------------- relay


def send_relay_message(event: Event, sender_user_id: int, direction: str, text: str) -> RelayMessage:
    """Deliver ``text`` to the other side of the sender's pairing without naming the sender.
    Limited to ``RELAY_LIMIT`` per ``RELAY_WINDOW`` per user; the sender's participant row is
    locked while counting, so parallel sends cannot overshoot."""
    if direction not in RelayMessage.Direction.values:
        raise RatmasError("Unknown message direction.")
    text = (text or "").strip()
    if not text:
        raise RatmasError("The message is empty.")
    if len(text) > RELAY_MAX_CHARS:
        raise RatmasError(f"The message is too long ({len(text)} characters; {RELAY_MAX_CHARS} at most).")
    to_recipient = direction == RelayMessage.Direction.TO_RECIPIENT
    with transaction.atomic():
        current = Event.objects.filter(pk=event.pk).first()
        if current is None or current.status not in (Status.MATCHED, Status.NOTIFIED):
            raise RatmasError("Anonymous messages open once the pairings are drawn, until the event ends.")
        try:
            sender = current.participants.select_for_update().get(user_id=sender_user_id)
        except Participant.DoesNotExist:
            raise RatmasError("You are not a participant of this Ratmas.") from None
        pairing = (Pairing.objects.select_related("santa", "recipient")
                   .filter(event=current, **({"santa": sender} if to_recipient else {"recipient": sender})).first())
        if pairing is None:
            raise RatmasError("You have no pairing in this Ratmas.")
        now = _now()
        recent = (RelayMessage.objects.filter(event=current, created_at__gt=now - RELAY_WINDOW)
                  .filter(Q(direction=RelayMessage.Direction.TO_RECIPIENT, pairing__santa=sender)
                          | Q(direction=RelayMessage.Direction.TO_SANTA, pairing__recipient=sender))
                  .order_by("created_at").values_list("created_at", flat=True))
        recent = list(recent)
        if len(recent) >= RELAY_LIMIT:
            again = recent[len(recent) - RELAY_LIMIT] + RELAY_WINDOW
            raise RatmasError(f"You can send {RELAY_LIMIT} anonymous messages per hour; try again {_ts(again, 'R')}.")
        relay = RelayMessage.objects.create(event=current, pairing=pairing, direction=direction, text=text)
        # ">>> " quotes everything after it: 4 characters whatever the number of lines
        # (quoting each line with "> " would push a 1,500-character text past 2,000).
        if to_recipient:
            target = pairing.recipient.user_id
            content = (f"📨 **A message from your Secret Santa** "
                       f"(answer anonymously with `/ratmas message-santa`):\n>>> {text}")
        else:
            target = pairing.santa.user_id
            content = (f"📨 **A message from your recipient, {md(pairing.recipient.display_name)}** "
                       f"(answer with `/ratmas message-recipient`):\n>>> {text}")
        # secret both ways: one names the recipient to their Santa, the other carries the
        # Santa's own words (which may give them away)
        relay.outbox_message = outbox.send_dm(target, content=content, topic=TOPIC_RELAY,
                                              dedupe_key=f"ratmas:relay:{relay.pk}", secret=True)
        relay.save(update_fields=["outbox_message"])
    return relay


def message_recipient(event: Event, santa_user_id: int, text: str) -> RelayMessage:
    """``/ratmas message-recipient``: the Santa asks without giving themselves away."""
    return send_relay_message(event, santa_user_id, RelayMessage.Direction.TO_RECIPIENT, text)


def message_santa(event: Event, recipient_user_id: int, text: str) -> RelayMessage:
    """``/ratmas message-santa``: the recipient answers a Santa they cannot name."""
    return send_relay_message(event, recipient_user_id, RelayMessage.Direction.TO_SANTA, text)


# --------------------------------------------------------------------------- schedule


def _now() -> dt.datetime:
    return timezone.now()


def _due_kinds(event: Event, now: dt.datetime) -> list[str]:
    due = []
    for kind, attribute, before, until, statuses in REMINDERS:
        deadline = getattr(event, attribute)
        if event.status in statuses and deadline - before <= now < deadline - until:
            due.append(kind)
    if event.status in (Status.MATCHED, Status.NOTIFIED) and event.reveal_date <= now < event.reveal_date + REVEAL_GRACE:
        due.append(ScheduledSend.Kind.REVEAL)
    return due


def _scheduled_content(event: Event, kind: str) -> tuple[str, str]:
    """(channel post, participant DM) for a scheduled send."""
    if kind.startswith("signup"):
        deadline = _ts(event.signup_deadline)
        return (f"⏰ Ratmas signups close {deadline} ({_ts(event.signup_deadline, 'R')}). Join with `/ratmas join`!",
                f"⏰ Ratmas signups close {deadline}. Is your wishlist set? `/ratmas wishlist`")
    if kind.startswith("purchase"):
        deadline = _ts(event.purchase_deadline)
        return (f"🛍️ Santas: buy your Ratmas gift by {deadline} ({_ts(event.purchase_deadline, 'R')}).",
                f"🛍️ Reminder: buy your Ratmas gift by {deadline}. Budget: {event.budget or 'not set'}.")
    return ("🎁 **Ratmas reveal!** Open your gifts — Santas may reveal themselves now.",
            "🎁 It is Ratmas reveal time: open your gift!")


def send_scheduled(event: Event, kind: str) -> bool:
    """Send one reminder/reveal if it was not sent before. The unique (event, kind) row is
    the claim: of two workers, the second blocks on it and then finds it taken."""
    with transaction.atomic():
        locked = _lock(event)
        if locked.is_finished:
            return False
        claim, created = ScheduledSend.objects.get_or_create(event=locked, kind=kind)
        if not created:
            return False
        post, dm = _scheduled_content(locked, kind)
        _announce(locked, post, dedupe_key=f"ratmas:{locked.pk}:{kind}:channel")
        dm_all = kind != ScheduledSend.Kind.REVEAL or not locked.announcement_channel_id
        users = list(locked.participants.values_list("user_id", flat=True)) if dm_all else []
        for user_id in users:
            outbox.send_dm(user_id, content=dm, dedupe_key=f"ratmas:{locked.pk}:{kind}:{user_id}",
                           topic=TOPIC_REMINDER)
        claim.recipients = len(users)
        claim.save(update_fields=["recipients"])
    return True


def run_schedule(now: dt.datetime | None = None) -> int:
    """Send every reminder and reveal announcement that is due (each at most once)."""
    now = now or _now()
    sent = 0
    events = Event.objects.exclude(status__in=Event.FINISHED)
    taken = set(ScheduledSend.objects.filter(event__in=events).values_list("event_id", "kind"))
    for event in events:
        for kind in _due_kinds(event, now):
            if (event.pk, kind) not in taken and send_scheduled(event, kind):
                sent += 1
    return sent


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
