"""Thin entry points: Celery tasks, the raids_autobook command, slash commands, demo data."""

from __future__ import annotations

import datetime as dt
import io
import logging

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from raids import reports, tasks
from raids.models import RaidAttendance, RaidEvent, RaidSeason, RecurringEvent
from tests.discord_objects import DiscordHarness
from tests.factories import bot_guild
from tests.fakes.discord_gateway import Member

pytestmark = pytest.mark.django_db


def test_beat_schedule_names_exist():
    raids_tasks = {v["task"] for v in django_settings.CELERY_BEAT_SCHEDULE.values() if v["task"].startswith("raids.")}
    assert raids_tasks == {"raids.tasks.auto_book_task", "raids.tasks.import_attendance_task",
                           "raids.tasks.sync_signups_task", "raids.tasks.import_wcl_attendance_task"}
    for name in raids_tasks:
        assert getattr(tasks, name.rsplit(".", 1)[1]).name == name


def test_auto_book_task_logs_one_line(raid_config, raid_night, make_event, make_player, fake_raid_helper, caplog):
    make_player("Tasker", rank=4)
    make_event(raid_night, timezone.now() - dt.timedelta(minutes=12))
    with caplog.at_level(logging.INFO, logger="raids.tasks"):
        result = tasks.auto_book_task.apply().get()
    assert result == {"configured": True, "booked": 1, "skipped": 0, "failed": 0, "signups_sent": 0,
                      "signups_failed": 0, "pushed_later": 0, "push_later_failed": 0}
    [line] = [r.getMessage() for r in caplog.records if r.name == "raids.tasks"]
    assert line.startswith("Auto-booking run: 1 booked, 0 skipped, 0 failed")
    assert tasks.auto_book_task.apply().get()["booked"] == 0  # idempotent


def test_auto_book_beat_entry_every_5_minutes():
    [entry] = [v for v in django_settings.CELERY_BEAT_SCHEDULE.values() if v["task"] == "raids.tasks.auto_book_task"]
    assert entry["schedule"] == 300.0


@pytest.mark.parametrize("case, expected", [
    ("booked", "Auto-booking run: 1 booked, 0 skipped, 0 failed"),
    ("skipped", "Auto-booking run: 0 booked, 1 skipped, 0 failed"),
    ("failed_500", "Auto-booking run: 0 booked, 0 skipped, 1 failed"),
    ("failed_refused", "Auto-booking run: 0 booked, 0 skipped, 1 failed"),
    ("failed_timeout", "Auto-booking run: 0 booked, 0 skipped, 1 failed"),
])
def test_auto_book_task_every_path_end_to_end(raid_config, raid_night, make_event, make_player, fake_raid_helper,
                                              settings, caplog, case, expected):
    """The real task, the real service and the real client against the fake Raid-Helper: a
    client signature the service no longer matches fails here, not silently in production."""
    player = make_player("Pathfinder", rank=4)
    source = make_event(raid_night, timezone.now() - dt.timedelta(minutes=12))
    if case == "skipped":
        make_event(raid_night, source.start_time_utc + dt.timedelta(days=7))
    elif case == "failed_500":
        fake_raid_helper.fail_next("POST", r"/event$", 500, {"status": "failed", "reason": "Internal error"})
    elif case == "failed_refused":
        settings.RAID_HELPER_API_BASE = "http://127.0.0.1:9/api/v4"  # the discard port: connection refused
    elif case == "failed_timeout":
        settings.RAID_HELPER_HTTP_TIMEOUT = 0.3
        fake_raid_helper.stall_next("POST", r"/event$", 1.0, then_handle=False)
    with caplog.at_level(logging.INFO, logger="raids"):
        result = tasks.auto_book_task.apply().get()
    [line] = [r.getMessage() for r in caplog.records if r.name == "raids.tasks"]
    assert line.startswith(expected + " (sign-ups retried: 0 sent, 0 failed)")
    source.refresh_from_db()
    if case == "booked":
        assert result["booked"] == 1 and source.next_event.auto_booked
        [rh_event] = fake_raid_helper.events.values()
        assert [s["userId"] for s in fake_raid_helper.signups(rh_event["id"])] == [str(player.discord_user.discord_id)]
    elif case == "skipped":
        assert result["skipped"] == 1 and source.next_booked_at and fake_raid_helper.calls("POST") == []
    else:
        assert result["failed"] == 1 and source.next_booked_at is None and RaidEvent.objects.count() == 1
        assert [r for r in caplog.records if r.levelno == logging.ERROR and r.name == "raids.services.booking"]


