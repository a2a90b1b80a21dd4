from __future__ import annotations

import pytest
from django.db import transaction

from bot import outbox
from bot.models import OutboxMessage


def _queue(n: int = 3) -> list[OutboxMessage]:
    with transaction.atomic():
        return [outbox.post_message(1000 + i, content=f"m{i}") for i in range(n)]


@pytest.mark.django_db
def test_outbox_changelist_filters_and_is_read_only(admin_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = "/admin/bot/outboxmessage/?status__exact=pending&kind__exact=channel_message"
    counts = []
    for n in (3, 40):  # the number of queries does not grow with the rows shown: no N+1
        _queue(n)
        with CaptureQueriesContext(connection) as ctx:
            response = admin_client.get(url)
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1] <= 10
    assert admin_client.get("/admin/bot/outboxmessage/?q=1005").status_code == 200
    assert admin_client.get("/admin/bot/outboxmessage/add/").status_code == 403
    row = OutboxMessage.objects.first()
    page = admin_client.get(f"/admin/bot/outboxmessage/{row.pk}/change/")
    assert page.status_code == 200 and "Save" not in page.content.decode()


@pytest.mark.django_db
def test_retry_now_action(admin_client, fake_discord, deliver_outbox):
    fake_discord.unknown_channels.add(1000)
    rows = _queue(2)
    deliver_outbox()
    response = admin_client.post("/admin/bot/outboxmessage/", {
        "action": "retry_selected", "_selected_action": [r.pk for r in rows]}, follow=True)
    assert "1 message queued for delivery now." in response.content.decode()
    assert "1 already sent or withdrawn: left alone." in response.content.decode()
    assert OutboxMessage.objects.get(pk=rows[0].pk).status == OutboxMessage.Status.PENDING


@pytest.mark.django_db
def test_retry_without_token_says_nothing_is_sent(admin_client, fake_discord, deliver_outbox, settings):
    fake_discord.unknown_channels.add(1000)
    rows = _queue(2)
    deliver_outbox()
    settings.DISCORD_TOKEN = ""
    response = admin_client.post("/admin/bot/outboxmessage/", {
        "action": "retry_selected", "_selected_action": [r.pk for r in rows]}, follow=True)
    text = response.content.decode()
    assert "queued for delivery now" not in text
    assert "1 message queued again, but DISCORD_TOKEN is not set: nothing is sent until it is." in text
    assert "DISCORD_TOKEN is not set: messages are queued but not sent." in text  # the list page says so too
    settings.DISCORD_TOKEN = "set"
    assert "messages are queued but not sent" not in admin_client.get("/admin/bot/outboxmessage/").content.decode()


@pytest.mark.django_db
def test_officers_outside_staff_superuser_cannot_see_outbox(client, officer):
    user = officer("Ark officers")
    client.force_login(user)
    assert client.get("/admin/bot/outboxmessage/").status_code == 403


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_browser_admin_login_and_outbox_list(admin_login, live_server, django_user_model):
    django_user_model.objects.create_superuser("boss", "boss@example.org", "correct horse battery")
    _queue(2)
    page = admin_login("boss", "correct horse battery")
    assert "Guild Ops" in page.title()
    page.goto(f"{live_server.url}/admin/bot/outboxmessage/")
    page.wait_for_selector("#result_list")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 2
    page.click("text=Pending")  # the status filter
    assert page.locator("#result_list tbody tr").count() == 2


@pytest.mark.django_db
def test_the_outbox_admin_speaks_the_officers_language(admin_client, fake_discord, deliver_outbox):
    """German headings, status, action and a failure reason stored in English by the worker,
    rendered in German at display (bot.failures); English shows the stored text unchanged."""
    fake_discord.unknown_channels.add(1000)
    row = _queue(1)[0]
    deliver_outbox()
    row.refresh_from_db()
    assert row.last_error.startswith("10003 Unknown Channel")
    html = admin_client.get("/admin/bot/outboxmessage/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Postausgangs-Nachrichten" in html and "Jetzt erneut versuchen" in html
    assert "Fehlgeschlagen" in html and "10003 Unbekannter Kanal" in html
    page = admin_client.get(f"/admin/bot/outboxmessage/{row.pk}/change/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Letzter Fehler" in page and "10003 Unbekannter Kanal" in page
    english = admin_client.get("/admin/bot/outboxmessage/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert row.last_error[:80] in english


def test_stored_failure_reasons_render_in_the_readers_language():
    from django.utils import translation

    from bot.failures import describe_text

    stored = ["gave up after 5 attempts: timed out waiting for Discord", "withdrawn: the member asked to be forgotten",
              "rate limited for 12.5s", "50035 Invalid Form Body; content: too long", "something new from Discord"]
    assert [describe_text(s) for s in stored] == stored  # English: the stored words
    with translation.override("fr"):
        assert describe_text(stored[0]) == "abandonné après 5 tentatives : délai dépassé en attendant Discord"
        assert describe_text(stored[1]) == "retiré : le membre a demandé à être oublié"
        assert describe_text(stored[3]) == "50035 Corps de requête invalide; content: too long"
        assert describe_text(stored[4]) == "something new from Discord"


def test_the_guards_pause_reason_in_the_officers_language():
    """The dashboard's pause reason is built in the reader's language with their numbers; the
    English one a held-back row stored renders the same way in the outbox admin."""
    from django.utils import translation

    from bot import guard
    from bot.failures import describe_text

    english = guard.pause_reason(1234, {401: 4, 429: 1230}, 1000, 7)
    assert english.startswith("Delivery to Discord is paused: 1,234 invalid requests (4 × 401, 1,230 × 429)")
    assert "at 10,000" in english and "in about 7 min;" in english
    with translation.override("de"):
        german = guard.pause_reason(1234, {401: 4, 429: 1230}, 1000, 7)
        assert german.startswith("Die Zustellung an Discord ist pausiert: 1.234 ungültige Anfragen (4 × 401, 1.230 × 429)")
        assert "bei 10.000" in german and "in etwa 7 Min." in german
        assert describe_text(english) == german
