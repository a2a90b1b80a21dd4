"""Issue #11 point 6: next week's event booked while Raid-Helper is not configured is pushed
there (with its sign-ups) by the periodic task once the key is set — in the environment or in
the admin's encrypted Secret settings — exactly once, paced, retried after a failure, and the
event's admin page says where it stands. Against the fake Raid-Helper (tests/fakes)."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.urls import reverse
from django.utils import timezone

from bot.models import OutboxMessage
from core import services as core_services
from raids import clients, services, tasks
from raids.models import RaidAttendance, RaidEvent
from tests import factories
from tests.raids.conftest import LEADER, RAID_CHANNEL

pytestmark = pytest.mark.django_db
Push = RaidAttendance.SignupPush


@pytest.fixture(autouse=True)
def _encryption_key(settings):
    settings.FIELD_ENCRYPTION_KEY = "field-encryption-key-for-tests"


@pytest.fixture
def unconfigured(settings, fake_raid_helper):
    """The server id and channels are set, the API key is not (neither env nor admin)."""
    settings.RAID_HELPER_API_KEY = ""
    return factories.raid_config(fake_raid_helper.server_id)


@pytest.fixture
def roster(db):
    return factories.raid_roster("accepted", "tentative", "bench", "no_discord")


def book_here(raid_night, make_event, hours_ago: int = 2) -> RaidEvent:
    """An officer books next week from last night's event while Raid-Helper is not configured."""
    source = make_event(raid_night, timezone.now() - dt.timedelta(hours=hours_ago))
    result = services.book_next_occurrence(source)
    assert result.status == result.BOOKED and result.event.raid_helper_event_id == ""
    return result.event


def set_key(how: str, settings, fake) -> None:
    if how == "environment":
        settings.RAID_HELPER_API_KEY = fake.api_key
    else:
        core_services.set_secret("RAID_HELPER_API_KEY", fake.api_key, "leader")


@pytest.mark.parametrize("how", ["environment", "admin"])
def test_booked_here_is_pushed_with_its_signups_once_the_key_is_set(unconfigured, raid_night, make_event, roster,
                                                                    fake_raid_helper, settings, how):
    booked = book_here(raid_night, make_event)
    assert booked.raid_helper_pending
    assert set(booked.attendance.values_list("signup_push_error", flat=True)) == {
        services.NOT_CONFIGURED_SKIP, "no linked Discord account"}

    idle = tasks.auto_book_task.apply().get()  # still no key: nothing is sent anywhere
    assert (idle["configured"], idle["pushed_later"]) == (False, 0) and fake_raid_helper.requests == []

    set_key(how, settings, fake_raid_helper)
    result = tasks.auto_book_task.apply().get()

    assert (result["pushed_later"], result["push_later_failed"]) == (1, 0)
    booked.refresh_from_db()
    [posted] = fake_raid_helper.events.values()
    assert booked.raid_helper_event_id == posted["id"] and not booked.raid_helper_pending
    assert booked.raid_helper_pushed_at is not None and booked.raid_helper_push_error == ""
    assert posted["title"] == raid_night.label and posted["startTime"] == int(booked.start_time_utc.timestamp())
    assert posted["channelId"] == str(RAID_CHANNEL) and posted["leaderId"] == str(LEADER)
    assert posted["endTime"] - posted["startTime"] == 180 * 60
    assert {s["userId"]: s["className"] for s in fake_raid_helper.signups(posted["id"])} == {
        str(roster["accepted"].discord_user.discord_id): "Healer",
        str(roster["tentative"].discord_user.discord_id): "Tentative",
        str(roster["bench"].discord_user.discord_id): "Bench",
    }
    states = dict(booked.attendance.values_list("player__display_name", "signup_push"))
    assert states == {"Aelith": Push.SENT, "Borin": Push.SENT, "Cyra": Push.SENT, "Elowen": Push.SKIPPED}
    [announcement] = OutboxMessage.objects.all()
    assert posted["id"] in announcement.payload["content"]

    again = tasks.auto_book_task.apply().get()  # nothing left to push
    assert again["pushed_later"] == 0
    assert len(fake_raid_helper.calls("POST", r"/event$")) == 1 and OutboxMessage.objects.count() == 1


