"""The economy speaks the reader's language (issue #27): a service's refusal in the member's
language with bytes written their way, the audit-log and auto-moderation texts in the server
language, a squad's welcome DM and a moderation DM in the member's last-seen language, and the
moderators' admin (changelist, action, filter, rule form and its errors) in the officer's."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from bot.models import OutboxMessage
from core import i18n
from core import services as core_services
from economy import automod, privacy, services
from economy.models import AutoModRule, BytesBalance, ModerationCase, Squad
from guildsync.models import DiscordUser
from tests.factories import ECONOMY_GUILD as GUILD
from tests.factories import bytes_balance, bytes_config

pytestmark = pytest.mark.django_db

ALICE, BOB = 333_000_000_000_000_001, 333_000_000_000_000_002
NBSP = "\u00a0"


def test_a_refusal_is_in_the_members_language_with_bytes_written_their_way():
    bytes_config(max_transfer=5000)
    bytes_balance(ALICE, 1234)
    bytes_balance(BOB, 0)
    with translation.override("de"):
        with pytest.raises(services.EconomyError) as refused:
            services.transfer(GUILD, ALICE, "alice", BOB, "bob", 2000)
        assert str(refused.value) == "Du hast nur 1.234 Bytes."
        with pytest.raises(services.EconomyError, match="Ein Moderationsfall braucht einen Grund."):
            services.open_case(GUILD, BOB, "bob", ALICE, "alice", "warn", "  ")
    with translation.override("fr"):
        with pytest.raises(services.EconomyError) as refused:
            services.transfer(GUILD, ALICE, "alice", BOB, "bob", 6000)
        assert str(refused.value) == f"Tu peux envoyer au plus {i18n.number(5000)} bytes à la fois."
        assert i18n.number(5000) != "5,000"  # French groups its own way
    with translation.override("pt-br"), pytest.raises(services.EconomyError) as refused:
        services.open_case(GUILD, BOB, "bob", ALICE, "alice", "shout", "x")
    assert str(refused.value) == "Ação de moderação desconhecida 'shout'."
    with pytest.raises(services.EconomyError, match="You only have 1,234 bytes."):  # English stays the source
        services.transfer(GUILD, ALICE, "alice", BOB, "bob", 2000)


def test_a_squads_welcome_dm_is_in_the_members_language_and_the_audit_log_in_the_servers():
    core_services.set_server_language("es", actor="test")
    DiscordUser.objects.create(discord_id=ALICE, username="alice", locale="pt-BR")
    squad = Squad.objects.create(guild_id=GUILD, role_id=77, name="Red")
    services.join_squad(GUILD, ALICE, squad.pk)
    dm = OutboxMessage.objects.get(kind=OutboxMessage.Kind.DM, user_id=ALICE)
    assert dm.payload["content"] == "Boas-vindas a **Red**!" and dm.language == "pt-br"
    role = OutboxMessage.objects.get(kind=OutboxMessage.Kind.ADD_ROLE, user_id=ALICE)
    assert role.payload["reason"] == "Se unió a la escuadra Red"


def test_a_moderation_dm_follows_the_member_and_the_audit_reason_the_server():
    core_services.set_server_language("fr", actor="test")
    DiscordUser.objects.create(discord_id=BOB, username="bob", locale="de")
    case = services.open_case(GUILD, BOB, "bob", ALICE, "alice", "kick", "Spam")
    dm = OutboxMessage.objects.get(kind=OutboxMessage.Kind.DM, user_id=BOB)
    assert dm.payload["content"] == "Du wurdest vom Server geworfen. Grund: Spam" and dm.language == "de"
    kick = OutboxMessage.objects.get(kind=OutboxMessage.Kind.KICK_MEMBER, user_id=BOB)
    assert kick.payload["reason"] == f"Dossier {str(case.pk)[:8]} : Spam"


def test_auto_moderation_records_its_reason_in_the_server_language():
    core_services.set_server_language("fr", actor="test")
    services.save_settings(AutoModRule(guild_id=GUILD, rule_type="caps", action="warn",
                                       config={"min_length": 5, "max_ratio": 0.5}))
    with translation.override("de"):  # whoever's language is active, the record is the server's
        match = services.evaluate_message(GUILD, ALICE, [], 1, "STOP SHOUTING", [], timezone.now())
        case = services.apply_automod_action(GUILD, ALICE, "alice", 1, 991, match)
    assert case.reason == f"AutoMod : Trop de majuscules (100{NBSP}%)"
    with translation.override("en"):
        assert automod.match_rule("spam", {"messages": 2, "seconds": 10}, content="x", mentions=[],
                                  recent_messages=lambda s: 3) == "Spam: 3 messages in 10 seconds"


def test_a_daily_writes_the_ledger_in_the_server_language():
    bytes_config(daily_amount=10)
    core_services.set_server_language("de", actor="test")
    services.award_daily(GUILD, ALICE, dt.date(2026, 12, 6), username="alice")
    row = services.get_history(GUILD, ALICE)[0]
    assert (row.giver_username, row.reason) == ("Tagesbelohnung", "Tagesbelohnung, Serie 1")


@pytest.fixture
def moderator(officer, client):
    client.force_login(officer("Economy moderators"))
    return client


def test_the_moderators_admin_speaks_german(moderator):
    services.open_case(GUILD, BOB, "bob", ALICE, "alice", "warn", "Spoilers")
    erased = services.open_case(GUILD, ALICE, "alice", BOB, "bob", "warn", "Insults")
    ModerationCase.objects.filter(pk=erased.pk).update(reason=privacy.CASE_REASON_REMOVED)  # as forget() leaves it
    page = moderator.get(reverse("admin:economy_moderationcase_changelist"), HTTP_ACCEPT_LANGUAGE="de")
    html = page.content.decode()
    assert page["Content-Language"] == "de"
    for german in ("Moderationsfälle", "Erledigen (hebt ein laufendes Timeout auf)", "Abgelaufen, noch nicht erledigt",
                   "Verwarnung", "Wirtschaft und Moderation", "Spoilers", "(Grund auf Wunsch des Mitglieds entfernt)"):
        assert german in html, german
    bytes_config(daily_amount=10)
    services.award_daily(GUILD, ALICE, dt.date(2026, 12, 6), username="alice")
    html = moderator.get(reverse("admin:economy_bytestransaction_changelist"), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Bytes-Buchungen" in html and ">An<" in html and "Beschenkter" not in html  # not Ratmas's recipient
    add = reverse("admin:economy_automodrule_add")
    html = moderator.get(add, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Auto-Moderationsregel hinzufügen: Was soll sie erfassen?" in html and "Zu viele Großbuchstaben" in html
    html = moderator.get(add + "?rule_type=spam", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Innerhalb von (Sekunden)" in html and "Ein Mitglied, das in kurzer Zeit viele Nachrichten sendet." in html
    refused = moderator.post(add + "?rule_type=keyword", {"guild_id": GUILD, "name": "x", "action": "warn",
                                                          "timeout_minutes": 10, "priority": 0, "is_active": "on",
                                                          "keywords": " , "}, HTTP_ACCEPT_LANGUAGE="de")
    assert "Gib mindestens ein Wort oder einen Ausdruck an." in refused.content.decode()
    assert not AutoModRule.objects.exists()


def test_an_adjustment_reports_in_french_with_french_numbers(moderator):
    bytes_config()
    row = bytes_balance(ALICE, 5000)
    answer = moderator.post(reverse("admin:economy_bytesbalance_changelist"), {
        "action": "adjust_balance", "_selected_action": [row.pk], "apply": "1", "amount": -1500,
        "reason": "Doublon"}, HTTP_ACCEPT_LANGUAGE="fr", follow=True)
    html = answer.content.decode()
    with translation.override("fr"):
        amount = i18n.number(-1500)
    assert amount != "-1,500" and f"1 solde(s) corrigé(s) de {amount} bytes." in html.replace("&nbsp;", NBSP), html
    assert BytesBalance.objects.get(pk=row.pk).balance == 3500
    assert ModerationCase.objects.count() == 0


def test_the_leaderboard_and_the_rule_test_pages_in_other_languages(moderator):
    bytes_config()
    bytes_balance(ALICE, 12345)
    page = moderator.get(reverse("admin:economy_bytesbalance_leaderboard"), {"guild_id": GUILD},
                         HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Saldos más altos" in page and f">12{NBSP}345<" in page and 'value="Mostrar"' in page
    rule = services.save_settings(AutoModRule(guild_id=GUILD, rule_type="invites", action="delete"))
    page = moderator.post(reverse("admin:economy_automodrule_test", args=[rule.pk]), {
        "content": "join discord.gg/abc", "recent_messages": 1, "mentions": 0}, HTTP_ACCEPT_LANGUAGE="pt-br")
    html = page.content.decode()
    assert "Correspondência: Link de convite do Discord → Excluir mensagem" in html and "Nada é registrado" in html
    page = moderator.get(reverse("admin:economy_bytesconfig_add"), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Startguthaben" in page and "Abklingzeit zwischen Überweisungen (Stunden)" in page
