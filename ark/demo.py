"""Demo data for the ark app: two alliances, a dozen governors, an open match with a
partial roster, and a match that started without a recorded result (officers can try
recording one). Idempotent: everything is looked up first and written through the services."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _

from core.demo import name_demo_ids

from . import services
from .models import Alliance, Governor, Match

ALLIANCES = [
    {
        "name": "Osiris Vanguard",
        "registration_channel_id": 1200000000000000101,
        "confirmation_channel_id": 1200000000000000102,
        "officer_channel_id": 1200000000000000103,
    },
    {
        "name": "Desert Lions",
        "registration_channel_id": 1200000000000000201,
        "confirmation_channel_id": 1200000000000000202,
    },
]
# Demo data (what officers would type; shown as typed, like any officer's notes), not UI text.
OPEN_NOTES = "Demo match: teleport at 11:50 UTC."
STARTED_NOTES = "Demo: played, result not recorded yet."
DRAFTED_NOTES = "Demo: locked early, teams drafted and published."
BAN_REASON = "Two no-shows in a row without telling the officers"
GOVERNORS = [  # (governor id, name, Discord user)
    (51234001, "Khufu", 1300000000000000001),
    (51234002, "Nefertari", 1300000000000000002),
    (51234003, "Ramses", 1300000000000000003),
    (51234004, "Hatshepsut", 1300000000000000004),
    (51234005, "Imhotep", 1300000000000000005),
    (51234006, "Cleo", 1300000000000000006),
    (51234007, "Cleo Farm", 1300000000000000006),
    (51234008, "Thutmose", 1300000000000000007),
    (51234009, "Ankh", 1300000000000000008),
    (51234010, "Seti", 1300000000000000009),
    (51234011, "Anubis", 1300000000000000010),
    (51234012, "Bastet", 1300000000000000011),
]
ROSTER = [51234001, 51234002, 51234003, 51234004, 51234006, 51234008, 51234009]


def next_weekend(now: dt.datetime) -> tuple[dt.date, dt.datetime, dt.datetime]:
    """The next Saturday whose signups (Friday 20:00 UTC) are still open."""
    weekend = services.ark_weekend_of(now.date())
    while True:
        start = dt.datetime.combine(weekend, dt.time(12, 0), tzinfo=dt.UTC)
        close = start - dt.timedelta(hours=16)
        if close > now:
            return weekend, start, close
        weekend += dt.timedelta(days=7)


CHANNEL_NAMES = {1200000000000000101: "ark-osiris-signups", 1200000000000000102: "ark-osiris-roster",
                 1200000000000000103: "ark-officers", 1200000000000000201: "ark-lions-signups",
                 1200000000000000202: "ark-lions-roster"}
PLAYER_NAMES = {1300000000000000001: "Khufu", 1300000000000000002: "Nefertari", 1300000000000000003: "Ramses",
                1300000000000000004: "Hatshepsut", 1300000000000000005: "Imhotep", 1300000000000000006: "Cleopatra",
                1300000000000000007: "Thutmose", 1300000000000000008: "Ankh", 1300000000000000009: "Seti",
                1300000000000000010: "Anubis", 1300000000000000011: "Bastet"}


def seed_demo(stdout) -> None:
    name_demo_ids(members=PLAYER_NAMES, channels=CHANNEL_NAMES)
    for spec in ALLIANCES:
        if not Alliance.objects.filter(name=spec["name"]).exists():
            services.save_alliance(**spec)
    for governor_id, name, user in GOVERNORS:
        if not Governor.objects.filter(governor_id=governor_id).exists():
            services.register_governor(governor_id=governor_id, name=name, discord_user_id=user)
    ally = Alliance.objects.get(name=ALLIANCES[0]["name"])
    open_matches = services.list_open_matches(ally)
    if open_matches:
        match = open_matches[0]
    else:
        weekend, start, close = next_weekend(timezone.now())
        match = services.create_match(
            alliance=ally,
            ark_weekend_date=weekend,
            match_day="Sat",
            match_time_utc=start,
            signup_close_utc=close,
            notes=OPEN_NOTES,
        )
    owners = {g: u for g, _, u in GOVERNORS}
    for governor_id in ROSTER:
        if services.find_active_signup_for_weekend(governor_id, match.ark_weekend_date) is None:
            services.add_signup(
                match_id=match.pk,
                governor_id=governor_id,
                discord_user_id=owners[governor_id],
                as_officer=match.status != "Scheduled",
            )
    started = _started_match(owners)
    calendar = _calendar(ally)
    stats = (
        services.import_governor_stats(data=STATS_CSV)
        if Governor.objects.filter(stats_updated_at__isnull=True).exists()
        else _("already imported")
    )
    drafted = _drafted_match(owners)
    from .models import Ban  # one ban for a repeated no-show, so the bans page has a row to read

    if not Ban.objects.filter(discord_user_id=1300000000000000011).exists():
        services.add_ban(discord_user_id=1300000000000000011, governor_id=51234012, weekends=2,
                         reason=BAN_REASON)
    stdout.write(
        _("ark: %(alliances)s alliances, %(governors)s governors, match #%(match)s with %(signups)s signups, "
          "match #%(started)s awaiting its result, calendar of %(calendar)s (%(slots)s), stats import "
          "(%(stats)s), locked match #%(drafted)s with a published draft") % {
            "alliances": len(ALLIANCES), "governors": len(GOVERNORS), "match": match.pk,
            "signups": len(services.get_roster(match.pk)), "started": started.pk,
            "calendar": calendar.alliance.name, "slots": ", ".join(calendar.slots), "stats": stats,
            "drafted": drafted.pk}
        + "\n"
    )


def _started_match(owners: dict[int, int]) -> Match:
    """The second alliance's match of the last weekend, locked and started, no result yet;
    made at the times it would have been (signups a day before the close, locked at the close)."""
    ally = Alliance.objects.get(name=ALLIANCES[1]["name"])
    waiting = Match.objects.filter(alliance=ally, status__in=Match.OPEN_STATUSES, result="",
                                   match_time_utc__lte=timezone.now()).first()
    if waiting is not None:
        return waiting
    weekend = services.ark_weekend_of(timezone.now().date()) - dt.timedelta(days=7)
    start = dt.datetime.combine(weekend, dt.time(12, 0), tzinfo=dt.UTC)
    close = start - dt.timedelta(hours=16)
    if Match.objects.filter(alliance=ally, ark_weekend_date=weekend).exclude(status="Cancelled").exists():
        return Match.objects.filter(alliance=ally, ark_weekend_date=weekend).first()  # result already recorded
    earlier = close - dt.timedelta(days=1)
    match = services.create_match(alliance=ally, ark_weekend_date=weekend, match_day="Sat", match_time_utc=start,
                                  signup_close_utc=close, notes=STARTED_NOTES,
                                  now=earlier)
    for governor_id in [g for g, _name, _owner in GOVERNORS if g not in ROSTER][:4]:
        services.add_signup(match_id=match.pk, governor_id=governor_id, discord_user_id=owners[governor_id],
                            now=earlier)
    return services.lock_match(match_id=match.pk, now=close)


# The stats export of a community tool (Governor ID, Name, Power, Kill Points, City Hall).
STATS_CSV = """Governor ID,Name,Power,Kill Points,City Hall,Troop Tier
51234001,Khufu,"92,400,000",2100000000,25,5
51234002,Nefertari,"81,250,000",1450000000,25,5
51234003,Ramses,"74,900,000",1320000000,25,5
51234004,Hatshepsut,"66,300,000",980000000,25,5
51234005,Imhotep,"58,700,000",870000000,25,4
51234006,Cleo,"49,800,000",610000000,24,4
51234007,Cleo Farm,"18,200,000",42000000,20,4
51234008,Thutmose,"44,100,000",530000000,24,4
51234009,Ankh,"39,600,000",410000000,23,4
51234010,Seti,"35,900,000",380000000,23,4
51234011,Anubis,"31,200,000",300000000,22,4
51234012,Bastet,"27,500,000",220000000,22,4
"""


def _calendar(ally: Alliance):
    """The first alliance's season plan: three slots, close Friday 23:00 UTC, a daily fill post."""
    calendar = services.get_calendar(ally)
    if calendar is not None:
        return calendar
    return services.save_calendar(
        alliance=ally, slots=["Sat 12:00", "Sat 20:00", "Sun 04:00"], days_ahead=14,
        nudge_time_utc=dt.time(18, 0), quiet_start_utc=dt.time(22, 0), quiet_end_utc=dt.time(8, 0),
    )


