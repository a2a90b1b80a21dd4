"""The members' front door speaks the member's language: ``/me/`` in the browser's language
(Accept-Language), or, when the browser sends none, in the member's last-seen Discord language
(``members.me.page_language``); its flash messages too; the private calendar feed in the member's
language (a calendar app sends no language), the public feeds in the server language; the
``/calendar`` replies under the active language; the officers' calendar admin in German."""

from __future__ import annotations

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth.models import User
from django.utils import translation

from core import services as core_services
from members import messages, services
from members.models import PublicFeed
from tests import factories as f

pytestmark = pytest.mark.django_db

MEMBER_ID = 4_242_424_242


def _signed_in(client, locale: str = "") -> None:
    f.discord_user("lunara", discord_id=MEMBER_ID, display_name="Lunara", locale=locale)
    user = User.objects.create_user("lunara-login")
    SocialAccount.objects.create(user=user, provider="discord", uid=str(MEMBER_ID))
    client.force_login(user)


def test_the_member_page_in_german_from_the_browser(client):
    _signed_in(client, locale="pt-BR")  # the browser's language wins over the Discord one
    page = client.get("/me/", HTTP_ACCEPT_LANGUAGE="de")
    html = page.content.decode()
    assert page["Content-Language"] == "de" and '<html lang="de">' in html
    for german in ("Angemeldet als", "Deine WoW-Charaktere", "Deine Arche-Statthalter", "Du hast keinen Kalender-Link.",
                   "Meinen Kalender-Link erstellen", "Schick mir Arche-Erinnerungen per Direktnachricht",
                   "Einen Tag vor dem Match", "Meine Daten herunterladen", "Vergiss mich …", "Abmelden",
                   "Deine Seite · Guild Ops"):
        assert german in html, german
    assert "Your data" not in html and "Sign out" not in html
    # a change answers in German too (the flash message on the next page)
    answer = client.post("/me/calendar/", {"action": "revoke"}, HTTP_ACCEPT_LANGUAGE="de", follow=True)
    assert "Du hattest keinen Kalender-Feed." in answer.content.decode()
    forget = client.get("/me/forget/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Ich verstehe: Lösch meine Daten jetzt." in forget


def test_without_a_browser_language_the_members_discord_language(client):
    _signed_in(client, locale="pt-BR")
    page = client.get("/me/")  # the test client sends no Accept-Language
    assert page["Content-Language"] == "pt-br" and "Seus dados" in page.content.decode()
    english = client.get("/me/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Your data" in english and "Seus dados" not in english


def test_signed_out_page_in_french(client):
    html = client.get("/me/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Ta page dans Guild Ops" in html and "Se connecter" in html


def test_the_private_feed_in_the_members_language_the_public_one_in_the_servers(client):
    f.discord_user("lunara", discord_id=MEMBER_ID, locale="de")
    issued = services.issue_token(MEMBER_ID)
    body = client.get(f"/calendar/{issued.token}.ics").content.decode()
    assert "X-WR-CALNAME:Guild Ops: mein Terminplan" in body
    services.set_public_feed("raids", enabled=True)
    core_services.set_server_language("fr", actor="test")
    body = client.get("/calendar/public/raids.ics", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "X-WR-CALNAME:Guild Ops : soirées de raid" in body


def test_calendar_replies_and_errors_translate():
    with translation.override("es"):
        assert messages.revoke_text(MEMBER_ID) == "No tienes feed de calendario. `/calendar show` crea uno."
        with pytest.raises(services.CalendarError, match="no es un ID de usuario de Discord"):
            services.issue_token("abc")
    assert "You have no calendar feed." in messages.revoke_text(MEMBER_ID)


def test_the_calendar_admin_in_german(admin_client):
    services.set_public_feed("raids", enabled=True)
    html = admin_client.get("/admin/members/publicfeed/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Öffentliche Kalender-Feeds" in html and "Alle Schlachtzugsabende (öffentlich)" in html
    assert "Öffentliche URL" in html
    services.issue_token(MEMBER_ID)
    html = admin_client.get("/admin/members/calendartoken/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Private Kalender-Feeds" in html and "Ausgewählte Kalender-Feeds widerrufen" in html
    assert PublicFeed.objects.count() == 1


def test_the_language_switch_beats_the_browser(client):
    _signed_in(client)
    assert 'id="me-language-choice"' in client.get("/me/").content.decode()
    answer = client.post("/me/language/", {"language": "es", "next": "/me/"}, HTTP_ACCEPT_LANGUAGE="de")
    assert answer.status_code == 302 and answer["Location"] == "/me/"
    page = client.get("/me/", HTTP_ACCEPT_LANGUAGE="de")
    assert page["Content-Language"] == "es" and "Tus datos" in page.content.decode()
    assert client.post("/me/language/", {"language": "xx", "next": "https://evil.example/"}).status_code == 302
    assert client.get("/me/", HTTP_ACCEPT_LANGUAGE="de")["Content-Language"] == "es"  # nothing changed
