"""The raid officers' admin: access, changelists without N+1, actions, report, settings."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from raids.models import RaidAttendance, RaidEvent, RaidHelperSettings, RaidSeason

pytestmark = pytest.mark.django_db

PAGES = ["raids_raidseason_changelist", "raids_recurringevent_changelist", "raids_raidevent_changelist",
         "raids_raidattendance_changelist", "raids_raidseason_add", "raids_raidevent_add"]


@pytest.fixture
def raid_officer(officer, client):
    client.force_login(officer("Raid officers"))
    return client


@pytest.fixture
def season(db):
    return RaidSeason.objects.create(name="Season 3", start_date=dt.date(2020, 1, 1))


@pytest.mark.parametrize("page", PAGES)
def test_raid_officer_allowed_other_officers_denied(officer, client, page):
    client.force_login(officer("Ark officers"))
    assert client.get(reverse(f"admin:{page}")).status_code == 403
    client.force_login(officer("Raid officers"))
    assert client.get(reverse(f"admin:{page}")).status_code == 200


@pytest.mark.parametrize("page", ["raids_raidhelpersettings_changelist", "raids_raidhelpersettings_add",
                                  "raids_recurringevent_add"])
def test_settings_and_raid_night_forms_denied_to_other_officers(officer, client, page):
    client.force_login(officer("Ark officers"))
    assert client.get(reverse(f"admin:{page}")).status_code == 403
    client.force_login(officer("Raid officers"))
    assert client.get(reverse(f"admin:{page}"), follow=True).status_code == 200


def test_report_denied_to_other_officers(officer, client, season):
    client.force_login(officer("Economy moderators"))
    assert client.get(reverse("admin:raids_raidseason_attendance", args=[season.pk])).status_code == 403


def test_event_changelist_has_no_n_plus_one(raid_officer, make_event, raid_night, make_player, season,
                                            django_assert_max_num_queries):
    players = [make_player(f"P{i}") for i in range(3)]
    now = timezone.now()
    for week in range(25):
        event = make_event(raid_night, now - dt.timedelta(days=7 * week), season=season)
        for p in players:
            RaidAttendance.objects.create(event=event, player=p)
    with django_assert_max_num_queries(12):
        response = raid_officer.get(reverse("admin:raids_raidevent_changelist"))
    assert response.status_code == 200 and response.content.count(b"Heroic Progression") >= 25
    with django_assert_max_num_queries(12):
        assert raid_officer.get(reverse("admin:raids_raidattendance_changelist")).status_code == 200
    with django_assert_max_num_queries(12):
        assert raid_officer.get(reverse("admin:raids_raidseason_changelist")).status_code == 200


def test_event_page_with_attendance_inline_queries_bounded(raid_officer, make_event, raid_night, make_player,
                                                           django_assert_max_num_queries):
    event = make_event(raid_night, timezone.now())
    for i in range(15):
        RaidAttendance.objects.create(event=event, player=make_player(f"Q{i}"))
    with django_assert_max_num_queries(20):
        response = raid_officer.get(reverse("admin:raids_raidevent_change", args=[event.pk]))
    assert response.status_code == 200 and b"Q14" in response.content


def test_missed_filter_and_book_action(raid_officer, raid_config, raid_night, make_event, make_player,
                                       fake_raid_helper):
    make_player("Booker", rank=4)
    now = timezone.now()
    missed = make_event(raid_night, now - dt.timedelta(hours=2))
    make_event(raid_night, now - dt.timedelta(minutes=5), event_date=dt.date(2031, 1, 1))  # window not over
    url = reverse("admin:raids_raidevent_changelist")
    page = raid_officer.get(url, {"booking": "missed"})
    assert list(page.context["cl"].result_list) == [missed]
    assert "not booked — book manually" in page.content.decode()
    response = raid_officer.post(url, {"action": "book_next_now", "_selected_action": [missed.pk]}, follow=True)
    text = response.content.decode()
    assert "booked Heroic Progression" in text and "1 sign-ups sent" in text
    missed.refresh_from_db()
    assert missed.next_event.auto_booked and len(fake_raid_helper.events) == 1
    assert list(raid_officer.get(url, {"booking": "missed"}).context["cl"].result_list) == []
    # a second click reports, does not book again
    again = raid_officer.post(url, {"action": "book_next_now", "_selected_action": [missed.pk]}, follow=True)
    assert "already booked" in again.content.decode() and len(fake_raid_helper.events) == 1


def test_book_action_reports_raid_helper_errors(raid_officer, raid_config, raid_night, make_event, fake_raid_helper):
    event = make_event(raid_night, timezone.now() - dt.timedelta(hours=2))
    fake_raid_helper.fail_next("POST", r"/event$", 500, {"status": "failed", "reason": "Database offline"})
    response = raid_officer.post(reverse("admin:raids_raidevent_changelist"),
                                 {"action": "book_next_now", "_selected_action": [event.pk]}, follow=True)
    assert "Raid-Helper 500: Database offline" in response.content.decode()
    assert RaidEvent.objects.count() == 1


def test_book_action_when_not_configured_books_here_only(raid_officer, raid_night, make_event, settings,
                                                         fake_raid_helper):
    """Without Raid-Helper the officer still gets next week's event (and its roster), posted nowhere."""
    settings.RAID_HELPER_API_KEY = ""
    event = make_event(raid_night, timezone.now() - dt.timedelta(hours=2))
    response = raid_officer.post(reverse("admin:raids_raidevent_changelist"),
                                 {"action": "book_next_now", "_selected_action": [event.pk]}, follow=True)
    assert "here only (Raid-Helper is not configured" in response.content.decode()
    event.refresh_from_db()
    booked = event.next_event
    assert booked is not None and booked.event_date == event.event_date + dt.timedelta(days=7)
    assert booked.raid_helper_event_id == "" and booked.start_time_utc.date() == booked.event_date
    assert not fake_raid_helper.events
    assert not booked.attendance.exclude(signup_push=RaidAttendance.SignupPush.SKIPPED).exists()
    again = raid_officer.post(reverse("admin:raids_raidevent_changelist"),
                              {"action": "book_next_now", "_selected_action": [event.pk]}, follow=True)
    assert "already booked" in again.content.decode() and RaidEvent.objects.count() == 2


