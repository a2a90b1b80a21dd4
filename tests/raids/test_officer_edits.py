"""Officers' writes (seasons, raid nights, raid events, settings, attendance) go through
raids.services: the services' rules and messages, and the admin pages that call them."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from raids import services
from raids.models import RaidAttendance, RaidEvent, RaidHelperSettings, RaidSeason, RecurringEvent

pytestmark = pytest.mark.django_db
RaidsError = services.RaidsError
START = dt.datetime(2030, 3, 5, 19, 0, tzinfo=dt.UTC)


def night_fields(**overrides) -> dict:
    return {"label": "Mythic Push", "event_type": "raid", "day_of_week": 3, "default_start_time": dt.time(20, 30),
            "timezone": "Europe/Berlin", "default_duration_minutes": 150, "discord_channel_id": None,
            "raid_helper_template_id": "", "is_active": True, **overrides}


def event_fields(night=None, start=START, **overrides) -> dict:
    return {"title": "Mythic Push", "event_date": start.date(), "start_time_utc": start,
            "end_time_utc": start + dt.timedelta(hours=3), "season": None, "recurring_event": night,
            "raid_helper_event_id": "", "discord_channel_id": None, **overrides}


# -- services ---------------------------------------------------------------------------------
def test_save_season_creates_changes_and_refuses_clearly():
    season = services.save_season(None, name="S1", start_date=dt.date(2030, 1, 1), end_date=None, is_active=True)
    changed = services.save_season(season.pk, name="Season 1", start_date=dt.date(2030, 1, 1),
                                   end_date=dt.date(2030, 6, 1), is_active=False)
    assert (changed.pk, changed.name, changed.is_active) == (season.pk, "Season 1", False)
    with pytest.raises(RaidsError, match="ends on or after its start date"):
        services.save_season(season.pk, name="Season 1", start_date=dt.date(2030, 1, 1),
                             end_date=dt.date(2029, 1, 1), is_active=True)
    with pytest.raises(RaidsError, match="Name: Raid season with this Name already exists"):
        services.save_season(None, name="Season 1", start_date=dt.date(2031, 1, 1))
    with pytest.raises(RaidsError, match="no longer exists"):
        services.save_season(season.pk + 100, name="Ghost", start_date=dt.date(2031, 1, 1))
    with pytest.raises(RaidsError, match="Cannot set id"):
        services.save_season(None, id=5, name="Sneaky", start_date=dt.date(2031, 1, 1))
    assert list(RaidSeason.objects.values_list("name", "end_date")) == [("Season 1", dt.date(2030, 6, 1))]


def test_save_recurring_event_validates():
    night = services.save_recurring_event(None, **night_fields())
    assert night.pk and str(night) == "Mythic Push (Thursday 20:30 Europe/Berlin)"
    with pytest.raises(RaidsError, match="Time zone: 'Mars/Olympus' is not an IANA time zone"):
        services.save_recurring_event(night.pk, **night_fields(timezone="Mars/Olympus"))
    with pytest.raises(RaidsError, match="at least one minute"):
        services.save_recurring_event(night.pk, **night_fields(default_duration_minutes=0))
    with pytest.raises(RaidsError, match="positive number"):
        services.save_recurring_event(night.pk, **night_fields(discord_channel_id=-4))
    night.refresh_from_db()
    assert (night.timezone, night.default_duration_minutes) == ("Europe/Berlin", 150)


def test_set_recurring_active_toggles(raid_night):
    assert services.set_recurring_active([raid_night.pk], False) == 1
    assert services.set_recurring_active([raid_night.pk], False) == 0
    raid_night.refresh_from_db()
    assert not raid_night.is_active


def test_save_raid_event_rules(raid_night):
    season = RaidSeason.objects.create(name="Now", start_date=dt.date(2030, 1, 1))
    RaidSeason.objects.create(name="Later", start_date=dt.date(2031, 1, 1))
    event = services.save_raid_event(None, **event_fields(raid_night))
    assert event.season == season  # empty season: the one current on the event's date
    with pytest.raises(RaidsError, match=r"Heroic Progression already has an event on Tue 05 Mar 2030"):
        services.save_raid_event(None, **event_fields(raid_night, title="Again"))
    with pytest.raises(RaidsError, match="must end after it starts"):
        services.save_raid_event(event.pk, **event_fields(raid_night, end_time_utc=START))
    with pytest.raises(RaidsError, match="digits only"):
        services.save_raid_event(event.pk, **event_fields(raid_night, raid_helper_event_id="abc"))
    services.save_raid_event(event.pk, **event_fields(raid_night, raid_helper_event_id="77"))
    with pytest.raises(RaidsError, match="already uses this Raid-Helper event"):
        services.save_raid_event(None, **event_fields(None, raid_helper_event_id="77"))
    one_off = services.save_raid_event(None, **event_fields(None, title="Achievement run"))  # one-offs may share a date
    assert RaidEvent.objects.count() == 2 and one_off.recurring_event is None
    event.refresh_from_db()
    assert (event.title, event.raid_helper_event_id) == ("Mythic Push", "77")


def test_event_date_must_be_the_day_it_starts(raid_night):
    """The issue's case: dated Wed 9 Dec, starting Sat 5 Dec — refused; the date is read in the
    raid night's zone (a 00:30 Berlin start is the previous evening in UTC)."""
    start = dt.datetime(2026, 12, 5, 19, 0, tzinfo=dt.UTC)
    fields = {"title": "Wrong day", "event_date": dt.date(2026, 12, 9), "start_time_utc": start,
              "end_time_utc": start + dt.timedelta(hours=3), "recurring_event": None}
    with pytest.raises(RaidsError, match=r"must be the day the raid starts: the start is Sat 05 Dec 2026 19:00"):
        services.save_raid_event(None, **fields)
    assert not RaidEvent.objects.exists()
    raid_night.timezone = "Europe/Berlin"
    raid_night.save()
    late = dt.datetime(2026, 12, 4, 23, 30, tzinfo=dt.UTC)  # Sat 00:30 in Berlin
    event = services.save_raid_event(None, **{**fields, "event_date": dt.date(2026, 12, 5), "start_time_utc": late,
                                              "end_time_utc": late + dt.timedelta(hours=2),
                                              "recurring_event": raid_night})
    assert event.event_date == dt.date(2026, 12, 5)


