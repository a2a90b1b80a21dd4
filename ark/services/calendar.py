"""The Ark season calendar: the installation's cadence (which weekends are Ark weekends), each
alliance's allowed slots and signup-close rule, and the scheduler that creates the due matches.

The game runs Ark for the whole kingdom every ``cadence_weekends`` weekends from an anchor
Saturday, so the cadence is one row (``ArkSettings``); an alliance's calendar only says which
of those weekends it plays (not the skipped ones), at which slot, and how far ahead.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import dateformat
from django.utils.translation import gettext as _

from core.claims import claim_row
from core.reports import RunReport

from ..models import Alliance, ArkCalendar, ArkSettings, Match
from .common import _audit, _now
from .errors import ArkError, NotFoundError
from .matches import create_match

_SLOT_RE = re.compile(r"^(Sat|Sun) ([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class CalendarSlot:
    """One allowed match slot: the day of the Ark weekend and a UTC time."""

    day: str  # "Sat" | "Sun"
    time: dt.time

    @property
    def label(self) -> str:
        return f"{self.day} {self.time:%H:%M}"

    def start_on(self, weekend: dt.date) -> dt.datetime:
        day = weekend + dt.timedelta(days=0 if self.day == Match.Day.SATURDAY else 1)
        return dt.datetime.combine(day, self.time, tzinfo=dt.UTC)


def parse_slot(text: str) -> CalendarSlot:
    """``"Sat 20:00"`` → a slot; anything else is refused with the expected form."""
    m = _SLOT_RE.match(str(text).strip())
    if m is None:
        raise ArkError(_("A slot is a day and a UTC time like 'Sat 20:00' or 'Sun 04:00', not %(text)s.") % {"text": repr(text)})
    return CalendarSlot(m.group(1), dt.time(int(m.group(2)), int(m.group(3))))


# --- the installation's cadence --------------------------------------------------------------


def get_cadence() -> ArkSettings:
    """The cadence row (the defaults until an officer saved one: every second weekend)."""
    return ArkSettings.objects.filter(pk=1).first() or ArkSettings(pk=1)


def save_cadence(
    *, cadence_weekends: int, anchor_weekend: dt.date, actor_discord_id: int | None = None,
    discord_events: bool | None = None,
) -> ArkSettings:
    """Set the kingdom's Ark cadence (every N weekends from an anchor Saturday) and whether
    matches are mirrored as Discord scheduled events (``None``: left as it is)."""
    if not 1 <= int(cadence_weekends) <= 8:
        raise ArkError(_("Ark runs every 1 to 8 weekends."))
    if anchor_weekend.weekday() != 5:
        raise ArkError(_("The anchor must be the Saturday of an Ark weekend; %(anchor_weekend)s is a %(anchor_weekend2)s.") % {"anchor_weekend": anchor_weekend, "anchor_weekend2": dateformat.format(anchor_weekend, "l")})
    with transaction.atomic():
        values = {"cadence_weekends": cadence_weekends, "anchor_weekend": anchor_weekend}
        if discord_events is not None:
            values["discord_events"] = bool(discord_events)
        row, _created = ArkSettings.objects.update_or_create(pk=1, defaults=values)
        _audit("cadence_saved", actor_discord_id, cadence_weekends=cadence_weekends, anchor=anchor_weekend,
               discord_events=row.discord_events)
        return row


def is_ark_weekend(saturday: dt.date, cadence: ArkSettings | None = None) -> bool:
    cadence = cadence or get_cadence()
    return saturday.weekday() == 5 and (saturday - cadence.anchor_weekend).days % (7 * cadence.cadence_weekends) == 0


def next_ark_weekend(on_or_after: dt.date, cadence: ArkSettings | None = None) -> dt.date:
    """The first Ark weekend's Saturday on or after a day (a Sunday belongs to its Saturday)."""
    cadence = cadence or get_cadence()
    saturday = on_or_after - dt.timedelta(days=1) if on_or_after.weekday() == 6 else (
        on_or_after + dt.timedelta(days=(5 - on_or_after.weekday()) % 7)
    )
    period = 7 * cadence.cadence_weekends
    return saturday + dt.timedelta(days=(-(saturday - cadence.anchor_weekend).days) % period)