def test_import_and_mark_attended_actions(raid_officer, raid_config, raid_night, make_event, make_player,
                                          fake_raid_helper):
    start = timezone.now() - dt.timedelta(hours=4)
    rh = fake_raid_helper.add_event("Heroic Progression", start)
    event = make_event(raid_night, start, raid_helper_event_id=rh["id"])
    a, b = make_player("Alpha"), make_player("Beta")
    fake_raid_helper._store_signup(rh, {"userId": a.discord_user.discord_id, "className": "Healer",
                                        "specName": "Holy1"})
    fake_raid_helper._store_signup(rh, {"userId": b.discord_user.discord_id, "className": "Bench"})
    url = reverse("admin:raids_raidevent_changelist")
    response = raid_officer.post(url, {"action": "import_signups", "_selected_action": [event.pk]}, follow=True)
    assert "2 new, 0 updated" in response.content.decode()
    response = raid_officer.post(url, {"action": "mark_accepted_attended", "_selected_action": [event.pk]},
                                 follow=True)
    assert "1 accepted player marked as attended" in response.content.decode()
    assert list(event.attendance.filter(attended=True).values_list("player", flat=True)) == [a.pk]


def test_inline_edit_goes_through_service(raid_officer, raid_night, make_event, make_player):
    event = make_event(raid_night, timezone.now())
    player = make_player("Inline")
    row = RaidAttendance.objects.create(event=event, player=player, status="tentative", source="auto")
    newcomer = make_player("Newcomer")
    url = reverse("admin:raids_raidevent_change", args=[event.pk])
    form = raid_officer.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update({
        "title": event.title, "event_date": event.event_date.isoformat(),
        "start_time_utc_0": event.start_time_utc.strftime("%Y-%m-%d"),
        "start_time_utc_1": event.start_time_utc.strftime("%H:%M:%S"),
        "end_time_utc_0": event.end_time_utc.strftime("%Y-%m-%d"),
        "end_time_utc_1": event.end_time_utc.strftime("%H:%M:%S"),
        "recurring_event": raid_night.pk, "raid_helper_event_id": "", "discord_channel_id": "", "season": "",
        "attendance-TOTAL_FORMS": "1", "attendance-INITIAL_FORMS": "1", "attendance-MIN_NUM_FORMS": "0",
        "attendance-MAX_NUM_FORMS": "1000",
        "attendance-0-id": row.pk, "attendance-0-event": event.pk,
        "attendance-0-status": "accepted", "attendance-0-attended": "on",
        "attendance-2-TOTAL_FORMS": "1", "attendance-2-INITIAL_FORMS": "0", "attendance-2-MIN_NUM_FORMS": "0",
        "attendance-2-MAX_NUM_FORMS": "1000",
        "attendance-2-0-event": event.pk, "attendance-2-0-player": newcomer.pk, "attendance-2-0-status": "bench",
    })
    response = raid_officer.post(url, data)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    row.refresh_from_db()
    assert (row.status, row.attended, row.signed_up) == ("accepted", True, True)
    assert RaidAttendance.objects.get(player=newcomer).source == "manual"