def test_delete_raid_events_unbooks_their_sources(raid_night, make_event, make_player):
    source = make_event(raid_night, START)
    booked = make_event(raid_night, START + dt.timedelta(days=7), raid_helper_event_id="901", auto_booked=True)
    RaidEvent.objects.filter(pk=source.pk).update(next_event=booked, next_booked_at=START)
    RaidAttendance.objects.create(event=booked, player=make_player("Gone"))
    report = services.delete_raid_events([booked.pk])
    assert (report.deleted, report.unbooked_sources, report.raid_helper_ids) == (1, 1, ["901"])
    source.refresh_from_db()
    assert source.next_booked_at is None and source.next_event is None
    assert not RaidAttendance.objects.exists()
    both = services.delete_raid_events([source.pk, source.pk + 1000])
    assert both.deleted == 1 and not RaidEvent.objects.exists()


def test_delete_seasons_and_nights_keep_events(raid_night, make_event):
    season = RaidSeason.objects.create(name="Old", start_date=dt.date(2020, 1, 1))
    event = make_event(raid_night, START, season=season)
    assert services.delete_seasons([season.pk]) == 1
    assert services.delete_recurring_events([raid_night.pk]) == 1
    event.refresh_from_db()
    assert event.season is None and event.recurring_event is None


def test_save_settings_is_a_singleton_with_clear_refusals():
    config = services.save_settings(server_id="123", raid_channel_id=5, leader_discord_id=6,
                                    default_template_id="wowretail2", timezone="Europe/Berlin")
    again = services.save_settings(server_id="456", raid_channel_id=5, leader_discord_id=6,
                                   default_template_id="wowretail2", timezone="UTC")
    assert config.pk == again.pk == 1 and RaidHelperSettings.objects.get().server_id == "456"
    for fields, message in [({"server_id": "abc"}, "digits only"), ({"leader_discord_id": -1}, "positive"),
                            ({"default_template_id": " "}, "default Raid-Helper template"),
                            ({"timezone": "Nowhere"}, "IANA"), ({"api_key": "x"}, "Cannot set api_key")]:
        with pytest.raises(RaidsError, match=message):
            services.save_settings(**{"server_id": "1", "default_template_id": "t", **fields})
    assert RaidHelperSettings.objects.get().server_id == "456"


