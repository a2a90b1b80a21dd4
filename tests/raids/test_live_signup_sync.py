"""Issue #14 point 1: the live sign-up sync (every 10 minutes, events of the next 14 days),
the roster by role against the raid night's composition, and the channel post 24 hours before
the start, edited in place. Outages change nothing and are retried."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from bot.models import OutboxMessage
from raids import roster, services, tasks
from raids.models import RaidAttendance

S = RaidAttendance.Status


@pytest.fixture
def upcoming(raid_config, raid_night, make_event, fake_raid_helper):
    def make(hours_ahead: float, *, night: bool = True):
        start = timezone.now() + dt.timedelta(hours=hours_ahead)
        rh = fake_raid_helper.add_event(raid_night.label, start)
        return make_event(raid_night if night else None, start, raid_helper_event_id=rh["id"]), rh
    return make


def signup(fake, rh, player, class_name, spec_name=None, **extra):
    fake._store_signup(rh, {"userId": player.discord_user.discord_id, "className": class_name,
                            "specName": spec_name, **extra})


def rows(event):
    return sorted(event.attendance.values_list("player__display_name", "status", "specialization__name",
                                               "role__name", "signed_up_late"))


def test_sync_updates_rows_of_the_next_14_days_and_a_rerun_changes_nothing(upcoming, make_player,
                                                                           fake_raid_helper):
    soon, rh = upcoming(48)
    later, rh_later = upcoming(24 * 20)
    tank, healer, late = make_player("Tank", spec=("Blood", "Death Knight")), make_player("Heal"), make_player("Lat")
    signup(fake_raid_helper, rh, tank, "Tank", "Blood")
    signup(fake_raid_helper, rh, healer, "Healer", "Holy1")
    signup(fake_raid_helper, rh, late, "Late", "Holy1", roleName="Healers")
    signup(fake_raid_helper, rh_later, tank, "Absence")

    counts = tasks.sync_signups_task.apply().get()

    assert (counts["synced"], counts["failed"]) == (1, 0)
    assert not later.attendance.exists()  # beyond 14 days: not yet
    first = rows(soon)
    assert first == [("Heal", S.ACCEPTED, "Holy", "Healer", False), ("Lat", S.ACCEPTED, "Holy", "Healer", True),
                     ("Tank", S.ACCEPTED, "Blood", "Tank", False)]
    # a player moves to the bench in Raid-Helper: the next run follows
    signup(fake_raid_helper, rh, healer, "Bench", "Holy1")
    services.sync_upcoming_signups()
    assert ("Heal", S.BENCH, "Holy", "Healer", False) in rows(soon)
    snapshot = rows(soon)
    services.sync_upcoming_signups()
    services.sync_upcoming_signups()
    assert rows(soon) == snapshot and soon.attendance.count() == 3


def test_outage_changes_nothing_and_the_next_run_retries(upcoming, make_player, fake_raid_helper):
    event, rh = upcoming(48)
    player = make_player("Pala")
    signup(fake_raid_helper, rh, player, "Healer", "Holy1")
    services.sync_upcoming_signups()
    signup(fake_raid_helper, rh, player, "Absence")
    fake_raid_helper.fail_next("GET", r"/events/\d+$", 503, {"reason": "maintenance"}, times=10)
    counts = services.sync_upcoming_signups()
    assert counts["failed"] == 1 and counts["synced"] == 0
    assert rows(event) == [("Pala", S.ACCEPTED, "Holy", "Healer", False)]  # untouched
    fake_raid_helper.scripted.clear()
    assert services.sync_upcoming_signups()["synced"] == 1
    assert rows(event)[0][1] == S.ABSENCE


def test_roster_by_role_against_the_nights_composition(upcoming, make_player, fake_raid_helper, raid_night):
    raid_night.wanted_tanks, raid_night.wanted_healers, raid_night.wanted_melee = 2, 1, 1
    raid_night.save()
    event, rh = upcoming(48)
    lock = make_player("Lock", spec=("Destruction", "Warlock"))
    signup(fake_raid_helper, rh, lock, "Tank", "Demonology")
    signup(fake_raid_helper, rh, make_player("Heal"), "Healer", "Holy1")
    signup(fake_raid_helper, rh, make_player("Maybe"), "Tentative")
    services.sync_upcoming_signups()
    live = roster.live_roster(event)
    assert live.by_role == {"Tank": ["Lock (Demonology)"], "Healer": ["Heal (Holy)"]}
    assert live.missing() == {"Tank": 1, "Healer": 0, "Melee DPS": 1, "Ranged DPS": 7}
    text = live.text()
    assert "Missing: 1 tank, 1 melee, 7 ranged" in text and f"<t:{int(event.start_time_utc.timestamp())}:F>" in text
    assert "Tentative (1): Maybe" in text


def test_channel_post_24h_before_then_edited_in_place(upcoming, make_player, fake_raid_helper, deliver_outbox):
    far, rh_far = upcoming(30, night=False)  # a one-off event
    event, rh = upcoming(20)
    tank = make_player("Tank", spec=("Blood", "Death Knight"))
    signup(fake_raid_helper, rh, tank, "Tank", "Blood")
    signup(fake_raid_helper, rh_far, tank, "Tank", "Blood")

    counts = services.sync_upcoming_signups()
    assert counts["posted"] == 1  # only the event starting within 24 hours
    [post] = OutboxMessage.objects.filter(topic="raids", kind="channel_message")
    assert "Tanks 1/2 — missing 1: Tank (Blood)" in post.payload["content"]
    assert services.sync_upcoming_signups()["posted"] == 0  # unchanged: nothing queued
    deliver_outbox()
    post.refresh_from_db()
    assert post.sent_message_id

    signup(fake_raid_helper, rh, make_player("Tank2", spec=("Blood", "Death Knight")), "Tank", "Blood")
    assert services.sync_upcoming_signups()["edited"] == 1
    [edit] = OutboxMessage.objects.filter(topic="raids", kind="edit_message")
    assert edit.message_id == post.sent_message_id and "Tanks 2/2:" in edit.payload["content"]
    signup(fake_raid_helper, rh, tank, "Absence")  # before the edit went out: the queued edit is rewritten
    assert services.sync_upcoming_signups()["edited"] == 1
    edit.refresh_from_db()
    assert OutboxMessage.objects.filter(topic="raids").count() == 2 and "Absent (1): Tank" in edit.payload["content"]
    assert services.post_roster(far) == "not_due"


def test_admin_event_page_and_raid_roster_command_show_the_live_roster(upcoming, make_player, fake_raid_helper,
                                                                        officer, client):
    event, rh = upcoming(48)
    signup(fake_raid_helper, rh, make_player("Heal"), "Healer", "Holy1")
    services.sync_upcoming_signups()
    client.force_login(officer("Raid officers"))
    page = client.get(reverse("admin:raids_raidevent_change", args=[event.pk])).content.decode()
    assert "Healers 1/4 — missing 3: Heal (Holy)" in page and "Tanks 0/2 — missing 2" in page
    assert "Healers 1/4 — missing 3: Heal (Holy)" in roster.next_roster_text()


def test_sync_without_raid_helper_configured_does_nothing(db, settings):
    settings.RAID_HELPER_API_KEY = ""
    assert services.sync_upcoming_signups() == {"synced": 0, "busy": 0, "failed": 0, "posted": 0, "edited": 0,
                                                "configured": False}
