"""Issue #14 point 6: a new raid night's first event, booked from the admin; auto-booking then
continues the chain from it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from raids import services
from raids.clients import RaidHelperError
from raids.models import RaidEvent, RecurringEvent

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)  # a Tuesday


def test_first_start_is_the_next_weekday_and_time_in_the_nights_zone(raid_night):
    raid_night.timezone, raid_night.day_of_week, raid_night.default_start_time = "Europe/Berlin", 1, dt.time(20, 0)
    assert services.first_start(raid_night, NOW) == (dt.date(2026, 12, 1), dt.datetime(2026, 12, 1, 19, 0,
                                                                                      tzinfo=dt.UTC))
    late = NOW.replace(hour=19, minute=30)  # 20:30 in Berlin: tonight's has started, next week's
    assert services.first_start(raid_night, late)[0] == dt.date(2026, 12, 8)


def test_first_event_is_booked_in_raid_helper_and_the_chain_continues(raid_config, raid_night, make_player,
                                                                      fake_raid_helper):
    make_player("Pala")
    result = services.book_first_event(raid_night, now=NOW)
    assert result.status == result.BOOKED and result.event.raid_helper_event_id
    assert result.event.recurring_event == raid_night and result.signups_sent == 1
    assert fake_raid_helper.events[result.event.raid_helper_event_id]["title"] == raid_night.label
    again = services.book_first_event(raid_night, now=NOW)  # a second click books nothing
    assert again.status == again.ALREADY_BOOKED and again.event == result.event
    assert RaidEvent.objects.count() == 1 and len(fake_raid_helper.events) == 1
    # auto-booking's poll after the first raid started books the week after
    poll = result.event.start_time_utc + dt.timedelta(minutes=12)
    run = services.check_and_auto_book(poll)
    assert run.booked == 1
    nxt = RaidEvent.objects.exclude(pk=result.event.pk).get()
    assert nxt.event_date == result.event.event_date + dt.timedelta(days=7)


def test_raid_helper_failure_writes_nothing(raid_config, raid_night, fake_raid_helper):
    fake_raid_helper.fail_next("POST", r"/channels/\d+/event", 500, {"reason": "down"})
    with pytest.raises(RaidHelperError):
        services.book_first_event(raid_night, now=NOW)
    assert not RaidEvent.objects.exists()


def test_inactive_night_is_refused(raid_config, raid_night):
    RecurringEvent.objects.filter(pk=raid_night.pk).update(is_active=False)
    with pytest.raises(services.RaidsError, match="inactive"):
        services.book_first_event(raid_night, now=NOW)


def test_admin_action_books_the_first_event(raid_config, raid_night, fake_raid_helper, officer, client):
    client.force_login(officer("Raid officers"))
    url = reverse("admin:raids_recurringevent_changelist")
    answer = client.post(url, {"action": "book_first_event", "_selected_action": [raid_night.pk]}, follow=True)
    event = RaidEvent.objects.get()
    assert f"booked {event}" in answer.content.decode() and event.raid_helper_event_id
