"""Demo data for raids: a season, two weekly raid nights, six past weeks of events with
attendance (accepted, late, benched, absent, no-shows, no sign-up) and next week's events with
their sign-ups. Idempotent: every row is found by its natural key first.
Uses guildsync's players (its demo runs first); creates a small roster only if there is none.
Seasons, raid nights, events and settings are made by the services officers use; the past
weeks' attendance and booking links are written directly, as auto-booking would have."""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo

from django.db import transaction
from django.utils import timezone

from guildsync.models import DiscordUser, GuildRank, Player, PlayerCharacter, Specialization, WowCharacter
from raids import services
from raids.models import RaidAttendance, RaidEvent, RaidHelperSettings, RaidSeason, RecurringEvent

NIGHTS = [
    # label, weekday, local start, zone, minutes
    ("Heroic Progression", RecurringEvent.Weekday.TUESDAY, dt.time(20, 0), "Europe/Berlin", 180),
    ("Mythic Push", RecurringEvent.Weekday.THURSDAY, dt.time(20, 30), "Europe/Berlin", 150),
]
ROSTER = [  # name, rank level, spec, class, auto-invite, hiatus
    ("Aelith", 5, "Holy", "Paladin", True, False), ("Borin", 4, "Protection", "Warrior", True, False),
    ("Cyra", 3, "Fire", "Mage", True, False), ("Dunmar", 3, "Havoc", "Demon Hunter", False, False),
    ("Elowen", 2, "Restoration", "Druid", True, False), ("Fenric", 2, "Marksmanship", "Hunter", True, True),
    ("Galea", 1, "Devastation", "Evoker", False, False), ("Horus", 3, "Blood", "Death Knight", True, False),
]
WEEKS_BACK = 6


def _players(stdout) -> list[Player]:
    players = list(Player.objects.filter(is_active=True, main_character__isnull=False)
                   .select_related("guild_rank").order_by("pk")[:40])
    if players:
        return players
    stdout.write("raids demo: no guildsync players, creating a small roster")
    for i, (name, level, spec_name, class_name, auto, hiatus) in enumerate(ROSTER):
        spec = Specialization.objects.get(name=spec_name, wow_class__name=class_name)
        user, _ = DiscordUser.objects.get_or_create(discord_id=900_000_000_000_000_100 + i,
                                                    defaults={"username": name.lower(), "display_name": name})
        character, _ = WowCharacter.objects.get_or_create(
            character_name=name, realm_slug="silvermoon",
            defaults={"wow_class": spec.wow_class, "active_spec": spec, "level": 80})
        player, _ = Player.objects.get_or_create(display_name=name, defaults={
            "discord_user": user if i != len(ROSTER) - 1 else None, "main_character": character, "main_spec": spec,
            "guild_rank": GuildRank.objects.get(level=level), "auto_invite_events": auto, "on_raid_hiatus": hiatus})
        PlayerCharacter.objects.get_or_create(character=character, defaults={"player": player,
                                                                             "link_source": "manual"})
    return list(Player.objects.filter(display_name__in=[r[0] for r in ROSTER]).select_related("guild_rank"))


def _occurrences(weekday: int, start: dt.time, zone: str, today: dt.date) -> list[dt.datetime]:
    """The last WEEKS_BACK occurrences before today and the next one, as aware local datetimes."""
    tz = zoneinfo.ZoneInfo(zone)
    last = today - dt.timedelta(days=(today.weekday() - weekday) % 7 or 7)
    dates = [last - dt.timedelta(weeks=w) for w in reversed(range(WEEKS_BACK))] + [last + dt.timedelta(weeks=1)]
    return [dt.datetime.combine(d, start, tzinfo=tz) for d in dates]


def _demo_signup(player: Player, rng: random.Random, past: bool) -> tuple[str | None, bool, bool]:
    """A believable week: mostly accepted, some bench, tentative, absences (hiatus always),
    a few with no sign-up at all; of the past ones most accepted came, a few late, some
    no-shows, and now and then someone off the bench."""
    roll = rng.random()
    if player.on_raid_hiatus or roll < 0.10:
        status = "absence"
    elif roll < 0.15:
        return None, False, False
    elif roll < 0.28:
        status = "bench"
    elif roll < 0.36:
        status = "tentative"
    else:
        status = "accepted"
    attended = past and (status == "accepted" and rng.random() < 0.85
                         or status in ("tentative", "bench") and rng.random() < 0.3)
    return status, attended, attended and rng.random() < 0.1


def seed_demo(stdout) -> None:
    now = timezone.now()
    today = now.date()
    with transaction.atomic():
        if not RaidHelperSettings.objects.exists():
            services.save_settings(server_id="", raid_channel_id=None, leader_discord_id=None,
                                   default_template_id="wowretail2", timezone="Europe/Berlin")
        season = (RaidSeason.objects.filter(name="Demo season").first()
                  or services.save_season(None, name="Demo season",
                                          start_date=today - dt.timedelta(weeks=WEEKS_BACK + 1)))
        players = _players(stdout)
        events = 0
        for label, weekday, start, zone, minutes in NIGHTS:
            night = (RecurringEvent.objects.filter(label=label).first()
                     or services.save_recurring_event(None, label=label, day_of_week=weekday,
                                                      default_start_time=start, timezone=zone,
                                                      default_duration_minutes=minutes))
            previous = None
            for local in _occurrences(weekday, start, zone, today):
                start_utc = local.astimezone(dt.UTC)
                event = RaidEvent.objects.filter(recurring_event=night, event_date=local.date()).first()
                if event is None:
                    event = services.save_raid_event(
                        None, season=season, title=label, event_date=local.date(), start_time_utc=start_utc,
                        end_time_utc=start_utc + dt.timedelta(minutes=minutes), recurring_event=night)
                events += 1
                if previous is not None and previous.next_event_id is None:  # booked from the week before
                    RaidEvent.objects.filter(pk=previous.pk).update(next_event=event, next_booked_at=previous.end_time_utc)
                    RaidEvent.objects.filter(pk=event.pk).update(auto_booked=True)
                existing = set(event.attendance.values_list("player_id", flat=True))
                rng = random.Random(f"{label}-{local.date()}")
                past = event.start_time_utc < now
                rows = []
                for p in players:
                    status, attended, late = _demo_signup(p, rng, past)  # same draws on every run
                    if p.pk in existing or status is None:  # None: never signed up (the report: absent)
                        continue
                    rows.append(RaidAttendance(event=event, player=p, status=status, signed_up=status == "accepted",
                                               attended=attended, late=late, source="auto"))
                RaidAttendance.objects.bulk_create(rows)
                previous = event
    stdout.write(f"raids demo: season {season.name!r}, {len(NIGHTS)} raid nights, {events} events, "
                 f"{len(players)} players")
