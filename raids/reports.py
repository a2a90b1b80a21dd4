"""Read-only reports of the raids app (no writes here): the season attendance report."""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import io
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy

from core import i18n
from guildsync.models import Player
from raids.models import RaidAttendance, RaidEvent, RaidSeason

Status = RaidAttendance.Status

ORDERS = ("name", "joined", "raids", "attended", "late", "benched", "absent", "no_show", "percent")
COLUMNS = [("name", pgettext_lazy("raid attendance report", "Player")),
           ("joined", pgettext_lazy("raid attendance report", "Joined")),
           ("raids", gettext_lazy("Raids since joined")),
           ("attended", pgettext_lazy("raid attendance report", "Attended")),
           ("late", gettext_lazy("of which late")),
           ("benched", pgettext_lazy("raid attendance report", "Benched")),
           ("absent", pgettext_lazy("raid attendance report", "Absent")),
           ("no_show", pgettext_lazy("raid attendance report", "No-show")),
           ("percent", gettext_lazy("Attendance %"))]


@dataclass(frozen=True)
class PlayerAttendance:
    """One player's season. ``raids`` = raids held since they joined the roster; every one of
    them is exactly one of attended / benched / absent / no-show (``late`` is part of attended)."""

    player_id: int
    name: str
    joined: dt.date
    raids: int
    attended: int
    late: int
    benched: int
    absent: int
    no_show: int
    percent: float


@dataclass(frozen=True)
class WeekPoint:
    """One week of the trend: player-raids expected (each raid × players on the roster then)
    and attended."""

    week: dt.date  # the Monday
    raids: int
    expected: int
    attended: int
    percent: float


@dataclass(frozen=True)
class SeasonReport:
    season: RaidSeason
    raids_held: int
    players: list[PlayerAttendance]
    weeks: list[WeekPoint]


def _percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def season_report(season: RaidSeason, *, order: str = "name", now: dt.datetime | None = None) -> SeasonReport:
    """The season's attendance, three queries whatever the size.

    Raids held = the season's events that have started. A player joined the roster when their
    player record was created, or at their first raid of the season if that was earlier. Of the
    raids held since then each counts once: attended (late or not) if marked attended; else
    benched (bench), absent (signed off, or no sign-up at all) or no-show (accepted or tentative
    but did not come). Attendance % = attended ÷ raids held since joining, so a raid someone
    never signed up for counts against them."""
    now = now or timezone.now()
    events = list(RaidEvent.objects.filter(season=season, start_time_utc__lte=now)
                  .order_by("start_time_utc", "pk").values_list("pk", "start_time_utc"))
    starts = [start for _, start in events]
    rows = list(RaidAttendance.objects.filter(event__season=season, event__start_time_utc__lte=now)
                .values_list("player_id", "event_id", "status", "attended", "late"))
    start_of = dict(events)
    players = {pk: (name, created) for pk, name, created in
               Player.objects.filter(pk__in={r[0] for r in rows}).values_list("pk", "display_name", "created_at")}
    per_player: dict[int, list] = {}
    for player_id, event_id, status, attended, late in rows:
        per_player.setdefault(player_id, []).append((start_of[event_id], status, attended, late))

    result, joined_at = [], {}
    for player_id, own in per_player.items():
        name, created = players[player_id]
        joined = min(created, min(start for start, *_ in own))
        joined_at[player_id] = joined
        held = len(starts) - bisect.bisect_left(starts, joined)
        came = sum(1 for _, _, attended, _ in own if attended)
        late = sum(1 for _, _, attended, late in own if attended and late)
        benched = sum(1 for _, status, attended, _ in own if not attended and status == Status.BENCH)
        no_show = sum(1 for _, status, attended, _ in own
                      if not attended and status in (Status.ACCEPTED, Status.TENTATIVE))
        absent = held - came - benched - no_show  # signed off, or never signed up
        result.append(PlayerAttendance(player_id, name, joined.date(), held, came, late, benched, absent, no_show,
                                       _percent(came, held)))
    key = order.lstrip("-")
    if key not in ORDERS:
        key = "name"
    result.sort(key=lambda r: (getattr(r, key), r.name.lower()) if key != "name" else r.name.lower(),
                reverse=order.startswith("-"))
    return SeasonReport(season, len(events), result, _weeks(starts, rows, start_of, joined_at))