def test_recurring_toggle_actions(raid_officer, raid_night):
    url = reverse("admin:raids_recurringevent_changelist")
    raid_officer.post(url, {"action": "deactivate", "_selected_action": [raid_night.pk]})
    raid_night.refresh_from_db()
    assert not raid_night.is_active
    raid_officer.post(url, {"action": "activate", "_selected_action": [raid_night.pk]})
    raid_night.refresh_from_db()
    assert raid_night.is_active


def test_settings_singleton_never_shows_key(raid_officer, settings):
    settings.RAID_HELPER_API_KEY = "super-secret-key-123"
    response = raid_officer.get(reverse("admin:raids_raidhelpersettings_changelist"))
    assert response.status_code == 302 and response.url.endswith("/add/")
    response = raid_officer.post(response.url, {"server_id": "123", "raid_channel_id": "5", "leader_discord_id": "6",
                                                "default_template_id": "wowretail2", "timezone": "Europe/Berlin"})
    assert response.status_code == 302
    assert RaidHelperSettings.load().server_id == "123"
    page = raid_officer.get(reverse("admin:raids_raidhelpersettings_changelist"), follow=True)
    text = page.content.decode()
    assert "super-secret-key-123" not in text and "set (RAID_HELPER_API_KEY in the environment)" in text
    assert raid_officer.get(reverse("admin:raids_raidhelpersettings_add")).status_code == 403
    bad = raid_officer.post(reverse("admin:raids_raidhelpersettings_change", args=[1]),
                            {"server_id": "abc", "default_template_id": "x", "timezone": "Mars/Olympus"})
    assert bad.status_code == 200 and "digits only" in bad.content.decode() and "IANA" in bad.content.decode()


def test_singleton_enforced_by_database(db):
    from django.db import IntegrityError

    RaidHelperSettings.objects.create()
    with pytest.raises(IntegrityError):
        RaidHelperSettings.objects.create(id=2)


def test_attendance_report_table_chart_sort_csv(raid_officer, season, raid_night, make_event, make_player,
                                                django_assert_max_num_queries):
    now = timezone.now()
    events = [make_event(raid_night, now - dt.timedelta(days=7 * i), season=season) for i in range(1, 5)]
    for i in range(12):
        player = make_player(f"Raider{i:02d}")
        for j, event in enumerate(events):
            RaidAttendance.objects.create(event=event, player=player, status="accepted", signed_up=True,
                                          attended=j < i % 5)
    url = reverse("admin:raids_raidseason_attendance", args=[season.pk])
    with django_assert_max_num_queries(10):
        response = raid_officer.get(url, {"o": "name"})
    text = response.content.decode()
    assert response.status_code == 200 and 'id="attendance-chart"' in text and '<script src="http' not in text
    assert [r.name for r in response.context["rows"]][:2] == ["Raider00", "Raider01"]
    assert text.count("<rect") == 4  # one bar per week
    assert "4 raids held" in text
    by_pct = raid_officer.get(url, {"o": "-percent"}).context["rows"]
    assert by_pct[0].percent == 100.0 and by_pct[-1].percent == 0.0
    csv_response = raid_officer.get(url, {"o": "name", "format": "csv"})
    assert csv_response["Content-Type"] == "text/csv"
    lines = csv_response.content.decode().splitlines()
    joined = events[-1].start_time_utc.date().isoformat()
    assert lines[0].startswith("player,joined,raids_since_joined,attended,late,benched,absent,no_show")
    assert lines[2] == f"Raider01,{joined},4,1,0,0,0,3,25.0"
    weekly = raid_officer.get(url, {"format": "weeks-csv"}).content.decode().splitlines()
    assert len(weekly) == 5 and weekly[0] == "week,raids,expected,attended,attendance_percent"