def ark_weekends(start: dt.date, cadence: ArkSettings | None = None) -> Iterator[dt.date]:
    """Ark weekends from ``start`` on, in order (endless: the caller stops)."""
    cadence = cadence or get_cadence()
    weekend = next_ark_weekend(start, cadence)
    while True:
        yield weekend
        weekend += dt.timedelta(days=7 * cadence.cadence_weekends)


# --- an alliance's calendar ------------------------------------------------------------------


def calendar_slots(calendar: ArkCalendar) -> list[CalendarSlot]:
    return [parse_slot(s) for s in calendar.slots or []]


def signup_close_for(calendar: ArkCalendar, weekend: dt.date) -> dt.datetime:
    """The calendar's close rule for a weekend (default: the Friday before, 23:00 UTC)."""
    day = weekend - dt.timedelta(days=calendar.close_days_before)
    return dt.datetime.combine(day, calendar.close_time_utc, tzinfo=dt.UTC)


def get_calendar(alliance: Alliance | int) -> ArkCalendar | None:
    return ArkCalendar.objects.select_related("alliance").filter(alliance=alliance).first()


def save_calendar(
    *,
    alliance: Alliance,
    slots: list[str],
    close_days_before: int = 1,
    close_time_utc: dt.time = dt.time(23, 0),
    days_ahead: int = 14,
    skipped_weekends: list[dt.date | str] | None = None,
    is_enabled: bool = True,
    nudge_time_utc: dt.time | None = None,
    quiet_start_utc: dt.time | None = None,
    quiet_end_utc: dt.time | None = None,
    actor_discord_id: int | None = None,
) -> ArkCalendar:
    """Create or replace an alliance's calendar. Every slot must start after the close."""
    parsed = [parse_slot(s) for s in slots]
    if not parsed:
        raise ArkError(_("A calendar needs at least one slot, e.g. 'Sat 12:00'."))
    labels = [p.label for p in parsed]
    if len(set(labels)) != len(labels):
        raise ArkError(_("A slot is listed twice."))
    if not 0 <= int(close_days_before) <= 6:
        raise ArkError(_("Signups close 0 to 6 days before the Saturday."))
    if not 1 <= int(days_ahead) <= 90:
        raise ArkError(_("Matches are created 1 to 90 days ahead."))
    skipped = []
    for raw in skipped_weekends or []:
        try:
            day = raw if isinstance(raw, dt.date) else dt.date.fromisoformat(str(raw).strip())
        except ValueError:
            raise ArkError(_("A skipped weekend is a date like 2026-12-26, not %(raw)s.") % {"raw": repr(raw)}) from None
        if day.weekday() != 5:
            raise ArkError(_("A skipped weekend is given by its Saturday; %(day)s is a %(day2)s.") % {"day": day, "day2": dateformat.format(day, "l")})
        skipped.append(day.isoformat())
    if (quiet_start_utc is None) != (quiet_end_utc is None):
        raise ArkError(_("Quiet hours need both a start and an end."))
    probe = ArkCalendar(close_days_before=close_days_before, close_time_utc=close_time_utc)
    saturday = dt.date(2026, 3, 7)
    for slot in parsed:
        if slot.start_on(saturday) <= signup_close_for(probe, saturday):
            raise ArkError(_("The slot %(label)s starts before signups close: move the close earlier.") % {"label": slot.label})
    with transaction.atomic():
        calendar, _created = ArkCalendar.objects.update_or_create(
            alliance=alliance,
            defaults={
                "slots": labels,
                "close_days_before": close_days_before,
                "close_time_utc": close_time_utc,
                "days_ahead": days_ahead,
                "skipped_weekends": sorted(set(skipped)),
                "is_enabled": is_enabled,
                "nudge_time_utc": nudge_time_utc,
                "quiet_start_utc": quiet_start_utc,
                "quiet_end_utc": quiet_end_utc,
            },
        )
        _audit("calendar_saved", actor_discord_id, alliance=alliance.name, slots=labels, skipped=calendar.skipped_weekends)
        return calendar