@pytest.mark.parametrize("status, body", [
    (429, {"status": "failed", "reason": "Too many requests. Try again in 2 s.", "retry_after": 2}),
    (503, "Service Unavailable"),
])
def test_create_refused_leaves_every_event_pending_and_the_next_run_pushes(unconfigured, raid_night, make_event,
                                                                           make_player, fake_raid_helper, settings,
                                                                           status, body):
    from raids.models import RecurringEvent

    make_player("Aelith")
    other_night = RecurringEvent.objects.create(label="Normal Farm", day_of_week=3, default_start_time=dt.time(19),
                                                timezone="UTC", default_duration_minutes=120)
    first = book_here(raid_night, make_event, hours_ago=3)
    second = book_here(other_night, make_event, hours_ago=2)
    settings.RAID_HELPER_API_KEY = fake_raid_helper.api_key
    fake_raid_helper.fail_next("POST", r"/event$", status, body)

    run = services.push_booked_here_events()

    assert (run.pushed, run.failed) == (0, 1)  # an outage ends the run: the second waits
    assert len(fake_raid_helper.calls("POST", r"/event$")) == 1 and fake_raid_helper.events == {}
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.raid_helper_pending and first.raid_helper_event_id == ""
    assert first.raid_helper_push_error.startswith(f"Raid-Helper {status}")
    assert second.raid_helper_pending and second.raid_helper_push_error == ""
    assert not OutboxMessage.objects.exists()
    assert set(first.attendance.values_list("signup_push", flat=True)) == {Push.SKIPPED}

    retried = services.push_booked_here_events()

    assert (retried.pushed, retried.failed) == (2, 0)
    first.refresh_from_db()
    assert not first.raid_helper_pending and first.raid_helper_push_error == "" and first.raid_helper_event_id
    assert len(fake_raid_helper.events) == 2 and OutboxMessage.objects.count() == 2


def test_a_refused_signup_is_retried_by_the_next_run(unconfigured, raid_night, make_event, roster, fake_raid_helper,
                                                     settings):
    booked = book_here(raid_night, make_event)
    settings.RAID_HELPER_API_KEY = fake_raid_helper.api_key
    fake_raid_helper.fail_next("POST", r"/signups$", 429, "Try again in 1 s")

    first = services.push_booked_here_events()

    assert (first.pushed, first.signups_sent, first.signups_failed) == (1, 0, 1)
    booked.refresh_from_db()
    assert booked.raid_helper_event_id
    assert booked.attendance.filter(signup_push=Push.FAILED).count() == 1
    assert booked.attendance.filter(signup_push=Push.PENDING).count() == 2  # stopped at the 429
    second = tasks.auto_book_task.apply().get()
    assert second["signups_sent"] == 3 and second["pushed_later"] == 0
    assert len(fake_raid_helper.signups(booked.raid_helper_event_id)) == 3


def test_a_lost_answer_is_adopted_not_created_twice(unconfigured, raid_night, make_event, make_player,
                                                    fake_raid_helper, settings):
    make_player("Aelith")
    booked = book_here(raid_night, make_event)
    settings.RAID_HELPER_API_KEY = fake_raid_helper.api_key
    settings.RAID_HELPER_HTTP_TIMEOUT = 0.5
    fake_raid_helper.stall_next("POST", r"/event$", 1.5)  # Raid-Helper creates it; the answer is lost

    run = services.push_booked_here_events()

    assert (run.pushed, run.failed) == (0, 1) and "unreachable" in run.errors[0]
    booked.refresh_from_db()
    assert booked.raid_helper_pending
    deadline = time.monotonic() + 5
    while not fake_raid_helper.events and time.monotonic() < deadline:  # Raid-Helper finishes the create
        time.sleep(0.05)
    assert len(fake_raid_helper.events) == 1
    retried = services.push_booked_here_events()
    assert retried.pushed == 1
    booked.refresh_from_db()
    assert booked.raid_helper_event_id == next(iter(fake_raid_helper.events))
    assert len(fake_raid_helper.calls("POST", r"/event$")) == 1  # adopted, not created again


