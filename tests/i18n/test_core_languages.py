"""core speaks the reader's language (issue #27): its services' refusals, its admin pages (API keys
and secrets, privacy requests), the login page, the API's error bodies, a member's data export and
the privacy statement; and only the senior officer group may set the server language."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from core import i18n, services
from core.errors import DomainError

pytestmark = pytest.mark.django_db


def test_a_services_refusal_is_in_the_readers_language():
    with translation.override("de"), pytest.raises(DomainError, match="Gib dem Schlüssel einen Namen"):
        services.create_api_key("  ", ["read"])
    with translation.override("fr"), pytest.raises(DomainError, match=r"Choisis au moins une portée \(read"):
        services.create_api_key("addon", [])
    with translation.override("es"), pytest.raises(DomainError, match="Ámbito"):
        services.create_api_key("addon", ["fly"])
    with translation.override("en"), pytest.raises(DomainError, match="Give the key a name"):
        services.create_api_key("", ["read"])


def test_a_privacy_refusal_and_the_export_speak_the_members_language():
    from core import privacy

    with translation.override("pt-br"), pytest.raises(privacy.PrivacyError, match="não é um ID de usuário do Discord"):
        privacy.export_member("abc")
    with translation.override("pt-br"):
        export = privacy.export_member(80351110224678912)
    assert export["about"].startswith("Os dados do Guild Ops sobre esta conta do Discord")


def test_the_privacy_requests_pages_speak_german(admin_client):
    from core.privacy.requests import process

    process(80351110224678912, kind="export", source="officer", actor="admin")
    page = admin_client.get(reverse("admin:core_privacyrequest_changelist"), HTTP_ACCEPT_LANGUAGE="de")
    html = page.content.decode()
    assert page.status_code == 200 and "Datenschutzanfragen" in html
    assert "Bearbeitet am" in html and "Eingegangen von" in html  # the columns: the fields' verbose names
    assert "über ihren schlüsselbasierten Hash" in html  # the search box's help
    form = admin_client.get(reverse("admin:core_privacyrequest_add"), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Datenschutzanfrage bearbeiten" in form and "Mir ist klar, dass das Löschen nicht rückgängig" in form
    assert "Kopie der eigenen Daten" in form and 'value="Anfrage bearbeiten"' in form
    assert "Discord Trust &amp; Safety" in form and "The member" not in form
    refused = admin_client.post(reverse("admin:core_privacyrequest_add"),
                                {"discord_user_id": "12", "kind": "forget", "source": "officer"},
                                HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Eine Discord-Benutzer-ID hat 15 bis 20 Ziffern." in refused


def test_the_secret_settings_page_speaks_french(admin_client, settings):
    settings.FIELD_ENCRYPTION_KEY = ""
    html = admin_client.get(reverse("admin:core_secretsetting_changelist"), HTTP_ACCEPT_LANGUAGE="fr",
                            follow=True).content.decode()
    assert "Paramètres secrets" in html or "paramètres secrets" in html
    assert "Ce serveur ne peut pas encore stocker de secrets" in html  # NO_KEY, the page's error message
    form = admin_client.get(reverse("admin:core_secretsetting_add"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Clé d&#x27;API Raid-Helper" in form  # a choice label


def test_a_change_message_says_what_changed_in_german():
    from core.admin_tools import SaysWhatChangedMixin, _changed_successfully

    with translation.override("de"):
        said = SaysWhatChangedMixin.describe_change("Raidabend", [
            {"changed": {"fields": ["Titel"]}},
            {"added": {"name": "Schlachtzugsteilnahme", "object": "C"}},
            {"added": {"name": "Schlachtzugsteilnahme", "object": "D"}}])
        assert said == "„Raidabend“ gespeichert: Titel; 2 Zeilen Schlachtzugsteilnahme hinzugefügt."
        # Django's own success message, in German, is recognised (and replaced) as in English
        django_says = translation.gettext("The {name} “{obj}” was changed successfully.").format(
            name="Schlachtzug", obj="Raidabend")
        assert django_says != "The Schlachtzug “Raidabend” was changed successfully."
        assert _changed_successfully().match(django_says + " Du kannst es unten wieder bearbeiten.")


def test_the_login_page_speaks_spanish(client, settings):
    settings.DISCORD_CLIENT_ID = settings.DISCORD_CLIENT_SECRET = ""
    html = client.get(reverse("admin:login"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "El inicio de sesión con Discord está desactivado en este servidor." in html
    assert "<code>DISCORD_CLIENT_ID</code>" in html  # the setting names stay code, not escaped markup


def test_the_apis_error_bodies_follow_accept_language(admin_client):
    answer = admin_client.get("/api/identity/players?limit=abc", HTTP_ACCEPT_LANGUAGE="de")
    assert answer.status_code == 400 and answer.json()["detail"] == "limit: Eine ganze Zahl ab 1 ist nötig."
    answer = admin_client.get("/api/identity/players?limit=abc")
    assert answer.json()["detail"] == "limit: A whole number from 1 is required."
    answer = admin_client.get("/api/no/such/path", HTTP_ACCEPT_LANGUAGE="fr")
    assert answer.status_code == 404 and answer.json() == {"detail": "Introuvable."}


def test_the_privacy_statement_is_printed_in_a_members_language():
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    from core.privacy import statement

    english = statement.render()
    assert "### How long it is kept" in english and "Sign-in and records (core)" in english
    out = StringIO()
    call_command("privacy_statement", language="de", stdout=out)
    german = out.getvalue()
    assert "### Wie lange es aufbewahrt wird" in german and "#### Anmeldung und Nachweise (core)" in german
    assert "Die Discord-Anmeldung wird entfernt" in german  # core's own registry entry, translated
    assert statement.current() == english  # docs/PRIVACY.md stays the English one
    with pytest.raises(CommandError, match="klingon"):
        call_command("privacy_statement", language="klingon", stdout=StringIO())


def test_unknown_discord_ids_are_named_in_the_readers_language():
    from core.labels import plain_label

    with translation.override("fr"):
        assert plain_label("channel", 80351110224678912, None) == "salon inconnu …8912"
    assert plain_label("member", 80351110224678912, None) == "unknown member …8912"


def test_guild_officers_set_the_server_language_other_groups_do_not(officer, client):
    """The server language is one setting for the whole community: the Guild officers (the
    guild's leadership) hold ``core.change_serverlanguage``; a domain group does not."""
    from django.contrib.auth.models import Group

    assert Group.objects.get(name="Guild officers").permissions.filter(
        content_type__app_label="core", codename="change_serverlanguage").exists()
    for group in ("Raid officers", "Ark officers", "Ratmas organisers", "Economy moderators"):
        assert not Group.objects.get(name=group).permissions.filter(codename="change_serverlanguage").exists()

    raider = officer("Raid officers", "raidlead")
    client.force_login(raider)
    page = client.get(reverse("admin:language"), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert 'name="server_language"' not in page
    client.post(reverse("admin:language"), {"language": "", "server_language": "fr"})
    assert i18n.server_language() == "en"  # refused: the field is not even read

    leader = officer("Guild officers", "guildmaster")
    client.force_login(leader)
    page = client.get(reverse("admin:language"), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert 'name="server_language"' in page and "Serversprache" in page
    client.post(reverse("admin:language"), {"language": "", "server_language": "fr"})
    assert i18n.server_language() == "fr"


def test_an_edit_in_the_admin_says_what_changed_in_the_officers_language(admin_client, demo_data):
    """The labels come from the form in the officer's language (Django keeps its stored change
    message, the history's, in English)."""
    from raids.models import RaidEvent
    from tests.core.test_change_messages import saved_message

    event = RaidEvent.objects.order_by("-start_time_utc").first()
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "de"
    text = saved_message(admin_client, reverse("admin:raids_raidevent_change", args=[event.pk]),
                         {"title": "Mythische Progression"})
    event.refresh_from_db()
    assert text == f"„{event}“ gespeichert: Titel."
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "fr"
    text = saved_message(admin_client, reverse("admin:raids_raidevent_change", args=[event.pk]),
                         {"title": "Progression mythique"})
    event.refresh_from_db()
    assert text.startswith(f"« {event} » enregistré : ") and "changed successfully" not in text
