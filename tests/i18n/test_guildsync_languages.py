"""Guild sync speaks the reader's language end to end (issue #27): officers' service errors and
admin pages, the addon parser's refusals (translated by the server from the parse child's
template), the audit report posted in the server language, members' replies in their own
language, WoW class and spec names as Blizzard's localized clients write them, and numbers as
the reader writes them. English stays the source (tests/guildsync assert it)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from bot.models import OutboxMessage
from core import i18n, services
from guildsync.models import AuditIssue, DiscordUser, GuildRank, Specialization, WowCharacter, WowClass
from guildsync.services import identity_engine, integrity_checker, ranks, reporter
from guildsync.services.addon_processor import SavedVariablesError
from guildsync.services.addon_upload import submit_upload
from guildsync.services.battlenet import ProofReport
from guildsync.services.common import GuildSyncError

pytestmark = pytest.mark.django_db
CHANNEL = 555_000_000_000_000_778


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.DISCORD_AUDIT_CHANNEL_ID = CHANNEL
    i18n.forget_server_language()
    yield
    i18n.forget_server_language()


def orphan(name: str = "Aeldor") -> WowCharacter:
    return WowCharacter.objects.create(character_name=name, realm_slug="argent-dawn",
                                       wow_class=WowClass.objects.get(name="Death Knight"),
                                       last_api_sync=timezone.now())


def test_a_service_refusal_is_in_the_officers_language():
    rank = GuildRank.objects.get(blizzard_rank_index=0)
    with translation.override("de"), pytest.raises(GuildSyncError, match="Ein Rang braucht einen Namen mit 1–"):
        ranks.save_guild_rank(rank.pk, name="", level=1, scheduling_weight=1, role_names=[])
    with translation.override("es"), pytest.raises(GuildSyncError, match="Indica quién cierra las incidencias"):
        integrity_checker.close_issues([], "resolved", "")
    with pytest.raises(GuildSyncError, match="Say who closes the issues."):  # English without a language
        integrity_checker.close_issues([], "resolved", "")


def test_the_addon_parser_refusal_is_translated_from_the_child_process():
    """The parse child imports no Django: it sends the message's template and values, the server
    translates them (and the line/column prefix) for the officer who uploaded."""
    with translation.override("fr"), pytest.raises(SavedVariablesError) as refused:
        submit_upload(b'GuildSyncDB = {\n  ["x"] = \n', triggered_by="test")
    assert str(refused.value).startswith("ligne ") and "colonne" in str(refused.value)
    assert "fin de fichier inattendue" in str(refused.value) and refused.value.line is not None
    with pytest.raises(SavedVariablesError, match="unexpected end of file"):
        submit_upload(b'GuildSyncDB = {\n  ["x"] = \n', triggered_by="test")


def test_the_audit_report_is_posted_in_the_server_language():
    services.set_server_language("fr", actor="test")
    orphan()
    integrity_checker.run_integrity_check()
    issue = AuditIssue.objects.get(issue_type="orphan_wow")
    assert issue.summary == "Aeldor-argent-dawn is not linked to a player"  # stored in English, for search
    reporter.send_new_issues_report()
    row = OutboxMessage.objects.get(topic="guildsync.audit_report")
    assert row.language == "fr"
    assert row.payload["content"] == "**Audit de la guilde** — 1 problème"
    [embed] = row.payload["embeds"]
    assert embed["title"] == "Personnages liés à aucun joueur — 1"
    assert embed["description"].startswith("• Aeldor-argent-dawn n'est lié à aucun joueur (depuis <t:")


def test_the_sync_summary_writes_numbers_the_server_languages_way():
    services.set_server_language("de", actor="test")
    reporter.send_sync_summary("Blizzard", {"created": 3}, 2.5)
    [embed] = OutboxMessage.objects.get(topic="guildsync.sync_summary").payload["embeds"]
    assert embed["title"] == "Gilden-Sync: Blizzard" and embed["description"] == "Fertig in 2,5 s."


def test_a_members_reply_is_in_their_own_language():
    DiscordUser.objects.create(discord_id=4242, username="thrall", highest_guild_role="Officer", locale="pt-BR")
    with translation.override(i18n.language_of_locale("pt-BR")):
        assert identity_engine.describe_member(4242) == "**thrall** (Officer) ainda não tem personagens vinculados."
        with pytest.raises(GuildSyncError, match="Ainda não conheço esse membro"):
            identity_engine.describe_member(1)
    report = ProofReport(linked=["Aeldor-argent-dawn"], moved=["Brill-argent-dawn", "Kael-argent-dawn"],
                         not_in_guild=2)
    with translation.override("es"):
        assert report.summary() == "Battle.net: 1 vinculado, 2 movidos a ti; 2 no están en la hermandad."
    assert report.summary() == "Battle.net: 1 linked, 2 moved to you; 2 not in the guild."


def test_class_and_spec_names_are_the_localized_clients():
    dk = WowClass.objects.get(name="Death Knight")
    frost = Specialization.objects.get(wow_class=dk, name="Frost")
    with translation.override("de"):
        assert str(dk) == "Todesritter" and str(frost.default_role) == "Nahkampf-DPS"
    with translation.override("fr"):
        assert str(frost) == "Chevalier de la mort (Givre)"
    with translation.override("pt-br"):
        assert str(WowClass.objects.get(name="Evoker")) == "Conjurante"
    assert str(frost) == "Frost Death Knight" and dk.name == "Death Knight"  # the key stays English


def test_the_admin_speaks_german(admin_client):
    orphan()
    integrity_checker.run_integrity_check()
    page = admin_client.get(reverse("admin:guildsync_wowcharacter_changelist"), HTTP_ACCEPT_LANGUAGE="de")
    html = page.content.decode()
    assert page.status_code == 200 and page["Content-Language"] == "de"
    for german in ("WoW-Charakter", "Gegenstandsstufe", "Gildenrang", "Todesritter", "Zuordnung jetzt ausführen",
                   "Ausgewählte Charaktere mit einem Spieler verknüpfen", "Zusammensetzung der Gilde"):
        assert german in html, german
    issues = admin_client.get(reverse("admin:guildsync_auditissue_changelist"), HTTP_ACCEPT_LANGUAGE="de")
    html = issues.content.decode()
    for german in ("Prüfungsprobleme", "Charakter mit keinem Spieler verknüpft",
                   "Aeldor-argent-dawn ist mit keinem Spieler verknüpft",
                   "Ausgewählte Probleme verwerfen (kein Problem)"):
        assert german in html, german
    issue = AuditIssue.objects.get()
    form = admin_client.get(reverse("admin:guildsync_auditissue_change", args=[issue.pk]), HTTP_ACCEPT_LANGUAGE="de")
    assert "Verknüpfe den Charakter mit dem Spieler, der ihn spielt" in form.content.decode()
    assert "Problem beheben" in form.content.decode()


def test_the_composition_page_speaks_french(admin_client):
    orphan()
    page = admin_client.get(reverse("admin:guildsync_wowcharacter_composition"), HTTP_ACCEPT_LANGUAGE="fr")
    html = page.content.decode()
    assert "1 personnage dans la guilde." in html and "Chevalier de la mort" in html and "Par classe" in html


def test_the_linked_roles_requirements_carry_discords_localizations():
    from guildsync.services import linked_roles

    records = {r["key"]: r for r in linked_roles.metadata_records()}
    member = records["guild_member"]
    assert member["name"] == "Guild member"  # English, Discord's default
    assert member["name_localizations"]["de"] == "Gildenmitglied"
    assert member["name_localizations"]["pt-BR"] == "Membro da guilda"
    assert member["description_localizations"]["es-ES"] == member["description_localizations"]["es-419"]
    for record in records.values():  # Discord's limits: name 1–100, description 1–200, its locale codes
        for field, limit in (("name", 100), ("description", 200)):
            localized = record[f"{field}_localizations"]
            assert set(localized) == set(i18n.DISCORD_LOCALES) - {"en-US", "en-GB"}
            assert all(1 <= len(text) <= limit and text != record[field] for text in localized.values())


def test_the_companions_api_answers_in_the_requests_language():
    """DRF follows Accept-Language (LocaleMiddleware); without one the API answers in English."""
    from rest_framework.test import APIClient

    from core.services import create_api_key

    _key, raw = create_api_key("companion", ["read", "write", "upload"])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    character = orphan()
    refused = api.post("/api/identity/link", {"character_id": character.pk, "player_id": 999999}, format="json",
                       HTTP_ACCEPT_LANGUAGE="de")
    assert refused.status_code == 404 and refused.json()["detail"] == "Spieler #999999 gibt es nicht."
    both = api.post("/api/identity/link", {"character_id": character.pk}, format="json", HTTP_ACCEPT_LANGUAGE="fr")
    assert both.status_code == 400 and "Indique soit un joueur, soit un utilisateur Discord" in str(both.json())
    english = api.post("/api/identity/link", {"character_id": character.pk, "player_id": 999999}, format="json")
    assert english.json()["detail"] == "Player #999999 does not exist."


def test_a_rank_nobody_named_reads_in_the_readers_words():
    placeholder = GuildRank.objects.get(blizzard_rank_index=7)
    assert placeholder.name == "Rank 7" and str(placeholder) == "Rank 7"
    with translation.override("pt-br"):
        assert str(placeholder) == "Posto 7"
        assert str(GuildRank.objects.get(blizzard_rank_index=0)) == "Guild Leader"  # the guild's own name
