"""Read-only reports of the raids app (no writes here): the season attendance report."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone

from raids.models import RaidAttendance, RaidSeason

ORDERS = {"name": "name", "signed_up": "signed_up", "attended": "attended", "percent": "percent"}


@dataclass(frozen=True)
class PlayerAttendance:
    player_id: int
    name: str
    signed_up: int
    attended: int
    percent: float


def season_attendance(season: RaidSeason, *, order: str = "name", now: dt.datetime | None = None
                      ) -> list[PlayerAttendance]:
    """Per player, over the season's events that have started: events signed up (accepted),
    events attended, and attended / events where they were signed up or attended (so someone
    who came off the bench counts, and nobody goes above 100 %). One query."""
    now = now or timezone.now()
    rows = (
        RaidAttendance.objects.filter(event__season=season, event__start_time_utc__lte=now)
        .values("player_id", "player__display_name")
        .annotate(signed=Count("pk", filter=Q(signed_up=True)), came=Count("pk", filter=Q(attended=True)),
                  expected=Count("pk", filter=Q(signed_up=True) | Q(attended=True)))
    )
    result = [
        PlayerAttendance(r["player_id"], r["player__display_name"], r["signed"], r["came"],
                         round(100.0 * r["came"] / r["expected"], 1) if r["expected"] else 0.0)
        for r in rows
    ]
    key = order.lstrip("-")
    if key not in ORDERS:
        key = "name"
    result.sort(key=lambda r: (getattr(r, ORDERS[key]), r.name.lower()) if key != "name" else r.name.lower(),
                reverse=order.startswith("-"))
    return result


def as_csv(rows: list[PlayerAttendance]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["player", "signed_up", "attended", "attendance_percent"])
    for r in rows:
        writer.writerow([r.name, r.signed_up, r.attended, r.percent])
    return out.getvalue()


def next_event_text(now: dt.datetime | None = None) -> str:
    """What ``/raid next`` says: the next raid with Discord time markup (each reader sees it in
    their own time zone) and the sign-up link."""
    from bot.outbox import discord_timestamp
    from raids.models import RaidEvent

    now = now or timezone.now()
    event = RaidEvent.objects.filter(start_time_utc__gt=now).order_by("start_time_utc", "pk").first()
    if event is None:
        return "No raid is booked yet. Officers book them in the admin; raid nights are booked a week ahead."
    lines = [f"**{event.title}** — {discord_timestamp(event.start_time_utc, 'F')} "
             f"({discord_timestamp(event.start_time_utc, 'R')})"]
    if event.raid_helper_url:
        lines.append(f"Sign up here: {event.raid_helper_url}")
    return "\n".join(lines)


def my_attendance_text(discord_id: int, now: dt.datetime | None = None) -> str:
    """What ``/raid attendance`` says: the member's attendance in the current season."""
    from raids.models import RaidSeason

    now = now or timezone.now()
    season = RaidSeason.objects.current(now.date())
    if season is None:
        return "There is no current raid season."
    from guildsync.models import Player

    player_id = Player.objects.filter(discord_user__discord_id=discord_id).values_list("pk", flat=True).first()
    if player_id is None:
        return "Your Discord account is not linked to a player yet: ask an officer."
    mine = [r for r in season_attendance(season, now=now) if r.player_id == player_id]
    if not mine:
        return f"No attendance recorded for you in {season.name} yet."
    r = mine[0]
    return f"{season.name}: signed up {r.signed_up}, attended {r.attended} ({r.percent} %)."