def _weeks(starts: list[dt.datetime], rows: list[tuple], start_of: dict, joined_at: dict[int, dt.datetime]
           ) -> list[WeekPoint]:
    def monday(moment: dt.datetime) -> dt.date:
        day = moment.date()
        return day - dt.timedelta(days=day.weekday())

    joins = sorted(joined_at.values())
    weeks: dict[dt.date, list[int]] = {}
    for start in starts:
        point = weeks.setdefault(monday(start), [0, 0, 0])
        point[0] += 1
        point[1] += bisect.bisect_right(joins, start)  # players on the roster at that raid
    for _, event_id, _, attended, _ in rows:
        if attended:
            weeks[monday(start_of[event_id])][2] += 1
    return [WeekPoint(week, raids, expected, came, _percent(came, expected))
            for week, (raids, expected, came) in sorted(weeks.items())]


def season_attendance(season: RaidSeason, *, order: str = "name", now: dt.datetime | None = None
                      ) -> list[PlayerAttendance]:
    """The per-player rows of ``season_report``."""
    return season_report(season, order=order, now=now).players


def as_csv(rows: list[PlayerAttendance]) -> str:
    """The report's table, same columns and numbers."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["player", "joined", "raids_since_joined", "attended", "late", "benched", "absent", "no_show",
                     "attendance_percent"])
    for r in rows:
        writer.writerow([r.name, r.joined.isoformat(), r.raids, r.attended, r.late, r.benched, r.absent, r.no_show,
                         r.percent])
    return out.getvalue()


def weeks_as_csv(weeks: list[WeekPoint]) -> str:
    """The trend chart's numbers."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["week", "raids", "expected", "attended", "attendance_percent"])
    for w in weeks:
        writer.writerow([w.week.isoformat(), w.raids, w.expected, w.attended, w.percent])
    return out.getvalue()


def next_event_text(now: dt.datetime | None = None) -> str:
    """What ``/raid next`` says: the next raid with Discord time markup (each reader sees it in
    their own time zone) and the sign-up link."""
    from bot.outbox import discord_timestamp
    from raids.models import RaidEvent

    now = now or timezone.now()
    event = RaidEvent.objects.filter(start_time_utc__gt=now).order_by("start_time_utc", "pk").first()
    if event is None:
        return gettext("No raid is booked yet. Officers book them in the admin; raid nights are booked a week ahead.")
    lines = [f"**{event.title}** — {discord_timestamp(event.start_time_utc, 'F')} "
             f"({discord_timestamp(event.start_time_utc, 'R')})"]
    if event.raid_helper_url:
        lines.append(gettext("Sign up here: %(url)s") % {"url": event.raid_helper_url})
    return "\n".join(lines)


def my_attendance_text(discord_id: int, now: dt.datetime | None = None) -> str:
    """What ``/raid attendance`` says: the member's attendance in the current season."""
    from raids.models import RaidSeason

    now = now or timezone.now()
    season = RaidSeason.objects.current(now.date())
    if season is None:
        return gettext("There is no current raid season.")
    player_id = Player.objects.filter(discord_user__discord_id=discord_id).values_list("pk", flat=True).first()
    if player_id is None:
        return gettext("Your Discord account is not linked to a player yet: ask an officer.")
    mine = [r for r in season_attendance(season, now=now) if r.player_id == player_id]
    if not mine:
        return gettext("No attendance recorded for you in %(season)s yet.") % {"season": season.name}
    r = mine[0]
    return gettext("%(season)s: attended %(attended)s of %(raids)s raids since you joined (%(percent)s); late %(late)s, "
             "benched %(benched)s, absent %(absent)s, no-show %(no_show)s.") % {
        "season": season.name, "attended": i18n.number(r.attended), "raids": i18n.number(r.raids),
        "percent": i18n.percent(r.percent, 1), "late": i18n.number(r.late),
        "benched": i18n.number(r.benched), "absent": i18n.number(r.absent), "no_show": i18n.number(r.no_show)}
