"""Confirm before messaging members (issue 24): each action that messages members or cannot be
undone first shows who is affected and what changes, and changes nothing; only the confirmed
request (the page's button) does it."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from bot.models import OutboxMessage
from tests import factories

pytestmark = pytest.mark.django_db


def _act(client, url: str, action: str, pk, *, confirmed: bool):
    data = {"action": action, ACTION_CHECKBOX_NAME: [pk], **({"confirmed": "Yes"} if confirmed else {})}
    return client.post(url, data, follow=confirmed)


@pytest.fixture
def ark_match_with_signups():
    from guildsync.services.members import record_member

    match = factories.ark_match(factories.ark_alliance("Rats"))
    factories.ark_governor(1, "Khufu")
    factories.ark_governor(2, "Nefertari")
    factories.ark_sign(match, 1)
    factories.ark_sign(match, 2)
    record_member(factories.ark_user(1), "khufu_owner", "Alice Ratqueen", in_server=True)
    return match


@pytest.mark.parametrize(("action", "status", "says"), [
    ("cancel", "Cancelled", "every member below gets a DM"),  # (the page escapes apostrophes)
    ("lock", "Locked", "posted to the alliance&#x27;s confirmation channel"),
])
def test_ark_cancel_and_lock_confirm_first(admin_client, ark_match_with_signups, action, status, says):
    match = ark_match_with_signups
    url = reverse("admin:ark_match_changelist")
    queued = OutboxMessage.objects.count()
    page = _act(admin_client, url, action, match.pk, confirmed=False)
    html = page.content.decode()
    assert page.status_code == 200 and "Nothing has changed yet." in html and says in html
    assert "Khufu (Alice Ratqueen)" in html and "Nefertari (unknown member …0002)" in html
    match.refresh_from_db()
    assert match.status == "Scheduled" and OutboxMessage.objects.count() == queued  # nothing done, nothing sent
    _act(admin_client, url, action, match.pk, confirmed=True)
    match.refresh_from_db()
    assert match.status == status and OutboxMessage.objects.count() > queued


def test_publish_draft_shows_who_first(admin_client, ark_match_with_signups):
    match = ark_match_with_signups
    queued = OutboxMessage.objects.count()
    html = _act(admin_client, reverse("admin:ark_match_changelist"), "publish_draft", match.pk,
                confirmed=False).content.decode()
    assert "Publish the draft?" in html and "Khufu (Alice Ratqueen)" in html
    assert OutboxMessage.objects.count() == queued


def test_ratmas_draw_confirms_first(admin_client):
    event = factories.ratmas_event(4, status="locked")
    url = reverse("admin:ratmas_event_changelist")
    html = _act(admin_client, url, "draw_pairings", event.pk, confirmed=False).content.decode()
    assert "Draw the pairings?" in html and "Player 1" in html and "Player 4" in html
    assert "Nobody is messaged yet" in html
    event.refresh_from_db()
    assert event.status == "locked" and not event.pairings.exists()
    _act(admin_client, url, "draw_pairings", event.pk, confirmed=True)
    event.refresh_from_db()
    assert event.status == "matched" and event.pairings.count() == 4


def test_resolve_case_confirms_first(admin_client):
    case = factories.moderation_case(222_000_000_000_000_777, action="warn", reason="spam links")
    url = reverse("admin:economy_moderationcase_changelist")
    html = _act(admin_client, url, "resolve", case.pk, confirmed=False).content.decode()
    assert "Resolve these cases?" in html and "user222000000000000777: warn, spam links" in html
    case.refresh_from_db()
    assert not case.resolved
    _act(admin_client, url, "resolve", case.pk, confirmed=True)
    case.refresh_from_db()
    assert case.resolved


def test_ratmas_redraw_and_a_forgotten_exclusion_until_the_first_santa_dm():
    from ratmas import services

    event = factories.ratmas_event(4, status="matched")
    services.generate_pairings(event, seed=2)  # a redraw while nobody was told
    event.refresh_from_db()
    assert event.status == "matched" and event.pairings.count() == 4
    services.add_exclusion(event, factories.ratmas_uid(1), factories.ratmas_uid(2))  # forgotten: draw discarded
    event.refresh_from_db()
    assert event.status == "locked" and not event.pairings.exists()
    services.generate_pairings(event, seed=3)
    event.refresh_from_db()
    assert not event.pairings.filter(santa__user_id=factories.ratmas_uid(1),
                                     recipient__user_id=factories.ratmas_uid(2)).exists()
    services.notify_santas(event)  # the first Santa DMs are queued: the pairings are final
    with pytest.raises(services.RatmasError, match="Santa DMs are already on their way"):
        services.generate_pairings(event)
    with pytest.raises(services.RatmasError, match="Santa DMs are already on their way"):
        services.add_exclusion(event, factories.ratmas_uid(3), factories.ratmas_uid(4))


def test_ratmas_refusals_name_states_in_plain_words():
    from ratmas import services

    event = factories.ratmas_event(4, status="matched")
    with pytest.raises(services.RatmasError) as refused:
        services.set_status(event, "locked")
    assert str(refused.value) == "Cannot lock signups: the pairings are already drawn."
