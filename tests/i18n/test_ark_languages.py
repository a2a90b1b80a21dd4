"""Ark of Osiris speaks the reader's language end to end (issue #27), cheaply (no browser, no
bot): a service's refusal in the active language, channel reminders in the server language,
DM reminders and cancellation DMs in each member's last-seen language (an officer-written text
as written), the officers' admin in the browser's language, and numbers as the reader writes them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import translation

from ark import services
from ark.messages import reminder_text
from ark.models import Governor
from bot.models import OutboxMessage
from core import services as core_services
from core.errors import DomainError
from guildsync.models import DiscordUser
from tests import factories
from tests.factories import ARK_CLOSE, ARK_REG_CHANNEL, ARK_START, ark_sign, ark_user

pytestmark = pytest.mark.django_db
H = dt.timedelta(hours=1)


@pytest.fixture
def match(db):
    factories.ark_cadence()
    factories.ark_governors()
    return factories.ark_match(factories.ark_alliance("Osiris Guard", player_cap=3, sub_cap=2))


def member_speaks(n: int, locale: str) -> None:
    DiscordUser.objects.create(discord_id=ark_user(n), username=f"member{n}", locale=locale)


def dm_to(n: int, topic: str) -> OutboxMessage:
    return OutboxMessage.objects.get(topic=topic, kind=OutboxMessage.Kind.DM, user_id=ark_user(n))


def test_a_refusal_is_in_the_readers_language():
    with translation.override("de"), pytest.raises(DomainError) as refused:
        services.revoke_ban(ban_id=404)
    assert str(refused.value) == "Sperre #404 gibt es nicht."
    with translation.override("es"), pytest.raises(DomainError) as refused:
        services.set_match_result(match_id=404, result="Win")
    assert str(refused.value) == "La partida del Arca n.º 404 no existe."


def test_the_channel_reminder_is_in_the_server_language(match):
    core_services.set_server_language("fr", actor="test")
    services.run_lifecycle(now=ARK_CLOSE - H + dt.timedelta(minutes=1))
    row = OutboxMessage.objects.get(topic="ark.reminder", channel_id=ARK_REG_CHANNEL)
    assert row.language == "fr"
    assert row.payload["content"].startswith("**Arche d'Osiris — Osiris Guard** · Les inscriptions au match de "
                                             "l'Arche ferment <t:"), row.payload["content"]


def test_dm_reminders_are_in_each_members_language(match):
    core_services.set_server_language("fr", actor="test")
    member_speaks(1, "pt-BR")
    member_speaks(2, "de")
    for n in (1, 2, 3):
        ark_sign(match, n)
    services.run_lifecycle(now=ARK_START - 12 * H + dt.timedelta(minutes=2))
    brazilian, german, unknown = (dm_to(n, "ark.reminder") for n in (1, 2, 3))
    assert brazilian.language == "pt-br" and "O check-in está aberto" in brazilian.payload["content"]
    assert brazilian.payload["components"][0]["components"][0]["label"] == "Fazer check-in"
    assert german.language == "de" and "Der Check-in ist offen" in german.payload["content"]
    assert "`/arche einchecken`" in german.payload["content"]
    # a member the directory has no locale for: the server language
    assert unknown.language == "fr" and "Le pointage est ouvert" in unknown.payload["content"]


def test_an_officer_written_reminder_stays_as_written(match):
    with translation.override("de"):
        text = reminder_text(match, "Heads up: {start_rel}, bring shields")
    assert text.startswith("**Arche des Osiris — Osiris Guard** · Heads up: <t:") and "bring shields" in text


def test_cancellation_and_promotion_dms_are_in_the_members_language(match):
    member_speaks(1, "de")
    member_speaks(4, "es-ES")
    for n in (1, 2, 3, 4):  # 3 players, governor 4 the first sub
        ark_sign(match, n)
    services.remove_signup(match_id=match.pk, governor_id=1, actor_discord_id=ark_user(1), now=factories.ARK_NOW)
    promoted = dm_to(4, "ark.promoted")
    assert promoted.language == "es" and "Gov4 sube de Suplente a **Jugador**" in promoted.payload["content"]
    member_speaks(2, "fr")
    services.cancel_match(match_id=match.pk, reason="maintenance")
    cancelled = dm_to(2, "ark.cancelled")
    assert cancelled.language == "fr"
    assert "a été **annulé**" in cancelled.payload["content"] and "Raison : maintenance" in cancelled.payload["content"]
    assert "was **cancelled**" in dm_to(3, "ark.cancelled").payload["content"]  # no locale, server language: English


def test_the_admin_speaks_the_officers_language(admin_client, match):
    page = admin_client.get(reverse("admin:ark_match_changelist"), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Anmeldeschluss" in page and "Anmeldung jetzt schließen (postet die Bestätigung)" in page
    assert "Ergebnis setzen: Sieg" in page and "Arche 2030-03-09 Samstag 12:00 UTC, Osiris Guard" in page
    page = admin_client.get(reverse("admin:ark_signup_changelist"), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    # field names that are also slash-command words (/ratmas match = "auslosen") keep Ark's own meaning
    assert "Anwesenheit" in page and "Mitglied" in page and "Auslosen" not in page and "Teilnahme" not in page
    page = admin_client.get(reverse("admin:ark_ban_add"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Membre Discord" in page and "… ou jusqu'à cette date." in page
    page = admin_client.get(reverse("admin:ark_auditlog_changelist"), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Match erstellt" in page and "Match created" not in page  # the audit actions, in the officer's words
    page = admin_client.get(reverse("admin:app_list", args=["ark"]), HTTP_ACCEPT_LANGUAGE="pt-br").content.decode()
    assert "Arca de Osíris" in page and "Governadores" in page and "Calendários da Arca" in page


def test_power_is_written_as_the_reader_writes_it(admin_client, match):
    Governor.objects.filter(governor_id=1).update(power=45_210_334)
    ark_sign(match, 1)
    page = admin_client.get(reverse("admin:ark_signup_changelist"), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "45.210.334" in page
    with translation.override("fr"):
        report = services.import_governor_stats(data="Governor ID,Power\n2,12345678\n")
    assert report.rows[0].message == "Gov2: puissance — → 12\xa0345\xa0678", report.rows[0].message
