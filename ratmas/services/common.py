"""What every Ratmas service shares: the error, the topics and limits, the event lock and the
small validators and formatters (dates, names, wish lists, Discord markup)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils import timezone

from bot import outbox
from core.errors import DomainError
from ratmas.models import Event, ScheduledSend

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


# Each state in plain words, as the refusal messages say it ("the pairings are already drawn"),
# never the internal state names.
STATE_WORDS = {
    Status.OPEN: "signups are still open",
    Status.LOCKED: "signups are locked and the pairings not drawn yet",
    Status.MATCHED: "the pairings are already drawn",
    Status.NOTIFIED: "the Santas have already been told who they give to",
    Status.COMPLETED: "the event is over",
    Status.CANCELLED: "the event is cancelled",
}
NEEDED_WORDS = {
    Status.OPEN: "open signups",
    Status.LOCKED: "locked signups",
    Status.MATCHED: "drawn pairings",
    Status.NOTIFIED: "notified Santas",
    Status.COMPLETED: "a finished event",
    Status.CANCELLED: "a cancelled event",
}
TRANSITION_WORDS = {
    Status.OPEN: "reopen signups",
    Status.LOCKED: "lock signups",
    Status.MATCHED: "mark the pairings drawn",
    Status.NOTIFIED: "mark the Santas notified",
    Status.COMPLETED: "complete the event",
    Status.CANCELLED: "cancel the event",
}


def santa_dms_queued(event: Event) -> bool:
    """Whether any Santa DM has been queued: until then a draw is still private and can be
    discarded (an exclusion added, the pairings drawn again)."""
    return event.pairings.filter(notify_message__isnull=False).exists()


def _require_undrawn_or_unsent(event: Event, action: str) -> None:
    """Before the draw, or after it as long as no Santa DM has been queued."""
    _require(event, Status.OPEN, Status.LOCKED, Status.MATCHED, action=action)
    if event.status == Status.MATCHED and santa_dms_queued(event):
        raise RatmasError(f"Cannot {action}: Santa DMs are already on their way, so the pairings are final.")


def _require(event: Event, *statuses: str, action: str) -> None:
    if event.status not in statuses:
        needed = " or ".join(NEEDED_WORDS[s] for s in statuses)
        raise RatmasError(f"Cannot {action}: {STATE_WORDS[event.status]} (that needs {needed}).")


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
    local times, the database keeps UTC.

    Daylight saving time is never guessed at. A wall-clock time the clocks skip (the hour the
    clocks go forward) is refused, naming the last valid minute before the jump and the first
    after it. A time the clocks show twice (the hour they go back) is refused unless the UTC
    offset is written after it (``2026-10-25 02:30 +02:00`` is the first, ``+01:00`` the
    second); the message names both. An offset is accepted on any time, but only one the zone
    really has at that moment."""
    tz = zoneinfo.ZoneInfo(validate_timezone(tz_name))
    cleaned = " ".join(text.split())
    offset_text = ""
    if cleaned.count(" ") == 2:
        cleaned, offset_text = cleaned.rsplit(" ", 1)
    try:
        naive = dt.datetime.strptime(cleaned, "%Y-%m-%d %H:%M")  # noqa: DTZ007 (local; zone set below)
        offset = dt.datetime.strptime(offset_text, "%z").utcoffset() if offset_text else None
    except ValueError:
        raise RatmasError(f"{text!r} is not a date and time; write it as YYYY-MM-DD HH:MM "
                          "(optionally followed by the UTC offset, e.g. +01:00).") from None
    first, second = naive.replace(tzinfo=tz, fold=0), naive.replace(tzinfo=tz, fold=1)
    moment = f"{naive:%Y-%m-%d %H:%M}"
    if _wall_clock(first, tz) != naive:  # skipped: fold 0 lands after the jump, fold 1 before it
        before, after = _jump(second.astimezone(dt.UTC), first.astimezone(dt.UTC), tz)
        raise RatmasError(
            f"{moment} does not exist in {tz.key}: the clocks go forward from {after - (after.utcoffset() - before.utcoffset()):%H:%M} "
            f"to {after:%H:%M} that night. The valid times around it are {before:%H:%M} ({_offset(before)}) "
            f"and {after:%H:%M} ({_offset(after)}).")
    choices = {first.utcoffset(): first, second.utcoffset(): second}
    if offset is not None:
        if offset not in choices:
            allowed = " or ".join(_offset(c) for c in choices.values())
            raise RatmasError(f"{tz.key} is at {allowed} at {moment}, not {_offset_of(offset)}.")
        return choices[offset].astimezone(dt.UTC)
    if len(choices) > 1:
        raise RatmasError(
            f"{moment} happens twice in {tz.key}: the clocks go back {_duration(first.utcoffset() - second.utcoffset())} "
            "that night. Write "
            f"'{moment} {_offset(first)}' for the first (before the change) or '{moment} {_offset(second)}' "
            "for the second.")
    return first.astimezone(dt.UTC)


def _wall_clock(moment: dt.datetime, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    return moment.astimezone(dt.UTC).astimezone(tz).replace(tzinfo=None)


def _jump(low: dt.datetime, high: dt.datetime, tz: zoneinfo.ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The last local minute before the clocks jumped and the first after, for a jump somewhere in
    the UTC interval ``[low, high]`` (a bisection on the zone's offset, minute precision)."""
    before_offset = low.astimezone(tz).utcoffset()
    while high - low > dt.timedelta(minutes=1):
        middle = low + (high - low) / 2
        middle = middle.replace(second=0, microsecond=0)
        if middle.astimezone(tz).utcoffset() == before_offset:
            low = middle
        else:
            high = middle
    return low.astimezone(tz), high.astimezone(tz)


def _duration(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds()) // 60
    return "an hour" if minutes == 60 else f"{minutes} minutes"


def _offset_of(offset: dt.timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    return f"{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _offset(moment: dt.datetime) -> str:
    return _offset_of(moment.utcoffset())


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


def _now() -> dt.datetime:
    return timezone.now()