def test_settings_missing_is_recorded_and_the_other_events_still_go(unconfigured, raid_night, make_event,
                                                                    make_player, fake_raid_helper, settings):
    from raids.models import RecurringEvent

    make_player("Aelith")
    unconfigured.raid_channel_id = None
    unconfigured.save()
    no_channel = book_here(raid_night, make_event, hours_ago=3)
    night_with_channel = RecurringEvent.objects.create(label="Mythic", day_of_week=4, default_start_time=dt.time(21),
                                                       timezone="UTC", discord_channel_id=RAID_CHANNEL + 1)
    with_channel = book_here(night_with_channel, make_event, hours_ago=2)
    settings.RAID_HELPER_API_KEY = fake_raid_helper.api_key

    run = services.push_booked_here_events()

    assert (run.pushed, run.failed) == (1, 1)
    no_channel.refresh_from_db()
    with_channel.refresh_from_db()
    assert no_channel.raid_helper_pending and "No Discord channel" in no_channel.raid_helper_push_error
    assert with_channel.raid_helper_event_id and not with_channel.raid_helper_pending


def test_an_event_that_already_started_is_not_pushed(unconfigured, raid_night, make_event, fake_raid_helper,
                                                     settings):
    booked = book_here(raid_night, make_event)
    settings.RAID_HELPER_API_KEY = fake_raid_helper.api_key
    run = services.push_booked_here_events(now=booked.start_time_utc + dt.timedelta(minutes=1))
    assert (run.pushed, run.failed) == (0, 0) and fake_raid_helper.requests == []


def test_every_call_of_a_push_is_paced(unconfigured, raid_night, make_event, roster, fake_raid_helper, settings,
                                       monkeypatch):
    """The create, the duplicate check and each sign-up wait for a place in the shared window."""
    waits = []

    class Recording(clients.Pacer):
        def wait(self):
            waits.append(len(fake_raid_helper.requests))

    monkeypatch.setattr(clients, "default_pacer", lambda: Recording())
    book_here(raid_night, make_event)
    settings.RAID_HELPER_API_KEY = fake_raid_helper.api_key
    assert services.push_booked_here_events().pushed == 1
    assert len(waits) == len(fake_raid_helper.requests) == 1 + 1 + 3  # list, create, three sign-ups
    assert waits == list(range(5))  # each wait came before its request


def test_linking_a_raid_helper_id_by_hand_ends_the_wait(unconfigured, raid_night, make_event, fake_raid_helper,
                                                        settings):
    booked = book_here(raid_night, make_event)
    services.save_raid_event(booked.pk, raid_helper_event_id="1300000000000000999")
    booked.refresh_from_db()
    assert not booked.raid_helper_pending
    settings.RAID_HELPER_API_KEY = fake_raid_helper.api_key
    assert services.push_booked_here_events().pushed == 0 and fake_raid_helper.calls("POST") == []


def test_the_event_page_says_where_it_stands(unconfigured, raid_night, make_event, fake_raid_helper, settings,
                                             officer, client):
    client.force_login(officer("Raid officers"))
    booked = book_here(raid_night, make_event)
    page = client.get(reverse("admin:raids_raidevent_change", args=[booked.pk])).content.decode()
    assert "Not yet on Raid-Helper — will be pushed when Raid-Helper is configured" in page
    settings.RAID_HELPER_API_KEY = fake_raid_helper.api_key
    fake_raid_helper.fail_next("POST", r"/event$", 503, "Service Unavailable")
    services.push_booked_here_events()
    page = client.get(reverse("admin:raids_raidevent_change", args=[booked.pk])).content.decode()
    assert "Last attempt failed (retried every 5 minutes): Raid-Helper 503" in page
    services.push_booked_here_events()
    booked.refresh_from_db()
    page = client.get(reverse("admin:raids_raidevent_change", args=[booked.pk])).content.decode()
    assert "Booked here first, pushed to Raid-Helper at" in page and booked.raid_helper_event_id in page


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_workers_push_each_event_once(unconfigured, raid_night, make_event, roster, fake_raid_helper, settings,
                                          run_in_parallel):
    booked = book_here(raid_night, make_event)
    settings.RAID_HELPER_API_KEY = fake_raid_helper.api_key
    runs = run_in_parallel(lambda i: services.push_booked_here_events(), 4)
    assert not [r for r in runs if isinstance(r, BaseException)], runs
    assert sum(r.pushed for r in runs) == 1 and sum(r.failed for r in runs) == 0
    assert len(fake_raid_helper.calls("POST", r"/event$")) == 1 and len(fake_raid_helper.events) == 1
    assert len(fake_raid_helper.calls("POST", r"/signups$")) == 3  # each sign-up once
    assert OutboxMessage.objects.count() == 1
    booked.refresh_from_db()
    assert booked.raid_helper_event_id and not booked.raid_helper_pending