def slot_schedule(alliance: Alliance, weekend: dt.date, slot_label: str) -> tuple[str, dt.datetime, dt.datetime]:
    """For ``/ark create_match``: (day, start, close) of a calendar slot on a weekend. A slot the
    calendar does not list, or a weekend that is no Ark weekend, is refused, naming the allowed ones."""
    calendar = get_calendar(alliance)
    if calendar is None:
        raise NotFoundError(_("%(alliance)s has no Ark calendar yet: an officer sets one in the admin (Ark calendars).") % {"alliance": alliance.name})
    slots = calendar_slots(calendar)
    allowed = ", ".join(s.label for s in slots)
    try:
        slot = parse_slot(slot_label)
    except ArkError:
        raise ArkError(_("%(slot_label)s is not a slot of %(alliance)s's calendar; allowed: %(allowed)s.") % {"slot_label": repr(slot_label), "alliance": alliance.name, "allowed": allowed}) from None
    if slot.label not in {s.label for s in slots}:
        raise ArkError(_("%(label)s is not a slot of %(alliance)s's calendar; allowed: %(allowed)s.") % {"label": slot.label, "alliance": alliance.name, "allowed": allowed})
    cadence = get_cadence()
    if not is_ark_weekend(weekend, cadence):
        raise ArkError(
            _("%(weekend)s is not an Ark weekend (every %(cadence_weekends)s weekends); the next one is %(next_ark_weekend)s.") % {"weekend": weekend, "cadence_weekends": cadence.cadence_weekends, "next_ark_weekend": next_ark_weekend(weekend, cadence)}
        )
    return slot.day, slot.start_on(weekend), signup_close_for(calendar, weekend)


# --- the scheduler (beat task) ----------------------------------------------------------------


@dataclass
class ScheduleReport(RunReport):
    created: list[int] = field(default_factory=list)  # ids of the matches created
    skipped: list[str] = field(default_factory=list)  # "<alliance>: no <channels>": calendars left for lack of a channel

    def __str__(self) -> str:
        return _("created %(created)s match(es), skipped %(skipped)s") % {"created": len(self.created), "skipped": len(self.skipped)}


def create_scheduled_matches(now: dt.datetime | None = None) -> ScheduleReport:
    """Create every match an enabled calendar says is due: each Ark weekend (not skipped) whose
    first-slot start is at most ``days_ahead`` away and whose signups have not closed yet.

    Exactly once, by construction: each calendar is claimed with ``SELECT … FOR UPDATE SKIP
    LOCKED`` (a second worker skips it), and a weekend that already has a match, even a
    cancelled one (an officer's decision), is left alone; the one-live-match-per-weekend
    constraint is the backstop. ``create_match`` posts the registration message."""
    now = _now(now)
    report = ScheduleReport()
    cadence = get_cadence()
    ids = list(
        ArkCalendar.objects.filter(is_enabled=True, alliance__is_active=True).values_list("pk", flat=True)
    )
    for calendar_id in ids:
        with transaction.atomic():
            calendar = claim_row(ArkCalendar.objects.select_related("alliance"), calendar_id, is_enabled=True)
            if calendar is None:
                continue  # another worker has it
            ally = calendar.alliance
            slots = calendar_slots(calendar)
            if not slots:
                continue
            if ally.missing_channels:
                report.skipped.append(_("%(alliance)s: no %(channels)s") % {"alliance": ally.name,
                                                                             "channels": ", ".join(ally.missing_channels)})
                continue
            slot, horizon = slots[0], now + dt.timedelta(days=calendar.days_ahead)
            skipped = set(calendar.skipped_weekends or [])
            for weekend in ark_weekends(now.date(), cadence):
                start = slot.start_on(weekend)
                if start > horizon:
                    break
                close = signup_close_for(calendar, weekend)
                if close <= now or weekend.isoformat() in skipped:
                    continue
                if Match.objects.filter(alliance=ally, ark_weekend_date=weekend).exists():
                    continue
                match = create_match(
                    alliance=ally,
                    ark_weekend_date=weekend,
                    match_day=slot.day,
                    match_time_utc=start,
                    signup_close_utc=close,
                    now=now,
                    scheduled=True,
                )
                report.created.append(match.pk)
    return report


# --- the officer's "Create the next matches" (admin) -------------------------------------------

LOOKAHEAD_WEEKENDS = 8  # how many Ark weekends ahead "the next match" is looked for


@dataclass(frozen=True)
class PlannedMatch:
    """A match the calendar would create: the alliance, the weekend, its first slot and close."""

    alliance: Alliance
    weekend: dt.date
    slot: CalendarSlot
    start: dt.datetime
    close: dt.datetime

    def __str__(self) -> str:
        return _("Ark %(weekend)s %(start)s UTC, %(alliance)s") % {"weekend": format(self.weekend, '%Y-%m-%d'), "start": dateformat.format(self.start, "l H:i"), "alliance": self.alliance.name}