def _drafted_match(owners: dict[int, int]) -> Match:
    """The second alliance's next match, locked early by an officer, teams drafted (Anubis and
    Bastet kept together, Imhotep captains team 1) and published to the confirmation channel."""
    ally = Alliance.objects.get(name=ALLIANCES[1]["name"])
    done = Match.objects.filter(alliance=ally, status=Match.Status.LOCKED, draft_published_at__isnull=False).first()
    if done is not None:
        return done
    now = timezone.now()
    weekend = services.next_ark_weekend(now.date())
    while dt.datetime.combine(weekend - dt.timedelta(days=1), dt.time(23, 0), tzinfo=dt.UTC) <= now or (
        Match.objects.filter(alliance=ally, ark_weekend_date=weekend).exists()
    ):
        weekend = services.next_ark_weekend(weekend + dt.timedelta(days=2))  # from the Monday after
    start = dt.datetime.combine(weekend, dt.time(20, 0), tzinfo=dt.UTC)
    match = services.create_match(alliance=ally, ark_weekend_date=weekend, match_day="Sat", match_time_utc=start,
                                  signup_close_utc=start - dt.timedelta(hours=21),
                                  notes=DRAFTED_NOTES)
    team = [g for g, _name, _owner in GOVERNORS if g not in ROSTER]
    for governor_id in team:
        if services.find_active_signup_for_weekend(governor_id, weekend) is None:
            services.add_signup(match_id=match.pk, governor_id=governor_id, discord_user_id=owners[governor_id])
    services.lock_match(match_id=match.pk)
    services.add_draft_constraint(match_id=match.pk, kind="together", governor_id=51234011, other_governor_id=51234012)
    services.add_draft_constraint(match_id=match.pk, kind="captain", governor_id=51234005, team=1)
    services.draft_teams(match_id=match.pk)
    services.publish_draft(match_id=match.pk)
    return Match.objects.get(pk=match.pk)
