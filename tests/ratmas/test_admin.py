"""The organisers' admin: who may see what (pairings are secret), the actions, the form."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone

from bot.models import OutboxMessage
from ratmas import backup, services
from ratmas.models import Event, Pairing
from tests.ratmas.conftest import GUILD, uid

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:ratmas_event_changelist")


def grant_secret(user) -> None:
    user.user_permissions.add(Permission.objects.get(codename="view_pairings_secret"))


@pytest.fixture
def organiser(officer, client):
    user = officer("Ratmas organisers")
    client.force_login(user)
    return user


def test_organisers_group_lacks_the_secret_permissions():
    codenames = set(Group.objects.get(name="Ratmas organisers").permissions.values_list("codename", flat=True))
    assert {"view_event", "change_event", "add_event", "view_participant"} <= codenames
    assert not codenames & {"view_pairings_secret", "view_pairing", "view_relaymessage", "change_pairing"}


def test_officer_of_another_group_is_denied(officer, client, make_event):
    event = make_event(3)
    client.force_login(officer("Guild officers"))
    assert client.get(CHANGELIST).status_code == 403
    assert client.get(reverse("admin:ratmas_event_change", args=[event.pk])).status_code == 403
    assert client.get(reverse("admin:ratmas_pairing_changelist")).status_code == 403


def test_organiser_sees_events_but_not_pairings(organiser, client, make_event):
    event = make_event(4, status="matched")
    assert client.get(CHANGELIST).status_code == 200
    page = client.get(reverse("admin:ratmas_event_change", args=[event.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Player 1" in html and "Pairings (secret)" not in html
    assert client.get(reverse("admin:ratmas_pairing_changelist")).status_code == 403
    assert client.get(reverse("admin:ratmas_relaymessage_changelist")).status_code == 403
    listing = client.get(CHANGELIST).content.decode()
    assert "export_json" in listing and "lock_signups" in listing


def test_secret_permission_shows_pairings_and_allows_export(organiser, client, make_event):
    grant_secret(organiser)
    event = make_event(4, status="matched")
    html = client.get(reverse("admin:ratmas_event_change", args=[event.pk])).content.decode()
    assert "Pairings (secret)" in html
    assert client.get(reverse("admin:ratmas_pairing_changelist")).status_code == 200
    response = client.post(CHANGELIST, {"action": "export_json", "_selected_action": [event.pk]})
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    assert len(json.loads(response.content)["pairings"]) == 4


def test_organiser_export_withholds_the_pairings(organiser, client, make_event):
    event = make_event(4, status="matched")
    response = client.post(CHANGELIST, {"action": "export_json", "_selected_action": [event.pk]})
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert "without-pairings" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["pairings"] == [] and data["pairings_withheld"] is True and len(data["participants"]) == 4
    assert b"santa_user_id" not in response.content and b"recipient_user_id" not in response.content
    event.delete()
    with pytest.raises(services.RatmasError, match="without the secret pairings"):
        backup.import_event(data)


def run_action(client, action: str, event: Event) -> list[str]:
    response = client.post(CHANGELIST, {"action": action, "_selected_action": [event.pk], "confirmed": "Yes"},
                           follow=True)  # "confirmed": the confirmation page's button (draw pairings asks first)
    assert response.status_code == 200
    return [str(m) for m in response.context["messages"]]


def test_actions_walk_the_lifecycle(organiser, client, make_event, fake_discord, deliver_outbox):
    event = make_event(4)
    fake_discord.closed_dms.add(uid(2))
    assert "signups locked" in run_action(client, "lock_signups", event)[0]
    [drawn] = run_action(client, "draw_pairings", event)
    assert "Pairings drawn: 4 Santas" in drawn
    assert "4 DM(s) queued" in run_action(client, "notify_santas", event)[0]
    deliver_outbox()
    page = client.get(reverse("admin:ratmas_event_change", args=[event.pk])).content.decode()
    assert "3/4 Santas notified" in page and "Player 2 (DMs closed" in page
    fake_discord.closed_dms.clear()
    assert "1 DM(s) queued" in run_action(client, "retry_failed_notifications", event)[0]
    deliver_outbox()
    assert Event.objects.get(pk=event.pk).status == "notified"
    assert "completed" in run_action(client, "complete_events", event)[0]
    assert Event.objects.get(pk=event.pk).status == "completed"
    # a refused action reports the service's message
    [refused] = run_action(client, "lock_signups", event)
    assert "Cannot lock signups: the event is over." in refused



def test_reopen_and_cancel_actions(organiser, client, make_event):
    event = make_event(3, status="locked")
    assert "signups reopened" in run_action(client, "reopen_signups", event)[0]
    assert Event.objects.get(pk=event.pk).status == "open"
    assert "cancelled" in run_action(client, "cancel_events", event)[0]
    assert Event.objects.get(pk=event.pk).status == "cancelled"
    assert "Cannot reopen signups: the event is cancelled." in run_action(client, "reopen_signups", event)[0]


def test_add_form_uses_the_service(organiser, client):
    now = timezone.localtime()
    data = {"guild_id": GUILD, "timezone": "Europe/Paris", "budget": "15 EUR",
            "signup_deadline_0": (now + timezone.timedelta(days=3)).strftime("%Y-%m-%d"), "signup_deadline_1": "12:00",
            "purchase_deadline_0": (now + timezone.timedelta(days=9)).strftime("%Y-%m-%d"),
            "purchase_deadline_1": "12:00",
            "reveal_date_0": (now + timezone.timedelta(days=12)).strftime("%Y-%m-%d"), "reveal_date_1": "12:00",
            "announcement_channel_id": "5", "participant_role_id": "", "managing_role_id": ""}
    for prefix in ("participants", "exclusions", "pairings"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    bad = client.post(reverse("admin:ratmas_event_add"), {**data, "timezone": "Nowhere/Land"})
    assert bad.status_code == 200 and "not a time zone" in bad.content.decode()
    response = client.post(reverse("admin:ratmas_event_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    event = Event.objects.get(guild_id=GUILD)
    assert event.timezone == "Europe/Paris" and event.status == "open"
    assert OutboxMessage.objects.filter(channel_id=5, topic=services.TOPIC_ANNOUNCE).exists()
    again = client.post(reverse("admin:ratmas_event_add"), data)
    assert "already has a Ratmas in progress" in again.content.decode()


def test_changelist_has_no_n_plus_one(admin_client, make_event, django_assert_max_num_queries):
    for i in range(8):
        event = make_event(3, guild=GUILD + i, status="matched")
        Pairing.objects.filter(event=event).update(notified_at=timezone.now())
    with django_assert_max_num_queries(10):
        assert admin_client.get(CHANGELIST).status_code == 200
    with django_assert_max_num_queries(10):
        assert admin_client.get(reverse("admin:ratmas_pairing_changelist")).status_code == 200
    with django_assert_max_num_queries(10):
        assert admin_client.get(reverse("admin:ratmas_participant_changelist")).status_code == 200


def test_organiser_cannot_see_a_pairing_anywhere_in_the_admin(organiser, client, make_event, deliver_outbox):
    """Every admin page an organiser can reach, including the related-object lookups Django
    allows in the query string (``?gives=<pairing id>`` would name a pairing's Santa and
    ``?receives=`` its recipient), the outbox holding the Santa DMs, and the export."""
    event = make_event(4, status="matched")
    services.notify_santas(event)
    deliver_outbox()
    services.message_recipient(event, uid(1), "hello")
    pairing = Pairing.objects.select_related("santa", "recipient").get(event=event, santa__user_id=uid(1))
    relay = pairing.relay_messages.get()
    participants = reverse("admin:ratmas_participant_changelist")
    for url in (reverse("admin:ratmas_pairing_changelist"), reverse("admin:ratmas_pairing_change", args=[pairing.pk]),
                reverse("admin:ratmas_pairing_history", args=[pairing.pk]),
                reverse("admin:ratmas_relaymessage_changelist"),
                reverse("admin:ratmas_relaymessage_change", args=[relay.pk]),
                reverse("admin:bot_outboxmessage_changelist"),
                reverse("admin:bot_outboxmessage_change", args=[pairing.notify_message_id])):
        assert client.get(url).status_code == 403, url
    for query in (f"gives={pairing.pk}", f"receives={pairing.pk}", f"gives__exact={pairing.pk}",
                  f"receives__in={pairing.pk}", f"gives__recipient={pairing.recipient_id}",
                  f"receives__santa__user_id={uid(1)}", f"gives__relay_messages={relay.pk}"):
        response = client.get(f"{participants}?{query}")
        assert response.status_code in (400, 403), (query, response.status_code)
    response = client.get(f"{CHANGELIST}?pairings={pairing.pk}")
    assert response.status_code in (400, 403)
    for url in (reverse("admin:index"), reverse("admin:app_list", args=["ratmas"]), participants,
                reverse("admin:ratmas_participant_change", args=[pairing.santa_id]),
                reverse("admin:ratmas_participant_change", args=[pairing.recipient_id]),
                reverse("admin:ratmas_event_change", args=[event.pk]),
                reverse("admin:ratmas_event_history", args=[event.pk]),
                reverse("admin:ratmas_scheduledsend_changelist")):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "Pairings (secret)" not in html and "/ratmas/pairing/" not in html and "hello" not in html, url
        assert "Your recipient" not in html, url
    response = client.post(CHANGELIST, {"action": "export_json", "_selected_action": [event.pk]}, follow=True)
    assert json.loads(response.content)["pairings"] == [] and b"santa_user_id" not in response.content


def test_secret_holder_may_use_the_pairing_lookups(organiser, client, make_event):
    grant_secret(organiser)
    event = make_event(3, status="matched")
    pairing = Pairing.objects.filter(event=event).first()
    response = client.get(f"{reverse('admin:ratmas_participant_changelist')}?gives={pairing.pk}")
    assert response.status_code == 200


def change_form_data(response) -> dict:
    """The POST data of an admin change page as the browser would send it unchanged."""
    from django import forms

    data: dict = {}
    form = response.context["adminform"].form
    for name, field in form.fields.items():
        value = form[name].value()
        if isinstance(field.widget, forms.MultiWidget):
            for i, part in enumerate(field.widget.decompress(value)):
                data[f"{name}_{i}"] = "" if part is None else str(part)
        else:
            data[name] = "" if value is None else value
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for key, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{key}"] = value
        for i, sub in enumerate(formset.initial_forms):
            data[f"{formset.prefix}-{i}-id"] = sub.instance.pk
            data[f"{formset.prefix}-{i}-event"] = sub.instance.event_id
    return data


def test_organiser_adds_and_deletes_exclusions_through_the_services(organiser, client, make_event):
    event = make_event(4)
    url = reverse("admin:ratmas_event_change", args=[event.pk])
    page = client.get(url)
    form = page.context["inline_admin_formsets"][1].formset.empty_form
    assert set(form.fields["giver"].queryset) == set(event.participants.all())  # only this event's people
    other = make_event(3, guild=GUILD + 1)
    data = change_form_data(client.get(url))
    giver, receiver = (event.participants.get(user_id=uid(i)) for i in (1, 2))
    data.update({"exclusions-TOTAL_FORMS": 1, "exclusions-0-giver": giver.pk, "exclusions-0-receiver": receiver.pk,
                 "exclusions-0-both_ways": "on", "exclusions-0-event": event.pk})
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    [exclusion] = event.exclusions.all()
    assert (exclusion.giver, exclusion.receiver, exclusion.both_ways) == (giver, receiver, True)

    # someone from another event, or giving to themselves: refused on the form
    data = change_form_data(client.get(url))
    stranger = other.participants.first()
    data.update({"exclusions-TOTAL_FORMS": 2, "exclusions-1-giver": stranger.pk, "exclusions-1-receiver": giver.pk,
                 "exclusions-1-event": event.pk})
    foreign = client.post(url, data)
    assert foreign.status_code == 200
    assert "valid choice" in str(foreign.context["inline_admin_formsets"][1].formset.forms[1].errors)
    data.update({"exclusions-1-giver": giver.pk, "exclusions-1-receiver": giver.pk})
    refused = client.post(url, data)
    errors = [str(f.errors) for f in refused.context["inline_admin_formsets"][1].formset.forms]
    assert refused.status_code == 200 and "Nobody draws themselves" in errors[1]
    assert event.exclusions.count() == 1

    data.update({"exclusions-1-giver": giver.pk, "exclusions-1-receiver": receiver.pk})
    twice = client.post(url, data)
    assert "duplicate values" in str(twice.context["inline_admin_formsets"][1].formset.forms[1].errors)

    data = change_form_data(client.get(url))
    data["exclusions-0-DELETE"] = "on"
    assert client.post(url, data).status_code == 302
    assert not event.exclusions.exists()

    # after the draw the exclusions are frozen: no add row, no delete box
    services.add_exclusion(event, uid(3), uid(4))
    services.set_status(event, "locked")
    services.generate_pairings(event, seed=1)
    page = client.get(url)
    exclusions = page.context["inline_admin_formsets"][1]
    assert not exclusions.has_add_permission and not exclusions.has_delete_permission
    data = change_form_data(page)
    data["exclusions-0-DELETE"] = "on"
    assert client.post(url, data).status_code == 302
    assert event.exclusions.count() == 1


def test_change_form_updates_through_the_service(organiser, client, make_event):
    event = make_event(3)
    url = reverse("admin:ratmas_event_change", args=[event.pk])
    data = change_form_data(client.get(url))
    assert "guild_id" not in data  # fixed once created
    data.update({"budget": "35 EUR", "timezone": "Asia/Tokyo"})
    assert client.post(url, data).status_code == 302
    event.refresh_from_db()
    assert (event.budget, event.timezone, event.guild_id) == ("35 EUR", "Asia/Tokyo", GUILD)
    data = change_form_data(client.get(url))
    data["reveal_date_0"] = "2001-01-01"
    refused = client.post(url, data)
    assert refused.status_code == 200 and "in order" in refused.content.decode()
    services.set_status(event, "cancelled")
    finished = change_form_data(client.get(url))
    assert "budget" not in finished  # everything is read-only once finished
    assert client.post(url, finished).status_code == 302


@pytest.mark.parametrize("n", [6, 30])
def test_change_page_queries_do_not_grow_with_participants(organiser, client, make_event, n,
                                                           django_assert_max_num_queries):
    event = make_event(n)
    for i in range(1, n, 2):
        services.add_exclusion(event, uid(i), uid(i + 1), both_ways=True)
    with django_assert_max_num_queries(13):  # 10-11 measured, whatever the number of rows
        assert client.get(reverse("admin:ratmas_event_change", args=[event.pk])).status_code == 200