@dataclass
class NextMatchesPlan:
    planned: list[PlannedMatch] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # why an alliance gets nothing, in plain words


def _next_free(calendar: ArkCalendar, now: dt.datetime, cadence: ArkSettings) -> PlannedMatch | str:
    """The calendar's first Ark weekend (not skipped, signups still open) without any match,
    even a cancelled one (an officer's decision), within ``LOOKAHEAD_WEEKENDS``; else why not."""
    slots = calendar_slots(calendar)
    ally = calendar.alliance
    if ally.missing_channels:
        return _("%(alliance)s: no %(channels)s set (Alliances › %(alliance)s).") % {"alliance": ally.name, "channels": _(" and ").join(ally.missing_channels)}
    skipped = set(calendar.skipped_weekends or [])
    taken = set(Match.objects.filter(alliance=ally, ark_weekend_date__gte=now.date() - dt.timedelta(days=1))
                .values_list("ark_weekend_date", flat=True))
    for n, weekend in enumerate(ark_weekends(now.date(), cadence)):
        if n >= LOOKAHEAD_WEEKENDS:
            break
        close = signup_close_for(calendar, weekend)
        if close <= now or weekend.isoformat() in skipped or weekend in taken:
            continue
        return PlannedMatch(ally, weekend, slots[0], slots[0].start_on(weekend), close)
    return _("%(alliance)s: every one of the next %(LOOKAHEAD_WEEKENDS)s Ark weekends already has a match or is skipped.") % {"alliance": ally.name, "LOOKAHEAD_WEEKENDS": LOOKAHEAD_WEEKENDS}


def plan_next_matches(now: dt.datetime | None = None) -> NextMatchesPlan:
    """What ``create_next_matches`` would create (writes nothing): per enabled calendar of an
    active alliance, its next Ark weekend without a match, at the calendar's first slot; and
    why each other alliance gets nothing."""
    now = _now(now)
    cadence = get_cadence()
    plan = NextMatchesPlan()
    calendars = {c.alliance_id: c for c in ArkCalendar.objects.select_related("alliance")}
    for ally in Alliance.objects.filter(is_active=True).order_by("name"):
        calendar = calendars.get(ally.pk)
        if calendar is None or not calendar.is_enabled or not calendar.slots:
            plan.left_out.append(_("%(alliance)s: no enabled Ark calendar (Ark calendars › Add).") % {"alliance": ally.name})
            continue
        found = _next_free(calendar, now, cadence)
        (plan.planned if isinstance(found, PlannedMatch) else plan.left_out).append(found)
    return plan


def create_next_matches(
    *, now: dt.datetime | None = None, actor_discord_id: int | None = None,
    only: set[tuple[int, dt.date]] | None = None,
) -> tuple[list[Match], list[str]]:
    """An officer's "Create the next matches": for each enabled calendar, its next Ark weekend
    without a match (``plan_next_matches``), created with the calendar's first slot and close,
    its registration message queued (``create_match``). One transaction: the calendars are
    locked (``FOR UPDATE``), so two officers clicking at once, or the scheduler running
    meanwhile, never create a weekend twice. ``only``: the (alliance id, weekend) pairs the
    officer was shown; a plan that moved on since (another officer was quicker) creates nothing
    unseen and says so. Returns the matches and why others got none."""
    now = _now(now)
    with transaction.atomic():
        list(ArkCalendar.objects.select_for_update(of=("self",)).order_by("pk"))  # one creator at a time
        plan = plan_next_matches(now)
        if only is not None:
            unseen = [p for p in plan.planned if (p.alliance.pk, p.weekend) not in only]
            plan.left_out += [_("%(alliance)s: its next match changed since you looked (now %(plan)s); look at the list again.") % {"alliance": p.alliance.name, "plan": p} for p in unseen]
            plan.planned = [p for p in plan.planned if p not in unseen]
        created = [
            create_match(alliance=p.alliance, ark_weekend_date=p.weekend, match_day=p.slot.day, match_time_utc=p.start,
                         signup_close_utc=p.close, now=now, scheduled=True, actor_discord_id=actor_discord_id)
            for p in plan.planned
        ]
    return created, plan.left_out
