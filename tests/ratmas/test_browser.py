"""One organiser workflow in a real browser: lock signups, draw, notify, read the result."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from ratmas.models import Event


def run_action(page, label: str) -> str:
    page.check("input.action-select")
    page.select_option("select[name=action]", label=label)
    with page.expect_navigation():  # else the last action's message list, still on screen, is read
        page.click("button[name=index]")
    if page.locator("#confirm-action").count():  # the draw asks first: who is in it, nothing done yet
        with page.expect_navigation():
            page.click("#confirm-action input[name=confirmed]")
    return page.inner_text("ul.messagelist")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_organiser_runs_the_draw_in_the_admin(live_server, admin_login, django_user_model, make_event, fake_discord,
                                              deliver_outbox):
    event = make_event(6)
    user = django_user_model.objects.create_user("elf", password="elf-pass-123", is_staff=True)
    user.groups.add(Group.objects.get(name="Ratmas organisers"))
    page = admin_login("elf", "elf-pass-123")
    page.goto(f"{live_server.url}/admin/ratmas/event/")
    assert "signups" in page.inner_text("#result_list").lower()

    assert "signups locked" in run_action(page, "Lock signups")
    assert "Pairings drawn: 6 Santas" in run_action(page, "Draw pairings (generate)")
    assert "6 DM(s) queued" in run_action(page, "Notify Santas by DM")
    deliver_outbox()

    page.goto(f"{live_server.url}/admin/ratmas/event/{event.pk}/change/")
    body = page.inner_text("#content")
    assert "6/6 Santas notified" in body and "Player 1" in body
    assert "Pairings (secret)" not in body  # organisers never see who draws whom
    assert Event.objects.get(pk=event.pk).status == "notified"
    page.goto("about:blank")  # no request left in flight when the live server stops


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_organiser_removes_a_participant_after_the_draw(live_server, admin_login, django_user_model, make_event,
                                                        fake_discord, deliver_outbox, tmp_path):
    """Participants › select one › "Remove from the event": the confirmation page says who leaves,
    that their Santa takes over their recipient and gets a DM (no names: pairings are secret),
    then the removal."""
    from ratmas import services
    from ratmas.models import Participant

    event = make_event(4, status="matched")
    services.notify_santas(event)
    deliver_outbox()
    user = django_user_model.objects.create_user("elf", password="elf-pass-123", is_staff=True)
    user.groups.add(Group.objects.get(name="Ratmas organisers"))
    page = admin_login("elf", "elf-pass-123")
    page.goto(f"{live_server.url}/admin/ratmas/participant/?q=Player+2")
    page.check("input.action-select")
    page.select_option("select[name=action]", label="Remove from the event (repairs the Santa chain after the draw)")
    with page.expect_navigation():
        page.click("button[name=index]")
    confirm = page.inner_text("#confirm-action")
    page.screenshot(path=str(tmp_path / "ratmas-remove-confirm.png"), full_page=True)
    assert "Nothing has changed yet" in confirm and "Player 2 leaves" in confirm
    assert "Chain repaired: their Santa (name hidden: pairings are secret) now gives to their recipient" in confirm
    assert Participant.objects.filter(event=event, user_id__isnull=False).count() == 4
    with page.expect_navigation():
        page.click("#confirm-action input[name=confirmed]")
    assert "Player 2: 1 removed, chain repaired 1" in page.inner_text("ul.messagelist")
    assert Participant.objects.filter(event=event).count() == 3
    page.goto("about:blank")
