"""What every Ratmas service shares: the error, the topics and limits, the event lock and the
small validators and formatters (dates, names, wish lists, Discord markup)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from bot import outbox
from core import i18n
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
        raise RatmasError(_("This Ratmas event no longer exists.")) from None


def _mirror(target: Event, source: Event) -> None:
    """Keep the caller's instance in step with the row we changed."""
    if isinstance(target, Event) and target is not source:
        target.status = source.status
        target.updated_at = source.updated_at


# Each state in plain words, as the refusal messages say it ("the pairings are already drawn"),
# never the internal state names. Translators: STATE_WORDS completes "Cannot <action>: …",
# NEEDED_WORDS "(that needs …)", TRANSITION_WORDS and the callers' ``action`` "Cannot …".
STATE_WORDS = {
    Status.OPEN: gettext_lazy("signups are still open"),
    Status.LOCKED: gettext_lazy("signups are locked and the pairings not drawn yet"),
    Status.MATCHED: gettext_lazy("the pairings are already drawn"),
    Status.NOTIFIED: gettext_lazy("the Santas have already been told who they give to"),
    Status.COMPLETED: gettext_lazy("the event is over"),
    Status.CANCELLED: gettext_lazy("the event is cancelled"),
}
NEEDED_WORDS = {
    Status.OPEN: gettext_lazy("open signups"),
    Status.LOCKED: gettext_lazy("locked signups"),
    Status.MATCHED: gettext_lazy("drawn pairings"),
    Status.NOTIFIED: gettext_lazy("notified Santas"),
    Status.COMPLETED: gettext_lazy("a finished event"),
    Status.CANCELLED: gettext_lazy("a cancelled event"),
}
TRANSITION_WORDS = {
    Status.OPEN: gettext_lazy("reopen signups"),
    Status.LOCKED: gettext_lazy("lock signups"),
    Status.MATCHED: gettext_lazy("mark the pairings drawn"),
    Status.NOTIFIED: gettext_lazy("mark the Santas notified"),
    Status.COMPLETED: gettext_lazy("complete the event"),
    Status.CANCELLED: gettext_lazy("cancel the event"),
}


def santa_dms_queued(event: Event) -> bool:
    """Whether any Santa DM has been queued: until then a draw is still private and can be
    discarded (an exclusion added, the pairings drawn again)."""
    return event.pairings.filter(notify_message__isnull=False).exists()


def _require_undrawn_or_unsent(event: Event, action: Any) -> None:
    """Before the draw, or after it as long as no Santa DM has been queued."""
    _require(event, Status.OPEN, Status.LOCKED, Status.MATCHED, action=action)
    if event.status == Status.MATCHED and santa_dms_queued(event):
        raise RatmasError(_("Cannot %(action)s: Santa DMs are already on their way, so the pairings are final.")
                          % {"action": action})


def _require(event: Event, *statuses: str, action: Any) -> None:
    """``action``: what was refused, translated (``gettext_lazy("join")``)."""
    if event.status not in statuses:
        needed = str(NEEDED_WORDS[statuses[0]])
        for status in statuses[1:]:
            needed = _("%(either)s or %(other)s") % {"either": needed, "other": NEEDED_WORDS[status]}
        raise RatmasError(_("Cannot %(action)s: %(state)s (that needs %(needed)s).")
                          % {"action": action, "state": STATE_WORDS[event.status], "needed": needed})


def validate_timezone(name: str) -> str:
    name = (name or "").strip()
    try:
        if not name or name.startswith("/") or ".." in name:
            raise ValueError(name)
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise RatmasError(_("%(name)s is not a time zone; use an IANA name such as Europe/Berlin or UTC.")
                          % {"name": repr(name)}) from None
    return name


def validate_wishlist(url: str | None) -> str:
    url = (url or "").strip()
    if not url:
        return ""
    if len(url) > 500:
        raise RatmasError(_("The wishlist link is too long (500 characters at most)."))
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise RatmasError(_("The wishlist must be an http:// or https:// link.")) from None
    return url


def _aware(value: dt.datetime, label: Any) -> dt.datetime:
    """``label``: translated (``gettext_lazy``), or a field name of an import file (as is)."""
    if not isinstance(value, dt.datetime):
        raise RatmasError(_("The %(label)s must be a date and time.") % {"label": label})
    if timezone.is_naive(value):
        raise RatmasError(_("The %(label)s needs a time zone.") % {"label": label})
    return value.astimezone(dt.UTC)


