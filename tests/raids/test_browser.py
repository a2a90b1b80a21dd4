"""One raid officer workflow in a real browser: find a missed booking and book it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from raids.models import RaidEvent


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_officer_books_missed_event_from_admin(admin_login, live_server, django_user_model, raid_config,
                                               raid_night, make_event, make_player, fake_raid_helper):
    user = django_user_model.objects.create_user("raidlead", password="raid-lead-pass-1", is_staff=True)
    user.groups.add(Group.objects.get(name="Raid officers"))
    make_player("Browsy", rank=4)
    missed = make_event(raid_night, timezone.now() - dt.timedelta(hours=3))

    page = admin_login("raidlead", "raid-lead-pass-1")
    page.goto(f"{live_server.url}/admin/raids/raidevent/")
    page.click("text=Not booked — book manually")
    row = page.locator("#result_list tbody tr", has_text="not booked — book manually")
    assert row.count() == 1
    row.locator("input.action-select").check()
    page.select_option("select[name=action]", "book_next_now")
    page.click("button[name=index]")
    message = page.locator("ul.messagelist li.success")
    message.wait_for()
    assert "booked Heroic Progression" in message.inner_text()

    missed.refresh_from_db()
    booked = missed.next_event
    assert booked.event_date == missed.event_date + dt.timedelta(days=7) and booked.auto_booked
    assert list(fake_raid_helper.events) == [booked.raid_helper_event_id]
    assert RaidEvent.objects.count() == 2
    page.goto(f"{live_server.url}/admin/raids/raidevent/?booking=missed")
    assert page.locator("#result_list").count() == 0  # nothing left to book
