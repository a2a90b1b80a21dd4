"""Sign-up rules, attendance import from Raid-Helper, officers' marks, the season report."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from guildsync.models import Specialization
from raids import reports, services
from raids.models import RaidAttendance, RaidEvent, RaidSeason
from tests.factories import specialization as spec

pytestmark = pytest.mark.django_db
S = RaidAttendance.Status


@pytest.mark.parametrize("rank, auto_invite, hiatus, expected", [
    (5, True, False, S.ACCEPTED),
    (2, True, False, S.ACCEPTED),
    (4, False, False, S.TENTATIVE),
    (2, False, False, S.TENTATIVE),
    (1, True, False, S.BENCH),
    (1, False, False, S.BENCH),
    (None, True, False, S.BENCH),
    (5, True, True, S.ABSENCE),
    (1, False, True, S.ABSENCE),
])
def test_signup_rules_table(make_player, raid_night, rank, auto_invite, hiatus, expected):
    player = make_player("Rule", rank=rank, auto_invite=auto_invite, hiatus=hiatus, spec=("Blood", "Death Knight"))
    [signup] = services.build_signups(raid_night)
    assert signup.player_id == player.pk and signup.status == expected
    assert signup.discord_id == player.discord_user.discord_id
    if expected == S.ACCEPTED:
        assert (signup.class_name, signup.spec_name) == ("Tank", "Blood")
    else:
        assert (signup.class_name, signup.spec_name) == (expected.capitalize(), None)


def test_build_signups_only_active_players_with_a_main(make_player, raid_night):
    active = make_player("Active")
    make_player("NoMain", main=False)
    make_player("Gone", active=False)
    assert [s.player_id for s in services.build_signups(raid_night)] == [active.pk]


def test_accepted_without_spec_is_not_sent_but_kept(make_player, raid_night):
    make_player("Specless", spec=None)
    [signup] = services.build_signups(raid_night)
    assert signup.status == S.ACCEPTED and signup.class_name is None and "spec" in signup.skip_reason


@pytest.fixture
def specs():
    return list(Specialization.objects.select_related("wow_class", "default_role"))


@pytest.mark.parametrize("class_name, spec_name, main, expected", [
    ("Tentative", None, None, (S.TENTATIVE, None)),
    ("Late", None, None, (S.ACCEPTED, None)),
    ("Bench", None, None, (S.BENCH, None)),
    ("Absence", None, None, (S.ABSENCE, None)),
    ("Paladin", "Holy1", None, (S.ACCEPTED, ("Holy", "Paladin"))),
    ("Priest", "Holy", None, (S.ACCEPTED, ("Holy", "Priest"))),
    ("DK", "Frost1", None, (S.ACCEPTED, ("Frost", "Death Knight"))),
    ("Mage", "Frost", None, (S.ACCEPTED, ("Frost", "Mage"))),
    ("Hunter", "Beastmastery", None, (S.ACCEPTED, ("Beast Mastery", "Hunter"))),
    ("Hunter", "Marksman", None, (S.ACCEPTED, ("Marksmanship", "Hunter"))),
    ("DH", "Vengeance", None, (S.ACCEPTED, ("Vengeance", "Demon Hunter"))),
    ("Tank", "Blood", None, (S.ACCEPTED, ("Blood", "Death Knight"))),
    ("Healer", "Holy1", ("Holy", "Priest"), (S.ACCEPTED, ("Holy", "Paladin"))),  # "Holy1" is the Paladin's
    ("Healer", "Holy", ("Holy", "Priest"), (S.ACCEPTED, ("Holy", "Priest"))),
    ("Healer", "Holy", None, (S.ACCEPTED, None)),  # ambiguous, no main spec to settle it
    ("Ranged", "Shadow", None, (S.ACCEPTED, ("Shadow", "Priest"))),
    ("Melee", "Unknown", None, (S.ACCEPTED, None)),
])
def test_map_signup(specs, class_name, spec_name, main, expected):
    main_spec = spec(*main) if main else None
    placed = services.map_signup(class_name, spec_name, specs, main_spec)
    assert placed.status == expected[0]
    assert placed.spec == (spec(*expected[1]) if expected[1] else None)


def test_import_signups(raid_config, finished_event, make_player, fake_raid_helper):
    event, rh = finished_event
    paladin = make_player("Pala", spec=("Holy", "Paladin"))
    priest = make_player("Prie", spec=("Holy", "Priest"))
    tentative = make_player("Tent")
    absent = make_player("Abs")
    manual = RaidAttendance.objects.create(event=event, player=absent, status=S.ACCEPTED, attended=True,
                                           source="manual")
    for player, cls, spec_name in [(paladin, "Healer", "Holy1"), (priest, "Priest", "Holy"),
                                   (tentative, "Tentative", None), (absent, "Absence", None)]:
        fake_raid_helper._store_signup(rh, {"userId": player.discord_user.discord_id, "className": cls,
                                            "specName": spec_name})
    fake_raid_helper._store_signup(rh, {"userId": 1234, "className": "Tank", "specName": "Blood"})

    report = services.import_signups(event)

    assert (report.created, report.updated, report.unmatched) == (3, 1, 1)
    rows = {a.player_id: a for a in event.attendance.all()}
    assert (rows[paladin.pk].status, rows[paladin.pk].specialization) == (S.ACCEPTED, spec("Holy", "Paladin"))
    assert rows[paladin.pk].signed_up and rows[paladin.pk].source == "raid_helper"
    assert rows[priest.pk].specialization == spec("Holy", "Priest")
    assert rows[tentative.pk].status == S.TENTATIVE and not rows[tentative.pk].signed_up
    manual.refresh_from_db()
    assert manual.status == S.ABSENCE and manual.attended  # officers' attended mark is kept
    event.refresh_from_db()
    assert event.signups_imported_at
    # running it again changes nothing
    again = services.import_signups(event)
    assert (again.created, again.updated) == (0, 4) and event.attendance.count() == 4


def test_import_without_raid_helper_event_is_refused(raid_config, make_event, raid_night):
    event = make_event(raid_night, timezone.now())
    with pytest.raises(services.RaidsError, match="no Raid-Helper event"):
        services.import_signups(event)


def test_import_of_unknown_event_raises_raid_helper_error(raid_config, make_event, raid_night):
    from raids.clients import RaidHelperError

    event = make_event(raid_night, timezone.now(), raid_helper_event_id="404404")
    with pytest.raises(RaidHelperError, match="Event not found"):
        services.import_signups(event)
    assert not event.attendance.exists()


def test_import_finished_events_imports_each_once(raid_config, finished_event, make_player, fake_raid_helper,
                                                  make_event, raid_night):
    event, rh = finished_event
    player = make_player("Imp")
    fake_raid_helper._store_signup(rh, {"userId": player.discord_user.discord_id, "className": "Bench"})
    make_event(raid_night, timezone.now() + dt.timedelta(days=1), raid_helper_event_id="555")  # not over yet
    assert services.import_finished_events() == {"imported": 1, "skipped": 0, "failed": 0}
    assert services.import_finished_events() == {"imported": 0, "skipped": 1, "failed": 0}
    assert RaidAttendance.objects.get().status == S.BENCH
    assert len(fake_raid_helper.calls("GET", r"/events/\d+$")) == 1


def test_mark_accepted_attended_and_set_attendance(make_event, raid_night, make_player):
    event = make_event(raid_night, timezone.now())
    a, b, c = make_player("A"), make_player("B"), make_player("C")
    RaidAttendance.objects.create(event=event, player=a, status=S.ACCEPTED)
    RaidAttendance.objects.create(event=event, player=b, status=S.TENTATIVE)
    assert services.mark_accepted_attended([event.pk]) == 1
    assert services.mark_accepted_attended([event.pk]) == 0
    row = services.set_attendance(event, c, status=S.BENCH, attended=True)
    assert row.source == "manual" and row.attended
    services.set_attendance(event, b, status=S.ACCEPTED, attended=True)
    assert set(event.attendance.filter(attended=True).values_list("player__display_name", flat=True)) == {"A", "B", "C"}
    with pytest.raises(services.RaidsError, match="not an attendance status"):
        services.set_attendance(event, a, status="late", attended=True)
    assert services.remove_attendance([row.pk]) == 1


def test_season_report(make_event, raid_night, make_player):
    """Every raid held since a player joined counts once: attended (late included), benched,
    absent (signed off or never signed up) or no-show; % = attended ÷ those raids."""
    season = RaidSeason.objects.create(name="S", start_date=dt.date(2020, 1, 1))
    now = timezone.now()
    e0 = make_event(raid_night, now - dt.timedelta(days=21), season=season)
    e1 = make_event(raid_night, now - dt.timedelta(days=14), season=season)
    e2 = make_event(raid_night, now - dt.timedelta(days=7), season=season)
    future = make_event(raid_night, now + dt.timedelta(days=7), season=season)
    other = make_event(None, now - dt.timedelta(days=3))
    anna, bert, cara, eve = (make_player(n) for n in ("Anna", "Bert", "Cara", "Eve"))
    for e in (e1, e2, future, other):
        RaidAttendance.objects.create(event=e, player=anna, status=S.ACCEPTED, signed_up=True, attended=e != future)
    RaidAttendance.objects.create(event=e1, player=bert, status=S.ACCEPTED, signed_up=True, attended=False)
    RaidAttendance.objects.create(event=e2, player=bert, status=S.BENCH, attended=True, late=True)
    RaidAttendance.objects.create(event=e2, player=cara, status=S.ABSENCE)
    RaidAttendance.objects.create(event=e0, player=eve, status=S.ACCEPTED, signed_up=True, attended=True)
    RaidAttendance.objects.create(event=e2, player=eve, status=S.BENCH)  # and no sign-up at all for e1

    report = reports.season_report(season, now=now)
    assert report.raids_held == 3
    got = [(r.name, r.raids, r.attended, r.late, r.benched, r.absent, r.no_show, r.percent) for r in report.players]
    assert got == [("Anna", 2, 2, 0, 0, 0, 0, 100.0), ("Bert", 2, 1, 1, 0, 0, 1, 50.0),
                   ("Cara", 1, 0, 0, 0, 1, 0, 0.0), ("Eve", 3, 1, 0, 1, 1, 0, 33.3)]
    for r in report.players:  # each raid since joining is exactly one of the four
        assert r.attended + r.benched + r.absent + r.no_show == r.raids
    assert report.players[3].joined == e0.start_time_utc.date()
    assert [(w.raids, w.expected, w.attended, w.percent) for w in report.weeks] == [
        (1, 1, 1, 100.0), (1, 3, 1, 33.3), (1, 4, 2, 50.0)]
    by_pct = reports.season_attendance(season, order="percent", now=now)
    assert [r.name for r in by_pct] == ["Cara", "Eve", "Bert", "Anna"]
    assert [r.name for r in reports.season_attendance(season, order="-percent", now=now)][0] == "Anna"
    assert [r.name for r in reports.season_attendance(season, order="-no_show", now=now)][0] == "Bert"
    csv_text = reports.as_csv(report.players)
    assert csv_text.splitlines()[0] == ("player,joined,raids_since_joined,attended,late,benched,absent,no_show,"
                                        "attendance_percent")
    assert csv_text.splitlines()[2] == f"Bert,{e1.start_time_utc.date().isoformat()},2,1,1,0,0,1,50.0"
    assert reports.weeks_as_csv(report.weeks).splitlines()[2].endswith(",1,3,1,33.3")
    assert RaidEvent.objects.count() == 5


def test_late_only_with_attended(make_event, raid_night, make_player):
    event = make_event(raid_night, timezone.now() - dt.timedelta(days=1))
    player = make_player("Tardy")
    with pytest.raises(services.RaidsError, match="late but not attended"):
        services.set_attendance(event, player, status=S.ACCEPTED, attended=False, late=True)
    row = services.set_attendance(event, player, status=S.ACCEPTED, attended=True, late=True)
    assert row.late and row.attended


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_parallel_imports_fetch_each_event_once(raid_config, raid_night, make_event, make_player, fake_raid_helper,
                                                run_in_parallel):
    player = make_player("Par")
    for days in (1, 2):
        start = timezone.now() - dt.timedelta(days=days)
        rh = fake_raid_helper.add_event(raid_night.label, start,
                                        signups=[{"userId": player.discord_user.discord_id, "className": "Bench"}])
        make_event(raid_night, start, raid_helper_event_id=rh["id"])
    results = run_in_parallel(lambda i: services.import_finished_events(), 3)
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sum(r["imported"] for r in results) == 2 and sum(r["failed"] for r in results) == 0
    assert len(fake_raid_helper.calls("GET", r"/events/\d+$")) == 2
    assert RaidAttendance.objects.filter(status=S.BENCH).count() == 2