def _validate_dates(signup: dt.datetime, purchase: dt.datetime, reveal: dt.datetime) -> tuple:
    signup, purchase, reveal = (_aware(signup, gettext_lazy("signup deadline")),
                                _aware(purchase, gettext_lazy("purchase deadline")),
                                _aware(reveal, gettext_lazy("reveal date")))
    if not signup <= purchase <= reveal:
        raise RatmasError(_("Dates must be in order: signup deadline ≤ purchase deadline ≤ reveal date."))
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
        raise RatmasError(_("%(text)s is not a date and time; write it as YYYY-MM-DD HH:MM "
                            "(optionally followed by the UTC offset, e.g. +01:00).") % {"text": repr(text)}) from None
    first, second = naive.replace(tzinfo=tz, fold=0), naive.replace(tzinfo=tz, fold=1)
    moment = f"{naive:%Y-%m-%d %H:%M}"
    if _wall_clock(first, tz) != naive:  # skipped: fold 0 lands after the jump, fold 1 before it
        before, after = _jump(second.astimezone(dt.UTC), first.astimezone(dt.UTC), tz)
        raise RatmasError(
            _("%(moment)s does not exist in %(zone)s: the clocks go forward from %(from)s to %(to)s that night. "
              "The valid times around it are %(before)s (%(before_offset)s) and %(after)s (%(after_offset)s).")
            % {"moment": moment, "zone": tz.key, "from": f"{after - (after.utcoffset() - before.utcoffset()):%H:%M}",
               "to": f"{after:%H:%M}", "before": f"{before:%H:%M}", "before_offset": _offset(before),
               "after": f"{after:%H:%M}", "after_offset": _offset(after)})
    choices = {first.utcoffset(): first, second.utcoffset(): second}
    if offset is not None:
        if offset not in choices:
            first_offset, *others = (_offset(c) for c in choices.values())
            allowed = first_offset
            for other in others:
                allowed = _("%(either)s or %(other)s") % {"either": allowed, "other": other}
            raise RatmasError(_("%(zone)s is at %(allowed)s at %(moment)s, not %(offset)s.")
                              % {"zone": tz.key, "allowed": allowed, "moment": moment, "offset": _offset_of(offset)})
        return choices[offset].astimezone(dt.UTC)
    if len(choices) > 1:
        raise RatmasError(
            _("%(moment)s happens twice in %(zone)s: the clocks go back %(duration)s that night. Write "
              "'%(first)s' for the first (before the change) or '%(second)s' for the second.")
            % {"moment": moment, "zone": tz.key, "duration": _duration(first.utcoffset() - second.utcoffset()),
               "first": f"{moment} {_offset(first)}", "second": f"{moment} {_offset(second)}"})
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
    if minutes == 60:
        return _("an hour")
    return ngettext("%(count)s minute", "%(count)s minutes", minutes) % {"count": minutes}


def _offset_of(offset: dt.timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    return f"{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _offset(moment: dt.datetime) -> str:
    return _offset_of(moment.utcoffset())


def _clean_name(display_name: str) -> str:
    name = " ".join((display_name or "").split())[:100]
    if not name:
        raise RatmasError(_("A display name is required."))
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


def _announce(event: Event, render: Callable[[], str], dedupe_key: str | None = None) -> None:
    """Post ``render()`` in the event's announcement channel (if it has one). A public post:
    rendered in the server language (``core.i18n.public``), which the outbox row records."""
    if event.announcement_channel_id:
        with i18n.public():
            outbox.post_message(event.announcement_channel_id, content=render(), dedupe_key=dedupe_key,
                                topic=TOPIC_ANNOUNCE)


def member_languages(user_ids: Iterable[int]) -> dict[int, str]:
    """Each member's DM language (``core.i18n.member_language``) in one query (per 5,000), for services that
    DM every participant or every Santa (no query per member)."""
    from guildsync.models import DiscordUser

    user_ids = list(user_ids)
    locales: dict[int, str] = {}
    for start in range(0, len(user_ids), 5000):  # SQLite caps the variables of one statement
        locales.update(DiscordUser.objects.filter(discord_id__in=user_ids[start:start + 5000])
                       .values_list("discord_id", "locale"))
    fallback = None
    languages = {}
    for user_id in user_ids:
        language = i18n.language_of_locale(locales.get(user_id))
        if language is None:
            fallback = fallback or i18n.server_language()
            language = fallback
        languages[user_id] = language
    return languages


def _names(people: Iterable[str], limit: int = 10) -> str:
    people = list(people)
    shown = ", ".join(people[:limit])
    if len(people) <= limit:
        return shown
    more = len(people) - limit
    return ngettext("%(names)s and %(count)s more", "%(names)s and %(count)s more", more) % {
        "names": shown, "count": i18n.number(more)}


def _now() -> dt.datetime:
    return timezone.now()
