"""One raid officer workflow in a real browser: find a missed booking and book it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from raids.models import RaidEvent


def open_bookkeeping(page) -> None:
    """The event page folds its imports and bookkeeping at the end (a collapsed fieldset, a
    <details>): open it as an officer would, by its title."""
    page.locator("details summary", has_text="Imports and bookkeeping").click()


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


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_officer_books_without_raid_helper_then_it_is_pushed_once_the_key_is_set(
        admin_login, live_server, django_user_model, raid_night, make_event, make_player, fake_raid_helper, settings):
    """Issue #11 point 6, walked as a raid officer: book next week while Raid-Helper has no key,
    see it waiting on the event's page, set the key under Secret settings, run the periodic
    task, see the event on Raid-Helper with its sign-up."""
    from django.contrib.auth.models import Permission

    from raids import tasks
    from raids.models import RaidHelperSettings
    from tests.raids.conftest import LEADER, RAID_CHANNEL

    settings.RAID_HELPER_API_KEY = ""
    settings.FIELD_ENCRYPTION_KEY = "field-encryption-key-for-tests"
    RaidHelperSettings.objects.create(server_id=fake_raid_helper.server_id, raid_channel_id=RAID_CHANNEL,
                                      leader_discord_id=LEADER)
    user = django_user_model.objects.create_user("raidlead", password="raid-lead-pass-1", is_staff=True)
    user.groups.add(Group.objects.get(name="Raid officers"))
    user.user_permissions.add(Permission.objects.get(codename="manage_secrets"))  # granted by a superuser
    player = make_player("Browsy", rank=4)
    last_night = make_event(raid_night, timezone.now() - dt.timedelta(hours=3))

    page = admin_login("raidlead", "raid-lead-pass-1")
    page.goto(f"{live_server.url}/admin/raids/raidevent/?booking=missed")
    page.locator("#result_list tbody tr", has_text="not booked — book manually").locator("input.action-select").check()
    page.select_option("select[name=action]", "book_next_now")
    with page.expect_navigation():
        page.click("button[name=index]")
    assert "here only (Raid-Helper is not configured" in page.locator("ul.messagelist").inner_text()
    last_night.refresh_from_db()
    booked = last_night.next_event
    assert booked.raid_helper_pending and not fake_raid_helper.events

    page.goto(f"{live_server.url}/admin/raids/raidevent/{booked.pk}/change/")
    assert ("Not yet on Raid-Helper — will be pushed when Raid-Helper is configured"
            in page.locator(".field-raid_helper_state").inner_text())

    page.goto(f"{live_server.url}/admin/core/secretsetting/add/")
    page.select_option("#id_name", "RAID_HELPER_API_KEY")
    page.fill("#id_value", fake_raid_helper.api_key)
    with page.expect_navigation():
        page.click("input[name=_save]")
    assert "Raid-Helper API key\tset on" in page.locator("#result_list").inner_text()

    assert tasks.auto_book_task.apply().get()["pushed_later"] == 1  # the beat task's next run

    page.goto(f"{live_server.url}/admin/raids/raidevent/{booked.pk}/change/")
    state = page.locator(".field-raid_helper_state").inner_text()
    booked.refresh_from_db()
    assert "Booked here first, pushed to Raid-Helper at" in state and booked.raid_helper_event_id in state
    assert list(fake_raid_helper.events) == [booked.raid_helper_event_id]
    [signup] = fake_raid_helper.signups(booked.raid_helper_event_id)
    assert signup["userId"] == str(player.discord_user.discord_id)
    page.goto(f"{live_server.url}/admin/raids/raidevent/{booked.pk}/change/")
    assert "Sent to Raid-Helper" in page.locator(".inline-group").first.inner_text()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_officer_imports_attendance_from_warcraft_logs(admin_login, live_server, django_user_model, fake_wcl,
                                                       ended_raid, linked_player):
    """Issue #14 point 2, walked as a raid officer: open last night's raid, run "Import
    attendance from Warcraft Logs" against the fake Warcraft Logs, see the result and the
    characters it could not place on the event's page, and the Attended ticks it set."""
    from raids.models import RaidAttendance
    from tests.raids.conftest import add_report

    user = django_user_model.objects.create_user("raidlead", password="raid-lead-pass-1", is_staff=True)
    user.groups.add(Group.objects.get(name="Raid officers"))
    aeryn, bram = linked_player("Aeryn"), linked_player("Bram")
    RaidAttendance.objects.create(event=ended_raid, player=aeryn, status="accepted", signed_up=True,
                                  source="raid_helper")
    add_report(fake_wcl, ended_raid, [("Aeryn", "Silvermoon", "Paladin"), ("bram", "Silvermoon", "Paladin"),
                                      ("Stranger", "Silvermoon", "Mage")])

    page = admin_login("raidlead", "raid-lead-pass-1")
    event_page = f"{live_server.url}/admin/raids/raidevent/{ended_raid.pk}/change/"
    page.goto(event_page)
    open_bookkeeping(page)
    assert "Not imported yet." in page.locator(".field-wcl_import").inner_text()

    page.goto(f"{live_server.url}/admin/raids/raidevent/")
    page.check(f"input[name=_selected_action][value='{ended_raid.pk}']")
    page.select_option("select[name=action]", "import_wcl_attendance")
    with page.expect_navigation():
        page.click("button[name=index]")
    messages = page.locator("ul.messagelist").inner_text()
    assert str(ended_raid) in messages and "not placed" in messages  # a character not placed: a warning
    row = page.locator("#result_list tbody tr", has_text=ended_raid.title)
    assert "imported, 1 not placed" in row.locator(".field-wcl_state").inner_text()

    page.goto(event_page)
    open_bookkeeping(page)
    result = page.locator(".field-wcl_import").inner_text()
    assert "Imported at" in result and "aBcD1234eFgH5678" in result
    assert "1 marked attended, 1 added to the attendance" in result
    assert "not placed — Stranger-Silvermoon: no character with this name here" in result
    inline = page.locator("#attendance-group")
    for name in ("Aeryn", "Bram"):
        attendance_row = inline.locator("tr.form-row", has_text=name)
        assert attendance_row.locator("input[name$='-attended']").is_checked()
        assert "Warcraft Logs" in attendance_row.locator("td.field-attended_source").inner_text()

    rows = {r.player_id: r for r in RaidAttendance.objects.filter(event=ended_raid)}
    assert set(rows) == {aeryn.pk, bram.pk} and all(r.attended for r in rows.values())
    assert rows[bram.pk].source == "warcraftlogs" and not rows[bram.pk].signed_up