def test_edit_attendance_is_all_or_nothing(raid_night, make_event, make_player):
    event = make_event(raid_night, START)
    a, b = make_player("A"), make_player("B")
    kept = RaidAttendance.objects.create(event=event, player=a, status="bench", source="auto")
    with pytest.raises(RaidsError, match="not an attendance status"):
        services.edit_attendance(event, [services.AttendanceChange(a, "accepted", True),
                                         services.AttendanceChange(b, "late", True)])
    kept.refresh_from_db()
    assert (kept.status, kept.attended) == ("bench", False) and RaidAttendance.objects.count() == 1
    other = make_event(None, START)
    foreign = RaidAttendance.objects.create(event=other, player=b)
    touched = services.edit_attendance(event, [services.AttendanceChange(a, "accepted", True),
                                               services.AttendanceChange(b, "tentative", False)],
                                       remove_ids=[foreign.pk])  # not this event's row: left alone
    assert touched == 2 and RaidAttendance.objects.filter(pk=foreign.pk).exists()
    assert RaidAttendance.objects.get(event=event, player=b).source == "manual"
    assert services.edit_attendance(event, [], remove_ids=[kept.pk]) == 1


def test_no_writes_outside_services():
    """House rule: only the services package (and the demo, and the privacy registry's erasure) write. Admin, tasks, commands, reports
    and slash commands never call save/create/update/delete on models."""
    root = Path(services.__file__).parents[1]
    writes = {"save", "create", "update", "delete", "bulk_create", "bulk_update", "get_or_create",
              "update_or_create"}
    offenders = []
    for path in root.rglob("*.py"):
        if path.name in ("demo.py", "privacy.py") or "services" in path.parts or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in writes:
                target = ast.unparse(node.func.value)
                if target not in {"self.session.headers", "super()"}:
                    offenders.append(f"{path.name}:{node.lineno} {ast.unparse(node.func)}")
    assert offenders == []


# -- the admin calls them ---------------------------------------------------------------------
@pytest.fixture
def raid_officer(officer, client):
    client.force_login(officer("Raid officers"))
    return client


def test_admin_season_add_and_refusal(raid_officer):
    url = reverse("admin:raids_raidseason_add")
    bad = raid_officer.post(url, {"name": "S9", "start_date": "2030-06-01", "end_date": "2030-01-01",
                                  "is_active": "on"})
    assert bad.status_code == 200 and "ends on or after its start date" in bad.content.decode()
    assert not RaidSeason.objects.exists()
    ok = raid_officer.post(url, {"name": "S9", "start_date": "2030-01-01", "end_date": "", "is_active": "on"})
    assert ok.status_code == 302 and RaidSeason.objects.get().name == "S9"


def test_admin_recurring_event_add_and_change(raid_officer):
    data = {**night_fields(), "default_start_time": "20:30", "discord_channel_id": "", "is_active": "on",
            "wanted_tanks": 2, "wanted_healers": 3, "wanted_melee": 4, "wanted_ranged": 5}
    assert raid_officer.post(reverse("admin:raids_recurringevent_add"), data).status_code == 302
    night = RecurringEvent.objects.get()
    assert (night.wanted_tanks, night.wanted_healers, night.wanted_melee, night.wanted_ranged) == (2, 3, 4, 5)
    bad = raid_officer.post(reverse("admin:raids_recurringevent_change", args=[night.pk]),
                            {**data, "discord_channel_id": "-3"})
    assert bad.status_code == 200 and "positive number" in bad.content.decode()
    night.refresh_from_db()
    assert night.discord_channel_id is None


