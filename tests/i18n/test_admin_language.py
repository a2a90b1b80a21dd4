"""The officers' admin speaks the officer's language: the browser's (Accept-Language) unless
the officer chose one on the "Language" page, which then wins; the server language of public
Discord posts is chosen on the same page (English until officers choose)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core import i18n, services
from core.errors import DomainError
from core.models import OfficerLanguage, ServerLanguage

pytestmark = pytest.mark.django_db


def test_the_browser_language_applies_without_a_choice(admin_client):
    page = admin_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="de")
    assert page["Content-Language"] == "de"
    html = page.content.decode()
    assert 'lang="de"' in html and "Abmelden" in html  # Django's own admin strings, in German
    page = admin_client.get(reverse("admin:index"))
    assert page["Content-Language"] == "en" and "Log out" in page.content.decode()


def test_an_officers_choice_overrides_the_browser(admin_client, admin_user):
    answer = admin_client.post(reverse("admin:language"), {"language": "fr", "server_language": "en"},
                               HTTP_ACCEPT_LANGUAGE="de")
    assert answer.status_code == 302
    assert OfficerLanguage.objects.get(user=admin_user).language == "fr"
    page = admin_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="de")
    assert page["Content-Language"] == "fr" and "Déconnexion" in page.content.decode()
    # forgetting the choice gives the browser's language back
    admin_client.post(reverse("admin:language"), {"language": ""})
    page = admin_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="de")
    assert page["Content-Language"] == "de"


def test_the_language_page_is_in_the_user_links(admin_client):
    html = admin_client.get(reverse("admin:index")).content.decode()
    assert f'href="{reverse("admin:language")}" id="language-link"' in html


def test_server_language_defaults_to_english_and_officers_choose_it(admin_client):
    assert i18n.server_language() == "en"
    admin_client.post(reverse("admin:language"), {"language": "", "server_language": "fr"})
    row = ServerLanguage.objects.get()
    assert row.language == "fr" and row.changed_by == "admin" and row.changed_at is not None
    assert i18n.server_language() == "fr"


def test_an_officer_without_the_permission_cannot_change_the_server_language(officer, client):
    user = officer("Ark officers")
    client.force_login(user)
    page = client.get(reverse("admin:language"))
    assert page.status_code == 200 and 'name="server_language"' not in page.content.decode()
    client.post(reverse("admin:language"), {"language": "de", "server_language": "fr"})
    assert i18n.server_language() == "en" and not ServerLanguage.objects.exists()
    assert OfficerLanguage.objects.get(user=user).language == "de"  # their own language is theirs


def test_an_unknown_language_is_refused_with_a_sentence(admin_user):
    with pytest.raises(DomainError, match="not a language Guild Ops speaks"):
        services.set_officer_language(admin_user, "klingon")
    with pytest.raises(DomainError, match="not a language Guild Ops speaks"):
        services.set_server_language("it", actor="admin")
    assert not OfficerLanguage.objects.exists() and not ServerLanguage.objects.exists()


def test_the_only_row_constraint_holds():
    from django.db import IntegrityError, transaction

    ServerLanguage.objects.create(id=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        ServerLanguage.objects.create(id=2)


def test_discord_locales_map_to_our_languages():
    assert i18n.language_of_locale("de") == "de"
    assert i18n.language_of_locale("pt-BR") == "pt-br"
    assert i18n.language_of_locale("es-419") == i18n.language_of_locale("es-ES") == "es"
    assert i18n.language_of_locale("en-GB") == "en"
    assert i18n.language_of_locale("ja") is None and i18n.language_of_locale(None) is None
    assert set(i18n.discord_locales("es")) == {"es-ES", "es-419"}


def test_numbers_are_written_as_the_reader_writes_them():
    from django.utils import translation

    with translation.override("en"):
        assert i18n.number(1234567) == "1,234,567" and i18n.percent(12.5, 1) == "12.5%"
    with translation.override("de"):
        assert i18n.number(1234567) == "1.234.567" and i18n.percent(12.5, 1) == "12,5\u00a0%"
    with translation.override("pt-br"):
        assert i18n.number(1234567) == "1.234.567" and i18n.percent(12.5, 1) == "12,5%"
    with translation.override("es"):
        assert i18n.percent(12.5, 1) == "12,5\u00a0%"
    with translation.override("fr"):
        assert i18n.number(1234567).replace("\u202f", " ").replace("\u00a0", " ") == "1 234 567"


def test_the_member_directory_keeps_the_last_seen_locale():
    from guildsync.models import DiscordUser
    from guildsync.services.members import record_member

    assert record_member(501, "ana", "Ana", in_server=True, locale="pt-BR")
    assert DiscordUser.objects.get(discord_id=501).locale == "pt-BR"
    assert i18n.member_language(501) == "pt-br"
    assert not record_member(501, "ana", "Ana", locale="pt-BR")  # nothing changed: no write
    assert record_member(501, "ana", "Ana", locale="de")
    assert i18n.member_language(501) == "de"
    assert not record_member(501, "ana", "Ana")  # an event without a locale keeps the last one
    assert DiscordUser.objects.get(discord_id=501).locale == "de"
    record_member(502, "jo", locale="ja")  # a language we do not ship: the server's
    assert i18n.member_language(502) == "en" and i18n.member_language(None) == "en"


def test_a_post_keeps_its_language_until_officers_change_the_setting():
    import datetime as dt
    from types import SimpleNamespace

    from django.utils import timezone

    services.set_server_language("fr", actor="a")
    i18n.forget_server_language()
    changed = ServerLanguage.objects.get().changed_at
    later = SimpleNamespace(language="de", created_at=changed + dt.timedelta(seconds=1))
    earlier = SimpleNamespace(language="de", created_at=changed - dt.timedelta(seconds=1))
    assert i18n.post_language(later) == "de"  # created in German after the setting: stays German
    assert i18n.post_language(earlier) == "fr"  # officers changed the setting since: the new language
    assert i18n.post_language(None) == "fr"
    assert i18n.post_language(SimpleNamespace(language="", created_at=timezone.now())) == "fr"


def test_the_choice_costs_no_query_per_request(admin_client, admin_user):
    services.set_officer_language(admin_user, "de")
    admin_client.force_login(admin_user)  # sign-in copies the choice into the session
    url = reverse("admin:index")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as seen:
        page = admin_client.get(url)
    assert page["Content-Language"] == "de"
    assert not [q for q in seen.captured_queries if "officerlanguage" in q["sql"]]


def test_the_dashboard_and_a_changelist_speak_german_to_a_german_browser(admin_client, settings):
    settings.DISCORD_TOKEN = ""
    html = admin_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    for german in ("Was jetzt einen Offizier braucht", "Guild Ops — Offiziere", "Discord-Postausgang",
                   "Keine fehlgeschlagenen Nachrichten.", "DISCORD_TOKEN ist nicht gesetzt", "Sprache",
                   "Wer ist wer: WoW-Charaktere", "Projekt-Infrastruktur."):
        assert german in html, german
    html = admin_client.get(reverse("admin:bot_outboxmessage_changelist"), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Guild Ops — Offiziere" in html and "Sprache" in html and "Abmelden" in html
    # the officer's own choice wins over the browser's here too
    admin_client.post(reverse("admin:language"), {"language": "es"})
    html = admin_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Lo que necesita a un oficial ahora" in html and "Bandeja de salida de Discord" in html


def test_the_dashboard_gives_a_failed_messages_stored_reason_in_the_officers_language(admin_client, settings):
    """The delivery worker stores why a message failed in English (operators search for it);
    the dashboard shows it in the officer's words (``bot.failures.describe``)."""
    from tests.factories import outbox_message

    settings.DISCORD_TOKEN = ""
    outbox_message(status="failed", last_error="gave up after 5 attempts: 50007 Cannot send messages to this user")
    german = admin_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "nach 5 Versuchen aufgegeben: 50007" in german
    english = admin_client.get(reverse("admin:index")).content.decode()
    assert "gave up after 5 attempts: 50007 Cannot send messages to this user" in english


def test_the_dashboards_dates_and_counts_are_in_the_officers_language(admin_client, settings):
    """Days and months on the dashboard are the reader's words (Django's date_format), counts
    real plurals: no English month inside a German page."""
    from tests import factories

    settings.DISCORD_TOKEN = ""
    match = factories.ark_match(factories.ark_alliance("Rats"))
    stamp = match.match_time_utc
    german = admin_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert f"Rats · Samstag {stamp:%d} Mär {stamp:%H:%M} UTC" in german, stamp
    french = admin_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert f"Rats · Samedi {stamp:%d} Mar {stamp:%H:%M} UTC" in french  # Django's French "mar" (mars)