def test_auto_book_task_not_configured(settings, caplog):
    settings.RAID_HELPER_API_KEY = ""
    with caplog.at_level(logging.INFO, logger="raids.tasks"):
        assert tasks.auto_book_task.apply().get()["configured"] is False
    assert "Auto-booking run: 0 booked, 0 skipped, 0 failed" in caplog.text and "not configured" in caplog.text


def test_import_attendance_task(raid_config, raid_night, make_event, make_player, fake_raid_helper, caplog):
    player = make_player("Importer")
    start = timezone.now() - dt.timedelta(hours=4)
    rh = fake_raid_helper.add_event(raid_night.label, start,
                                    signups=[{"userId": player.discord_user.discord_id, "className": "Tank",
                                              "specName": "Protection1"}])
    make_event(raid_night, start, raid_helper_event_id=rh["id"])
    with caplog.at_level(logging.INFO, logger="raids.tasks"):
        assert tasks.import_attendance_task.apply().get() == {"imported": 1, "skipped": 0, "failed": 0}
    assert "Attendance import: 1 imported" in caplog.text
    row = RaidAttendance.objects.get()
    assert row.status == "accepted" and row.role.name == "Tank"
    assert (row.specialization.name, row.specialization.wow_class.name) == ("Protection", "Paladin")  # "…1" = Paladin
    assert tasks.import_attendance_task.apply().get() == {"imported": 0, "skipped": 1, "failed": 0}


def test_raids_autobook_command(raid_config, raid_night, make_event, fake_raid_helper):
    source = make_event(raid_night, timezone.now() + dt.timedelta(days=1))
    poll_at = (source.start_time_utc + dt.timedelta(minutes=12)).strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.StringIO()
    call_command("raids_autobook", "--now", poll_at, stdout=out)
    assert "Auto-booking run: 1 booked, 0 skipped, 0 failed" in out.getvalue()
    source.refresh_from_db()
    assert source.next_event is not None
    with pytest.raises(CommandError, match="not an ISO 8601"):
        call_command("raids_autobook", "--now", "yesterday")


def test_raids_autobook_command_not_configured(settings):
    settings.RAID_HELPER_API_KEY = ""
    out = io.StringIO()
    call_command("raids_autobook", stdout=out)
    assert "not configured" in out.getvalue()


def test_slash_commands_registered_and_answer(raid_night, make_event, make_player, fake_discord):
    from raids import discord_commands

    harness = DiscordHarness(fake_discord, bot_guild(), discord_commands.setup)
    group = harness.bot.tree.get_command("raid")
    assert group is not None and len(group.description) <= 100
    names = {c.name: c for c in group.commands}
    assert set(names) == {"next", "attendance", "roster"}
    for command in names.values():
        assert command.name == command.name.lower() and len(command.name) <= 32
        assert len(command.description) <= 100 and len(command.parameters) <= 25

    start = timezone.now() + dt.timedelta(days=2)
    event = make_event(raid_night, start, raid_helper_event_id="1300000000000000999")
    player = make_player("Asker")
    season = RaidSeason.objects.create(name="Now", start_date=dt.date(2020, 1, 1))
    past = make_event(raid_night, timezone.now() - dt.timedelta(days=7), season=season)
    RaidAttendance.objects.create(event=past, player=player, signed_up=True, attended=True)

    def ask(path, user_id):
        return harness.ask(harness.payloads.slash(path, member=Member(user_id, f"user{user_id}")))

    text = ask("raid next", 1)
    assert f"<t:{int(event.start_time_utc.timestamp())}:F>" in text
    assert "https://raid-helper.dev/event/1300000000000000999" in text
    text = ask("raid attendance", player.discord_user.discord_id)
    assert text == "Now: attended 1 of 1 raids since you joined (100.0%); late 0, benched 0, absent 0, no-show 0."
    assert "not linked" in ask("raid attendance", 42)


def test_next_event_text_when_nothing_booked(db):
    assert "No raid is booked yet" in reports.next_event_text()


def test_seed_demo_is_idempotent():
    from raids.demo import seed_demo

    out = io.StringIO()
    seed_demo(out)
    counts = (RaidSeason.objects.count(), RecurringEvent.objects.count(), RaidEvent.objects.count(),
              RaidAttendance.objects.count())
    seed_demo(out)
    assert counts == (RaidSeason.objects.count(), RecurringEvent.objects.count(), RaidEvent.objects.count(),
                      RaidAttendance.objects.count())
    assert counts[0] == 1 and counts[1] == 2 and counts[2] == 14 and counts[3] > 0
    season = RaidSeason.objects.get()
    assert RaidAttendance.objects.filter(attended=True).exists()
    assert RaidEvent.objects.filter(next_booked_at__isnull=False).count() == 12
    assert RaidEvent.objects.filter(auto_booked=True).count() == 12  # each week after the first
    assert reports.season_attendance(season)