def event_post(night, **overrides) -> dict:
    start = START
    data = {"title": "Manual night", "event_date": start.date().isoformat(),
            "start_time_utc_0": start.strftime("%Y-%m-%d"), "start_time_utc_1": start.strftime("%H:%M:%S"),
            "end_time_utc_0": start.strftime("%Y-%m-%d"), "end_time_utc_1": "22:00:00",
            "recurring_event": night.pk if night else "", "raid_helper_event_id": "", "discord_channel_id": "",
            "season": "",
            "attendance-TOTAL_FORMS": "0", "attendance-INITIAL_FORMS": "0", "attendance-MIN_NUM_FORMS": "0",
            "attendance-MAX_NUM_FORMS": "1000",
            "attendance-2-TOTAL_FORMS": "0", "attendance-2-INITIAL_FORMS": "0", "attendance-2-MIN_NUM_FORMS": "0",
            "attendance-2-MAX_NUM_FORMS": "1000"}
    data.update(overrides)
    return data


def test_admin_manual_event_add_clash_and_inline_rollback(raid_officer, raid_night, make_player):
    url = reverse("admin:raids_raidevent_add")
    season = RaidSeason.objects.create(name="Current", start_date=dt.date(2030, 1, 1))
    assert raid_officer.post(url, event_post(raid_night)).status_code == 302
    event = RaidEvent.objects.get()
    assert event.season == season and not event.auto_booked
    clash = raid_officer.post(url, event_post(raid_night, title="Twice"))
    assert clash.status_code == 200 and "already has an event on" in clash.content.decode()
    # the event form is valid, but an added attendance row is not: nothing is saved at all
    player = make_player("Pug")
    broken = raid_officer.post(url, event_post(None, title="One-off", **{
        "attendance-2-TOTAL_FORMS": "1", "attendance-2-0-player": player.pk, "attendance-2-0-status": "late"}))
    assert broken.status_code == 200
    assert RaidEvent.objects.count() == 1 and not RaidAttendance.objects.exists()


def test_admin_delete_event_unbooks_source_and_names_raid_helper_event(raid_officer, raid_night, make_event):
    source = make_event(raid_night, START)
    booked = make_event(raid_night, START + dt.timedelta(days=7), raid_helper_event_id="4242", auto_booked=True)
    RaidEvent.objects.filter(pk=source.pk).update(next_event=booked, next_booked_at=START)
    response = raid_officer.post(reverse("admin:raids_raidevent_delete", args=[booked.pk]), {"post": "yes"},
                                 follow=True)
    text = response.content.decode()
    assert "delete them there too: 4242" in text and "no longer marked as booked" in text
    source.refresh_from_db()
    assert source.next_booked_at is None


def test_admin_bulk_delete_seasons_goes_through_service(raid_officer, raid_night, make_event):
    season = RaidSeason.objects.create(name="Old", start_date=dt.date(2020, 1, 1))
    event = make_event(raid_night, START, season=season)
    raid_officer.post(reverse("admin:raids_raidseason_changelist"),
                      {"action": "delete_selected", "_selected_action": [season.pk], "post": "yes"})
    assert not RaidSeason.objects.exists()
    event.refresh_from_db()
    assert event.season is None


def test_admin_settings_refusal_shown_on_form(raid_officer):
    url = reverse("admin:raids_raidhelpersettings_add")
    bad = raid_officer.post(url, {"server_id": "1", "raid_channel_id": "-5", "leader_discord_id": "6",
                                  "default_template_id": "wowretail2", "timezone": "UTC"})
    assert bad.status_code == 200 and "is a Discord id: a positive number" in bad.content.decode()
    assert not RaidHelperSettings.objects.exists()


def test_admin_attendance_delete_goes_through_service(raid_officer, raid_night, make_event, make_player):
    row = RaidAttendance.objects.create(event=make_event(raid_night, timezone.now()), player=make_player("Del"))
    raid_officer.post(reverse("admin:raids_raidattendance_changelist"),
                      {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"})
    assert not RaidAttendance.objects.exists()
