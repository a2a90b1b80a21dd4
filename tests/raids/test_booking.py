"""Auto-booking end to end: services against the fake Raid-Helper, outbox to the fake Discord."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.utils import timezone

from bot.models import OutboxMessage
from raids import services
from raids.models import RaidAttendance, RaidEvent, RaidHelperSettings, RaidSeason
from tests import factories
from tests.raids.conftest import LEADER, RAID_CHANNEL

pytestmark = pytest.mark.django_db
Push = RaidAttendance.SignupPush


def nothing_written(source: RaidEvent) -> None:
    source.refresh_from_db()
    assert source.next_booked_at is None and source.next_event is None
    assert RaidEvent.objects.count() == 1
    assert not RaidAttendance.objects.exists()
    assert not OutboxMessage.objects.exists()


@pytest.fixture
def season(db):
    return RaidSeason.objects.create(name="Season 3", start_date=dt.date(2020, 1, 1))


@pytest.fixture
def roster(db):
    return factories.raid_roster()


def test_event_12_minutes_ago_books_next_week(raid_config, raid_night, make_event, roster, season, fake_raid_helper,
                                              fake_discord, deliver_outbox):
    now = timezone.now()
    source = make_event(raid_night, now - dt.timedelta(minutes=12))

    run = services.check_and_auto_book(now)

    assert (run.booked, run.skipped, run.failed) == (1, 0, 0)
    source.refresh_from_db()
    new = RaidEvent.objects.exclude(pk=source.pk).get()
    assert new.event_date == source.event_date + dt.timedelta(days=7)
    assert new.start_time_utc == source.start_time_utc + dt.timedelta(days=7)
    assert new.end_time_utc == new.start_time_utc + dt.timedelta(minutes=180)
    assert new.auto_booked and new.recurring_event == raid_night and new.season == season
    assert new.title == "Heroic Progression" and new.discord_channel_id == RAID_CHANNEL
    assert source.next_booked_at == now and source.next_event == new
    # Raid-Helper got exactly what the issue specifies
    [create] = fake_raid_helper.calls("POST", r"/event$")
    assert create.path == f"/servers/{fake_raid_helper.server_id}/channels/{RAID_CHANNEL}/event"
    assert create.headers["Authorization"] == fake_raid_helper.api_key
    start = new.start_time_utc
    assert create.json == {"leaderId": str(LEADER), "templateId": "wowretail2", "title": "Heroic Progression",
                           "description": services.EVENT_DESCRIPTION, "date": start.strftime("%Y-%m-%d"),
                           "time": start.strftime("%H:%M"), "advancedSettings": {"duration": 180}}
    [rh_event] = fake_raid_helper.events.values()
    assert new.raid_helper_event_id == rh_event["id"] and new.raid_helper_payload["event"]["id"] == rh_event["id"]
    # attendance rows: active players with a main character, by the sign-up rules
    rows = {a.player.display_name: a for a in new.attendance.select_related("player")}
    assert {n: (r.status, r.signed_up, r.source) for n, r in rows.items()} == {
        "Aelith": ("accepted", True, "auto"), "Borin": ("tentative", False, "auto"),
        "Cyra": ("bench", False, "auto"), "Dunmar": ("absence", False, "auto"),
        "Elowen": ("accepted", True, "auto"),
    }
    # Raid-Helper sign-ups: role slots for accepted, status columns for the others, none without Discord
    signups = {s["userId"]: (s["className"], s["specName"]) for s in fake_raid_helper.signups(rh_event["id"])}
    assert signups == {
        str(roster["accepted"].discord_user.discord_id): ("Healer", "Holy"),
        str(roster["tentative"].discord_user.discord_id): ("Tentative", None),
        str(roster["bench"].discord_user.discord_id): ("Bench", None),
        str(roster["absence"].discord_user.discord_id): ("Absence", None),
    }
    assert rows["Elowen"].signup_push == Push.SKIPPED and "Discord" in rows["Elowen"].signup_push_error
    assert all(r.signup_push == Push.SENT and r.raid_helper_signup_id for n, r in rows.items() if n != "Elowen")
    # announcement queued in the same transaction, delivered through the outbox
    message = OutboxMessage.objects.get(topic="raids.announcement")
    url = f"https://raid-helper.dev/event/{rh_event['id']}"
    assert message.channel_id == RAID_CHANNEL
    assert message.payload["content"] == f"📅 Next week's raid has been posted! Sign up here: {url}"
    assert deliver_outbox().sent == 1
    [posted] = fake_discord.posted(RAID_CHANNEL)
    assert url in posted["content"]


def test_same_source_twice_books_once(raid_config, raid_night, make_event, roster, fake_raid_helper):
    now = timezone.now()
    source = make_event(raid_night, now - dt.timedelta(minutes=12))
    assert services.check_and_auto_book(now).booked == 1
    second = services.check_and_auto_book(now + dt.timedelta(minutes=5))
    assert (second.booked, second.failed) == (0, 0)
    again = services.book_next_occurrence(source, now=now)
    assert again.status == services.BookingResult.ALREADY_BOOKED
    assert RaidEvent.objects.count() == 2 and len(fake_raid_helper.events) == 1
    assert OutboxMessage.objects.count() == 1


def test_next_week_already_booked_by_hand_marks_source(raid_config, raid_night, make_event, fake_raid_helper):
    now = timezone.now()
    source = make_event(raid_night, now - dt.timedelta(minutes=15))
    manual = make_event(raid_night, source.start_time_utc + dt.timedelta(days=7), raid_helper_event_id="42")
    run = services.check_and_auto_book(now)
    assert (run.booked, run.skipped, run.failed) == (0, 1, 0)
    source.refresh_from_db()
    assert source.next_booked_at == now and source.next_event == manual
    assert fake_raid_helper.requests == [] and not OutboxMessage.objects.exists()


@pytest.mark.parametrize("key, server_id", [("", "123456789012345678"), ("fake-raid-helper-key", "")])
def test_not_configured_is_quiet_and_writes_nothing(settings, fake_raid_helper, raid_night, make_event, roster,
                                                    key, server_id):
    settings.RAID_HELPER_API_KEY = key
    factories.raid_config(server_id)
    now = timezone.now()
    source = make_event(raid_night, now - dt.timedelta(minutes=12))
    run = services.check_and_auto_book(now)
    assert run.configured is False and (run.booked, run.failed) == (0, 0)
    nothing_written(source)
    assert fake_raid_helper.requests == []


def test_no_settings_row_at_all_is_not_configured(fake_raid_helper, raid_night, make_event):
    source = make_event(raid_night, timezone.now() - dt.timedelta(minutes=12))
    assert services.check_and_auto_book().configured is False
    nothing_written(source)


def test_raid_helper_500_writes_nothing_then_next_poll_books(raid_config, raid_night, make_event, roster,
                                                             fake_raid_helper):
    now = timezone.now()
    source = make_event(raid_night, now - dt.timedelta(minutes=12))
    fake_raid_helper.fail_next("POST", r"/event$", 500, {"status": "failed", "reason": "Internal error"})
    run = services.check_and_auto_book(now)
    assert (run.booked, run.failed) == (0, 1) and "Internal error" in run.errors[0]
    nothing_written(source)
    later = services.check_and_auto_book(now + dt.timedelta(minutes=5))  # still in the window
    assert later.booked == 1
    source.refresh_from_db()
    assert source.next_event.raid_helper_event_id in fake_raid_helper.events
    assert len(fake_raid_helper.events) == 1


def test_connection_refused_writes_nothing(raid_config, raid_night, make_event, roster, settings):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.RAID_HELPER_API_BASE = f"http://127.0.0.1:{port}/api/v4"
    source = make_event(raid_night, timezone.now() - dt.timedelta(minutes=12))
    run = services.check_and_auto_book()
    assert run.failed == 1 and "unreachable" in run.errors[0]
    nothing_written(source)


def test_timeout_after_create_adopts_instead_of_creating_twice(raid_config, raid_night, make_event, roster,
                                                              fake_raid_helper, settings):
    settings.RAID_HELPER_HTTP_TIMEOUT = 0.5
    now = timezone.now()
    source = make_event(raid_night, now - dt.timedelta(minutes=12))
    fake_raid_helper.stall_next("POST", r"/event$", 1.5, then_handle=True)
    run = services.check_and_auto_book(now)
    assert run.failed == 1 and "no answer" in run.errors[0]
    nothing_written(source)
    deadline = time.monotonic() + 5
    while not fake_raid_helper.events and time.monotonic() < deadline:  # Raid-Helper finishes the create
        time.sleep(0.05)
    [rh_id] = fake_raid_helper.events
    later = services.check_and_auto_book(now + dt.timedelta(minutes=5))
    assert later.booked == 1
    assert len(fake_raid_helper.events) == 1 and len(fake_raid_helper.calls("POST", r"/event$")) == 1
    source.refresh_from_db()
    assert source.next_event.raid_helper_event_id == rh_id
    assert OutboxMessage.objects.get().payload["content"].endswith(f"/event/{rh_id}")
    assert len(fake_raid_helper.signups(rh_id)) == 4


@pytest.mark.parametrize("season_kwargs", [None, {"is_active": False}, {"start_date": dt.date(2999, 1, 1)}])
def test_no_current_season_leaves_season_empty(raid_config, raid_night, make_event, fake_raid_helper,
                                               season_kwargs):
    if season_kwargs is not None:
        RaidSeason.objects.create(name="Other", **{"start_date": dt.date(2020, 1, 1), **season_kwargs})
    make_event(raid_night, timezone.now() - dt.timedelta(minutes=12))
    assert services.check_and_auto_book().booked == 1
    assert RaidEvent.objects.get(auto_booked=True).season is None


def test_current_season_is_latest_active_started_one(db):
    RaidSeason.objects.create(name="S1", start_date=dt.date(2026, 1, 1))
    s2 = RaidSeason.objects.create(name="S2", start_date=dt.date(2026, 6, 1))
    RaidSeason.objects.create(name="S3", start_date=dt.date(2026, 9, 1), is_active=False)
    RaidSeason.objects.create(name="S4", start_date=dt.date(2027, 1, 1))
    assert services.current_season(dt.date(2026, 10, 1)) == s2


def test_player_without_discord_gets_attendance_but_no_signup(raid_config, raid_night, make_event, make_player,
                                                              fake_raid_helper):
    player = make_player("Nodiscord", rank=4, discord=False)
    make_event(raid_night, timezone.now() - dt.timedelta(minutes=12))
    result = services.check_and_auto_book()
    assert result.booked == 1
    row = RaidAttendance.objects.get(player=player)
    assert row.status == "accepted" and row.signup_push == Push.SKIPPED
    assert fake_raid_helper.calls("POST", r"/signups$") == []


def test_outside_window_and_inactive_nights_are_not_booked(raid_config, raid_night, make_event, fake_raid_helper):
    now = timezone.now()
    make_event(raid_night, now - dt.timedelta(minutes=9), event_date=dt.date(2030, 1, 1))
    make_event(raid_night, now - dt.timedelta(minutes=21), event_date=dt.date(2030, 1, 2))
    make_event(None, now - dt.timedelta(minutes=12))
    run = services.check_and_auto_book(now)
    assert (run.booked, run.skipped, run.failed) == (0, 0, 0)
    raid_night.is_active = False
    raid_night.save()
    make_event(raid_night, now - dt.timedelta(minutes=12), event_date=dt.date(2030, 1, 3))
    assert services.check_and_auto_book(now).booked == 0


def test_signups_failing_midway_are_recorded_and_retried(raid_config, raid_night, make_event, roster,
                                                         fake_raid_helper):
    now = timezone.now()
    make_event(raid_night, now - dt.timedelta(minutes=12))
    fake_raid_helper.fail_next("POST", r"/signups$", 400, {"status": "failed", "reason": "Unknown spec"})
    fake_raid_helper.fail_next("POST", r"/signups$", 503, "Service Unavailable")
    result = services.book_next_occurrence(RaidEvent.objects.get(), now=now)
    assert result.status == "booked" and (result.signups_sent, result.signups_failed) == (0, 2)
    event = result.event
    states = sorted(event.attendance.values_list("signup_push", "signup_push_error"))
    assert [s for s, _ in states] == ["failed", "failed", "pending", "pending", "skipped"]
    assert {e for s, e in states if s == "failed"} == {"Raid-Helper 400: Unknown spec",
                                                        "Raid-Helper 503: Service Unavailable"}
    # the event itself is recorded and announced
    assert event.raid_helper_event_id in fake_raid_helper.events and OutboxMessage.objects.count() == 1
    retried = services.retry_signups(now)
    assert (retried.sent, retried.failed) == (4, 0)
    assert len(fake_raid_helper.signups(event.raid_helper_event_id)) == 4
    assert services.retry_signups(now).sent == 0  # nothing left


def test_failed_signup_gives_up_after_max_attempts(raid_config, raid_night, make_event, make_player, fake_raid_helper):
    make_player("Solo", rank=4)
    now = timezone.now()
    make_event(raid_night, now - dt.timedelta(minutes=12))
    fake_raid_helper.fail_next("POST", r"/signups$", 500, "down", times=services.MAX_SIGNUP_ATTEMPTS)
    services.check_and_auto_book(now)
    for _ in range(services.MAX_SIGNUP_ATTEMPTS + 2):
        services.retry_signups(now)
    row = RaidAttendance.objects.get()
    assert row.signup_push == Push.FAILED and row.signup_push_attempts == services.MAX_SIGNUP_ATTEMPTS
    assert len(fake_raid_helper.calls("POST", r"/signups$")) == services.MAX_SIGNUP_ATTEMPTS


def test_missed_event_booked_by_hand_after_window(raid_config, raid_night, make_event, roster, fake_raid_helper):
    now = timezone.now()
    source = make_event(raid_night, now - dt.timedelta(hours=5))
    assert services.check_and_auto_book(now).booked == 0
    result = services.book_next_occurrence(source, now=now)
    assert result.status == "booked" and result.event.event_date == source.event_date + dt.timedelta(days=7)


def test_next_occurrence_already_started_is_refused(raid_config, raid_night, make_event, fake_raid_helper):
    source = make_event(raid_night, timezone.now() - dt.timedelta(days=8))
    with pytest.raises(services.RaidsError, match="has already started"):
        services.book_next_occurrence(source)
    assert fake_raid_helper.requests == []


@pytest.mark.parametrize("change, message", [
    ({"raid_channel_id": None}, "No Discord channel"),
    ({"leader_discord_id": None}, "leader"),
])
def test_incomplete_settings_are_clear_errors(raid_config, raid_night, make_event, fake_raid_helper, change, message):
    RaidHelperSettings.objects.filter(pk=1).update(**change)
    source = make_event(raid_night, timezone.now() - dt.timedelta(minutes=12))
    run = services.check_and_auto_book()
    assert run.failed == 1 and message in run.errors[0]
    nothing_written(source)


def test_one_off_event_cannot_be_booked(raid_config, make_event, fake_raid_helper):
    event = make_event(None, timezone.now() + dt.timedelta(days=1))
    with pytest.raises(services.RaidsError, match="not a recurring raid night"):
        services.book_next_occurrence(event)


def test_next_start_keeps_local_time_across_dst(raid_night, make_event):
    raid_night.timezone = "Europe/Berlin"
    # Tuesday 21 Oct 2025 20:00 CEST (18:00 UTC); the next Tuesday is after the switch to CET
    source = make_event(raid_night, dt.datetime(2025, 10, 21, 18, 0, tzinfo=dt.UTC))
    assert services.next_start(source, raid_night) == dt.datetime(2025, 10, 28, 19, 0, tzinfo=dt.UTC)


def test_raid_helper_timezone_used_for_date_and_time(raid_config, raid_night, make_event, fake_raid_helper):
    RaidHelperSettings.objects.filter(pk=1).update(timezone="America/New_York")
    fake_raid_helper.timezone = "America/New_York"
    fake_raid_helper.id_under_event = False
    source = make_event(raid_night, timezone.now() - dt.timedelta(minutes=12))
    services.check_and_auto_book()
    source.refresh_from_db()
    [rh_event] = fake_raid_helper.events.values()
    assert rh_event["startTime"] == int(source.next_event.start_time_utc.timestamp())
    assert source.next_event.raid_helper_event_id == rh_event["id"]


def raiders_after_a_raid(make_player, make_event, raid_night, raiders: int) -> dt.datetime:
    """``raiders`` members who sign up, and a raid night that ended 12 minutes ago: the next poll
    books next week's. Returns the poll's clock."""
    for i in range(raiders):
        make_player(f"Raider{i}", rank=4)
    now = timezone.now()
    make_event(raid_night, now - dt.timedelta(minutes=12))
    return now


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_polls_book_once(raid_config, raid_night, make_event, make_player, fake_raid_helper,
                                        run_in_parallel):
    now = raiders_after_a_raid(make_player, make_event, raid_night, 3)
    runs = run_in_parallel(lambda i: services.check_and_auto_book(now), 4)
    assert not [r for r in runs if isinstance(r, BaseException)], runs
    assert sum(r.booked for r in runs) == 1 and sum(r.failed for r in runs) == 0
    assert len(fake_raid_helper.calls("POST", r"/event$")) == 1 and len(fake_raid_helper.events) == 1
    assert RaidEvent.objects.filter(auto_booked=True).count() == 1
    assert RaidAttendance.objects.count() == 3 and OutboxMessage.objects.count() == 1
    assert len(fake_raid_helper.calls("POST", r"/signups$")) == 3


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_signup_retries_send_each_once(raid_config, raid_night, make_event, make_player, fake_raid_helper,
                                                  run_in_parallel):
    now = raiders_after_a_raid(make_player, make_event, raid_night, 4)
    fake_raid_helper.fail_next("POST", r"/signups$", 503, "down")
    services.check_and_auto_book(now)
    results = run_in_parallel(lambda i: services.retry_signups(now), 3)
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sum(r.sent for r in results) == 4
    assert len(fake_raid_helper.calls("POST", r"/signups$")) == 5  # the failed one, then each once


def test_lookup_failure_before_create_writes_nothing_and_creates_nothing(raid_config, raid_night, make_event,
                                                                         fake_raid_helper):
    source = make_event(raid_night, timezone.now() - dt.timedelta(minutes=12))
    fake_raid_helper.fail_next("GET", r"/servers/\d+/events$", 503, "down", times=3)  # every retry
    run = services.check_and_auto_book()
    assert run.failed == 1 and "503" in run.errors[0]
    nothing_written(source)
    assert fake_raid_helper.calls("POST") == [] and len(fake_raid_helper.calls("GET")) == 3


def test_rate_limited_signups_stop_and_stay_pending(raid_config, raid_night, make_event, roster, fake_raid_helper):
    now = timezone.now()
    make_event(raid_night, now - dt.timedelta(minutes=12))
    fake_raid_helper.fail_next("POST", r"/signups$", 429, "Try again in 1 s")
    result = services.book_next_occurrence(RaidEvent.objects.get(), now=now)
    pushes = sorted(result.event.attendance.values_list("signup_push", flat=True))
    assert pushes == ["failed", "pending", "pending", "pending", "skipped"]
    assert services.retry_signups(now).sent == 4


# -- the seed's edge-case table and checklist, with auto_booked = "created by auto-booking" ----
def test_auto_booked_event_books_the_week_after_when_its_turn_comes(raid_config, raid_night, make_event, roster,
                                                                    fake_raid_helper):
    """The seed's single flag stopped the chain after one week (a booked event was already
    'auto_booked'); here the booked event is booked from in turn, week after week."""
    now = timezone.now()
    first = make_event(raid_night, now - dt.timedelta(minutes=12))
    assert services.check_and_auto_book(now).booked == 1
    second = RaidEvent.objects.get(auto_booked=True)
    assert second.next_booked_at is None  # created by auto-booking, its own next week not booked yet
    assert services.check_and_auto_book(second.start_time_utc + dt.timedelta(minutes=12)).booked == 1
    second.refresh_from_db()
    third = second.next_event
    assert third.auto_booked and third.event_date == first.event_date + dt.timedelta(days=14)
    assert len(fake_raid_helper.events) == 2 and OutboxMessage.objects.count() == 2


def test_scheduler_restart_polls_over_the_window_book_once(raid_config, raid_night, make_event, roster,
                                                           fake_raid_helper):
    """Every poll of the window (a restarted scheduler polls again) finds the booking done."""
    source = make_event(raid_night, timezone.now() - dt.timedelta(minutes=30))
    runs = [services.check_and_auto_book(source.start_time_utc + dt.timedelta(minutes=m)) for m in (10, 14, 15, 20)]
    assert [(r.booked, r.skipped, r.failed) for r in runs] == [(1, 0, 0), (0, 0, 0), (0, 0, 0), (0, 0, 0)]
    assert len(fake_raid_helper.events) == 1 and RaidEvent.objects.count() == 2


def test_next_week_created_by_officer_in_admin_is_adopted_by_the_poll(raid_config, raid_night, make_event,
                                                                     fake_raid_helper):
    """Next week booked by hand (the seed's 'already manually booked'): source marked, no call."""
    now = timezone.now()
    source = make_event(raid_night, now - dt.timedelta(minutes=12))
    manual = services.save_raid_event(None, title="Heroic Progression", event_date=source.event_date
                                      + dt.timedelta(days=7), start_time_utc=source.start_time_utc
                                      + dt.timedelta(days=7), end_time_utc=source.end_time_utc
                                      + dt.timedelta(days=7), season=None, recurring_event=raid_night,
                                      raid_helper_event_id="31337", discord_channel_id=None)
    assert not manual.auto_booked
    run = services.check_and_auto_book(now)
    assert (run.booked, run.skipped) == (0, 1)
    source.refresh_from_db()
    assert source.next_event == manual and fake_raid_helper.calls("POST") == []


def test_one_failing_event_does_not_stop_the_others(raid_config, raid_night, make_event, roster, fake_raid_helper):
    """The seed's "loop survives transient errors": one event's failure is counted, the others
    in the same poll are booked, and the next poll books the failed one."""
    other_night = factories.raid_night("Mythic Push")
    now = timezone.now()
    first = make_event(raid_night, now - dt.timedelta(minutes=14))
    second = make_event(other_night, now - dt.timedelta(minutes=12))
    fake_raid_helper.fail_next("POST", r"/event$", 502, "Bad Gateway")
    run = services.check_and_auto_book(now)
    assert (run.booked, run.skipped, run.failed) == (1, 0, 1)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.next_booked_at is None and second.next_event.title == "Mythic Push"
    assert services.check_and_auto_book(now + dt.timedelta(minutes=5)).booked == 1
    first.refresh_from_db()
    assert first.next_event.auto_booked and len(fake_raid_helper.events) == 2


def test_announcement_skipped_without_raid_channel_but_booking_done(raid_config, raid_night, make_event,
                                                                    fake_raid_helper):
    RaidHelperSettings.objects.filter(pk=1).update(raid_channel_id=None)
    raid_night.discord_channel_id = 4242
    raid_night.save()
    source = make_event(raid_night, timezone.now() - dt.timedelta(minutes=12))
    assert services.check_and_auto_book().booked == 1
    source.refresh_from_db()
    assert source.next_event.discord_channel_id == 4242 and not OutboxMessage.objects.exists()
    [call] = fake_raid_helper.calls("POST", r"/event$")
    assert call.path.endswith("/channels/4242/event")


def test_database_allows_one_event_per_night_and_date(raid_night, make_event):
    from django.db import IntegrityError, transaction

    event = make_event(raid_night, timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        make_event(raid_night, event.start_time_utc + dt.timedelta(hours=1), event_date=event.event_date)
    make_event(None, event.start_time_utc)
    make_event(None, event.start_time_utc)  # one-off events are not limited


def test_database_allows_one_attendance_row_per_player(raid_night, make_event, make_player):
    from django.db import IntegrityError, transaction

    event, player = make_event(raid_night, timezone.now()), make_player("Once")
    RaidAttendance.objects.create(event=event, player=player)
    with pytest.raises(IntegrityError), transaction.atomic():
        RaidAttendance.objects.create(event=event, player=player)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_database_constraint_is_the_last_line_against_an_officer_booking_meanwhile(
        raid_config, raid_night, make_event, fake_raid_helper):
    """An officer enters next week by hand while the poll waits on Raid-Helper's create: the
    unique (raid night, date) refuses the poll's row; nothing of the poll is written and the
    officer is told which Raid-Helper event is the duplicate. The next poll adopts the row."""
    import threading

    from django.db import connections

    now = timezone.now()
    source = make_event(raid_night, now - dt.timedelta(minutes=12))
    fake_raid_helper.stall_next("POST", r"/event$", 0.8, then_handle=True)
    runs = []

    def poll():
        try:
            runs.append(services.check_and_auto_book(now))
        finally:
            connections.close_all()

    worker = threading.Thread(target=poll)
    worker.start()
    deadline = time.monotonic() + 5
    while not fake_raid_helper.calls("POST", r"/event$") and time.monotonic() < deadline:
        time.sleep(0.02)
    week = dt.timedelta(days=7)
    manual = services.save_raid_event(None, title="Heroic Progression", event_date=source.event_date + week,
                                      start_time_utc=source.start_time_utc + week,
                                      end_time_utc=source.end_time_utc + week, season=None,
                                      recurring_event=raid_night, raid_helper_event_id="", discord_channel_id=None)
    worker.join(10)
    [run] = runs
    [rh_id] = fake_raid_helper.events
    assert run.failed == 1 and f"Raid-Helper event {rh_id} is a duplicate" in run.errors[0]
    assert RaidEvent.objects.count() == 2 and not OutboxMessage.objects.exists()
    source.refresh_from_db()
    assert source.next_booked_at is None
    assert services.check_and_auto_book(now + dt.timedelta(minutes=5)).skipped == 1
    source.refresh_from_db()
    assert source.next_event == manual
