"""Issue 12 defect 10: the Santa secret no longer leaks through the outbox admin.

Santa DMs (and the other DMs that name a pairing) are queued ``secret``; the outbox admin
shows their payload and dedupe key redacted unless the viewer holds
``ratmas.view_pairings_secret``; delivery still sends the whole text.
"""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.db import transaction
from django.test import Client

from bot import outbox
from bot.models import OutboxMessage
from bot.outbox import payload_of
from ratmas import services
from ratmas.models import Pairing
from tests.ratmas import conftest as ratmas_fixtures
from tests.ratmas.conftest import uid

pytestmark = pytest.mark.django_db
make_event = ratmas_fixtures.make_event  # events built through the Ratmas services


def outbox_viewer(django_user_model, *, secrets: bool):
    user = django_user_model.objects.create_user("viewer-secret" if secrets else "viewer", password="x",
                                                 is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_outboxmessage"))
    if secrets:
        user.user_permissions.add(Permission.objects.get(codename="view_pairings_secret"))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def santa_dm(make_event):
    event = make_event(3, status="matched")
    services.notify_santas(event)
    pairing = Pairing.objects.select_related("santa", "recipient").get(event=event, santa__user_id=uid(1))
    return pairing, OutboxMessage.objects.get(topic=services.TOPIC_SANTA_DM, user_id=uid(1))


def test_defect10_santa_dms_are_queued_secret(santa_dm):
    _pairing, row = santa_dm
    assert row.secret
    assert OutboxMessage.objects.filter(topic=services.TOPIC_SANTA_DM, secret=False).count() == 0


def test_defect10_admin_redacts_secret_payload_without_the_pairings_permission(santa_dm, django_user_model):
    pairing, row = santa_dm
    page = outbox_viewer(django_user_model, secrets=False).get(f"/admin/bot/outboxmessage/{row.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200 and "(secret: only people allowed" in html
    assert pairing.recipient.display_name not in html and "Your recipient" not in html
    assert str(pairing.recipient.user_id) not in html  # the dedupe key names the recipient too


def test_defect10_admin_shows_secret_payload_with_the_pairings_permission(santa_dm, django_user_model):
    pairing, row = santa_dm
    page = outbox_viewer(django_user_model, secrets=True).get(f"/admin/bot/outboxmessage/{row.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200 and pairing.recipient.display_name in html and "(secret" not in html


def test_defect10_search_cannot_confirm_a_guessed_pairing(santa_dm, django_user_model):
    pairing, _row = santa_dm
    guess = f"santa:{pairing.santa.user_id}:{pairing.recipient.user_id}"
    blind = outbox_viewer(django_user_model, secrets=False).get("/admin/bot/outboxmessage/", {"q": guess})
    assert "0 results" in blind.content.decode()
    allowed = outbox_viewer(django_user_model, secrets=True).get("/admin/bot/outboxmessage/", {"q": guess})
    assert "1 result" in allowed.content.decode()


def test_defect10_ordinary_messages_stay_readable(django_user_model):
    with transaction.atomic():
        row = outbox.post_message(1000, content="Raid tonight at 20:00")
    page = outbox_viewer(django_user_model, secrets=False).get(f"/admin/bot/outboxmessage/{row.pk}/change/")
    assert "Raid tonight at 20:00" in page.content.decode()


def test_defect10_delivery_sends_the_secret_text_whole(santa_dm, fake_discord, deliver_outbox):
    pairing, row = santa_dm
    deliver_outbox()
    [dm] = fake_discord.dms_to(uid(1))
    assert dm["content"] == payload_of(row)["content"]
    assert f"Your recipient: **{pairing.recipient.display_name}**" in dm["content"]


def test_defect10_relay_to_the_santa_and_wishlist_update_are_secret(make_event):
    event = make_event(3, status="matched")
    services.notify_santas(event)
    pairing = Pairing.objects.select_related("santa", "recipient").get(event=event, santa__user_id=uid(1))
    services.message_santa(event, pairing.recipient.user_id, "thanks!")
    Pairing.objects.filter(pk=pairing.pk).update(notified_at=event.created_at)
    services.update_wishlist(event, pairing.recipient.user_id, "https://wish.example/new")
    to_santa = OutboxMessage.objects.filter(user_id=pairing.santa.user_id).exclude(topic=services.TOPIC_SANTA_DM)
    assert to_santa.count() == 2 and all(row.secret for row in to_santa)


def test_defect10_migration_marks_rows_queued_before_the_flag(santa_dm):
    _pairing, row = santa_dm
    OutboxMessage.objects.filter(pk=row.pk).update(secret=False)
    importlib.import_module("bot.migrations.0004_outbox_secret").mark_queued_santa_dms_secret(apps, None)
    row.refresh_from_db()
    assert row.secret
