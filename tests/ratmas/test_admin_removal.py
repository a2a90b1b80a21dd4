"""The organisers' admin action "Remove from the event" (ratmas/admin.py, ParticipantAdmin): a
member who leaves after the draw. ``ratmas.services.removal.remove_after_draw`` repairs the chain
(their Santa takes over their recipient). First a confirmation page names who is removed, whose
chain is repaired and who gets messaged (names of Santas only for holders of
``view_pairings_secret``), changing nothing; the confirmed POST does it; an officer without the
permission to delete participants cannot run it."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.urls import reverse

from bot.models import OutboxMessage
from bot.outbox import payload_of
from core.admin_tools import CONFIRMED
from ratmas import services
from ratmas.models import Pairing, Participant
from tests.ratmas.conftest import uid

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:ratmas_participant_changelist")
ACTION = "remove_after_draw"


@pytest.fixture
def notified(make_event, deliver_outbox):
    """Four Santas, drawn and told (Discord accepted every DM)."""
    event = make_event(4, status="matched")
    services.notify_santas(event)
    deliver_outbox()
    event.refresh_from_db()
    assert event.status == "notified"
    return event


def chain(event) -> set[tuple[int, int]]:
    return set(Pairing.objects.filter(event=event).values_list("santa__user_id", "recipient__user_id"))


def post(client, leaver: Participant, *, confirmed: bool):
    data = {"action": ACTION, ACTION_CHECKBOX_NAME: [leaver.pk], "index": 0}
    if confirmed:
        data[CONFIRMED] = "yes"
    return client.post(CHANGELIST, data, follow=confirmed)


def test_confirmation_names_everyone_and_changes_nothing_then_post_repairs_the_chain(officer, client, notified):
    user = officer("Ratmas organisers")
    user.user_permissions.add(Permission.objects.get(codename="view_pairings_secret"))
    client.force_login(user)
    leaver = Participant.objects.get(event=notified, user_id=uid(2))
    santa = Pairing.objects.get(event=notified, recipient=leaver).santa
    recipient = Pairing.objects.get(event=notified, santa=leaver).recipient
    before, messages_before = chain(notified), OutboxMessage.objects.count()

    assert client.get(CHANGELIST).status_code == 200  # a GET lists, nothing more
    page = post(client, leaver, confirmed=False)
    html = page.content.decode()
    assert page.status_code == 200 and "Nothing has changed yet" in html
    assert f"{leaver.display_name} leaves" in html
    assert f"their Santa {santa.display_name} now gives to {recipient.display_name}" in html
    assert f"Messaged: their Santa {santa.display_name} gets a new DM" in html
    assert chain(notified) == before and OutboxMessage.objects.count() == messages_before
    assert Participant.objects.filter(pk=leaver.pk).exists()

    done = post(client, leaver, confirmed=True)
    assert done.status_code == 200 and "1 removed, chain repaired 1" in done.content.decode()
    assert not Participant.objects.filter(pk=leaver.pk).exists()
    after = chain(notified)
    assert (santa.user_id, recipient.user_id) in after and len(after) == 3
    assert {s for s, _ in after} == {r for _, r in after}  # everyone gives once and receives once
    dm = OutboxMessage.objects.filter(user_id=santa.user_id, status="pending").get()
    assert "recipient has changed" in payload_of(dm)["content"] and recipient.display_name in payload_of(dm)["content"]


def test_an_organiser_without_the_pairings_permission_reads_what_happens_not_who(officer, client, notified):
    client.force_login(officer("Ratmas organisers"))
    leaver = Participant.objects.get(event=notified, user_id=uid(2))
    santa = Pairing.objects.get(event=notified, recipient=leaver).santa
    recipient = Pairing.objects.get(event=notified, santa=leaver).recipient
    html = post(client, leaver, confirmed=False).content.decode()
    assert "Chain repaired: their Santa (name hidden: pairings are secret) now gives to their recipient" in html
    listed = html.split("Nothing has changed yet")[1]
    assert santa.display_name not in listed and recipient.display_name not in listed
    post(client, leaver, confirmed=True)
    assert not Participant.objects.filter(pk=leaver.pk).exists()


def test_an_officer_without_permission_cannot_remove(officer, client, notified):
    user = officer("Ratmas organisers")
    user.user_permissions.clear()
    for group in user.groups.all():
        user.groups.remove(group)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_participant", "view_event"]))
    client.force_login(user)
    page = client.get(CHANGELIST)
    assert page.status_code == 200 and ACTION not in page.content.decode()
    leaver = Participant.objects.get(event=notified, user_id=uid(2))
    before = chain(notified)
    for confirmed in (False, True):
        post(client, leaver, confirmed=confirmed)
    assert Participant.objects.filter(pk=leaver.pk).exists() and chain(notified) == before
    client.force_login(officer("Guild officers"))
    assert client.get(CHANGELIST).status_code == 403
    post(client, leaver, confirmed=True)
    assert Participant.objects.filter(pk=leaver.pk).exists()


def test_a_finished_event_is_refused_with_the_rule(officer, client, notified):
    client.force_login(officer("Ratmas organisers"))
    services.complete_event(notified)
    leaver = Participant.objects.get(event=notified, user_id=uid(2))
    page = post(client, leaver, confirmed=True)
    assert "This Ratmas is over" in page.content.decode()
    assert Participant.objects.filter(pk=leaver.pk).exists()
