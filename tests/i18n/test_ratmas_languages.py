"""Ratmas (Secret Santa) speaks the reader's language: a refusal in the language of whoever acted,
announcements in the server language (never the acting officer's), each Santa DM, relay wrapper
and reminder in its recipient's last-seen Discord language (rendered before the outbox seals it;
the members' own words untouched), the organisers' admin in the officer's language (the removal
confirmation still hiding Santa names), numbers written the reader's way, and every message
still within Discord's 2,000 characters in every language."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from bot.models import OutboxMessage
from bot.outbox import payload_of
from core import i18n
from core import services as core_services
from core.admin_tools import CONFIRMED
from core.privacy import sealed
from ratmas import services
from ratmas.models import Event, Pairing, Participant, ScheduledSend
from ratmas.services.pairings import PairingPlan
from tests import factories
from tests.factories import RATMAS_CHANNEL as CHANNEL
from tests.factories import ratmas_uid as uid
from tests.ratmas.test_discord_limits import LONG_BUDGET, utf16_len, walk_with_the_longest_input

pytestmark = pytest.mark.django_db

LOCALES = {"de": "de", "fr": "fr", "es": "es-ES", "pt-br": "pt-BR"}  # ours → a Discord client's


def seen_with(user_id: int, locale: str) -> None:
    """The member directory saw ``user_id`` last with a Discord client set to ``locale``."""
    factories.discord_user(f"member{user_id % 1000}", discord_id=user_id, locale=locale)


def posts() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(channel_id=CHANNEL, topic=services.TOPIC_ANNOUNCE).order_by("pk"))


def dm_to(user_id: int, topic: str) -> OutboxMessage:
    return OutboxMessage.objects.filter(user_id=user_id, topic=topic).latest("pk")


def test_a_refusal_speaks_the_language_of_whoever_acted():
    event = factories.ratmas_event(3, status="locked")
    with translation.override("de"), pytest.raises(services.RatmasError) as refused:
        services.join(event, uid(9), "Neu")
    assert str(refused.value) == ("Du kannst gerade nicht beitreten: die Anmeldung ist geschlossen und die Paarungen "
                                  "sind noch nicht ausgelost (dafür braucht es eine offene Anmeldung).")
    with translation.override("fr"), pytest.raises(services.RatmasError) as refused:
        services.parse_local_datetime("2026-03-29 02:30", "Europe/Paris")
    assert str(refused.value).startswith("2026-03-29 02:30 n'existe pas en Europe/Paris : cette nuit-là, les "
                                         "horloges avancent de 02:00 à 03:00.")
    services.generate_pairings(event, seed=1)
    services.notify_santas(event)
    with translation.override("pt-br"), pytest.raises(services.RatmasError) as refused:
        services.generate_pairings(event, seed=2)
    assert str(refused.value) == ("Não dá para sortear de novo: as DMs aos amigos secretos já estão a caminho, "
                                  "então os pares são definitivos.")
    with pytest.raises(services.RatmasError) as refused:  # English stays the source
        services.join(event, uid(9), "New")
    assert str(refused.value).startswith("Cannot join: the pairings are already drawn")


def test_announcements_use_the_server_language_not_the_officers():
    core_services.set_server_language("fr", actor="test")
    with translation.override("de"):  # an officer working in German in the admin
        event = factories.ratmas_event(3, status="locked")
        services.set_status(event, Event.Status.CANCELLED)
    opened, locked, cancelled = (payload_of(p)["content"] for p in posts())
    assert opened.startswith("🎄 **Le Ratmas est ouvert !** Inscris-toi avec `/ratmas join` avant le <t:")
    assert "Budget : 20 EUR." in opened  # the organisers' own budget text, as they wrote it
    assert locked == "🔒 Les inscriptions au Ratmas sont fermées avec 3 participants."
    assert cancelled == "❌ Ce Ratmas a été annulé par les organisateurs."
    assert {p.language for p in posts()} == {"fr"}  # the outbox records it (later edits keep it)
    assert translation.get_language() == "en"  # nothing leaks out of the services


def test_each_santa_dm_is_in_the_santas_language_and_still_sealed(settings):
    settings.FIELD_ENCRYPTION_KEY = "ratmas-languages-test-key"
    core_services.set_server_language("es", actor="test")
    event = factories.ratmas_event(4, status="matched")
    seen_with(uid(1), "pt-BR")
    seen_with(uid(2), "de")
    seen_with(uid(3), "ja")  # a language we do not ship: the server's
    with CaptureQueriesContext(connection) as queries:
        services.notify_santas(event)
    directory = [q for q in queries.captured_queries if "guildsync_discorduser" in q["sql"]]
    assert len(directory) == 1  # the four Santas' languages in one query, not one each
    expected = {uid(1): ("pt-br", "**Você é amigo secreto!**", "Você tirou: **"),
                uid(2): ("de", "**Du bist Wichtel!**", "Du beschenkst: **"),
                uid(3): ("es", "**¡Eres amigo invisible!**", "Tu destinatario: **"),
                uid(4): ("es", "**¡Eres amigo invisible!**", "Tu destinatario: **")}
    for santa, (language, title, names) in expected.items():
        row = dm_to(santa, services.TOPIC_SANTA_DM)
        recipient = Pairing.objects.get(event=event, santa__user_id=santa).recipient
        content = payload_of(row)["content"]
        assert row.language == language and title in content and f"{names}{recipient.display_name}**" in content
        assert recipient.wishlist_url in content and "`/ratmas message-recipient`" in content
        assert row.secret and set(row.payload) == {sealed.PAYLOAD_KEY}  # translated, then sealed
        assert recipient.display_name not in str(row.payload)


def test_relay_wraps_the_members_own_words_in_the_readers_language():
    event = factories.ratmas_event(3, status="matched")
    pairing = Pairing.objects.select_related("santa", "recipient").filter(event=event).first()
    seen_with(pairing.recipient.user_id, "es-419")
    seen_with(pairing.santa.user_id, "fr")
    words = "Hello! Do you like **tea** or coffee? I can't say who I am."
    services.message_recipient(event, pairing.santa.user_id, words)
    to_recipient = payload_of(dm_to(pairing.recipient.user_id, services.TOPIC_RELAY))["content"]
    assert to_recipient == ("📨 **Un mensaje de tu amigo invisible** (responde de forma anónima con "
                            f"`/ratmas message-santa`):\n>>> {words}")
    services.message_santa(event, pairing.recipient.user_id, "Tea, please.")
    to_santa = payload_of(dm_to(pairing.santa.user_id, services.TOPIC_RELAY))["content"]
    assert to_santa.startswith(f"📨 **Un message de ton destinataire, {pairing.recipient.display_name}** (réponds avec")
    assert to_santa.endswith(":\n>>> Tea, please.")


def test_reminders_post_in_the_server_language_and_dm_each_member_in_theirs():
    core_services.set_server_language("de", actor="test")
    event = factories.ratmas_event(3)
    seen_with(uid(1), "pt-BR")
    seen_with(uid(2), "fr")
    services.send_scheduled(event, ScheduledSend.Kind.SIGNUP_24H)
    reminder = payload_of(posts()[-1])["content"]
    assert reminder.startswith("⏰ Die Ratmas-Anmeldung endet <t:") and reminder.endswith("Mach mit `/ratmas join` mit!")
    dms = {user: payload_of(dm_to(user, services.TOPIC_REMINDER))["content"] for user in (uid(1), uid(2), uid(3))}
    assert dms[uid(1)].startswith("⏰ As inscrições do Ratmas encerram em <t:")
    assert dms[uid(2)].startswith("⏰ Les inscriptions au Ratmas ferment le <t:")
    assert dms[uid(3)].startswith("⏰ Die Ratmas-Anmeldung endet <t:")  # not seen yet: the server's language


def test_the_organisers_admin_in_german(officer, client):
    event = factories.ratmas_event(4, status="matched")
    services.notify_santas(event)
    client.force_login(officer("Ratmas organisers"))  # no view_pairings_secret
    page = client.get(reverse("admin:ratmas_event_changelist"), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Ratmas-Runden" in page and "Paarungen auslosen" in page and "Wichtel per DM benachrichtigen" in page
    form = client.get(reverse("admin:ratmas_event_change", args=[event.pk]), HTTP_ACCEPT_LANGUAGE="de")
    html = form.content.decode()
    assert "Anmeldeschluss" in html and "Bis dahin müssen die Geschenke gekauft sein (UTC)." in html
    # a field's label, not the slash command option of the same English word (bot/command_strings.py)
    listed = client.get(reverse("admin:ratmas_participant_changelist"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Liste de souhaits" in listed and "iste_de_souhaits" not in listed
    leaver = Participant.objects.get(event=event, user_id=uid(2))
    santa = Pairing.objects.get(event=event, recipient=leaver).santa
    confirm = client.post(reverse("admin:ratmas_participant_changelist"),
                          {"action": "remove_after_draw", ACTION_CHECKBOX_NAME: [leaver.pk], "index": 0},
                          HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Diese Teilnehmenden entfernen?" in confirm and "Ja, entfernen" in confirm
    assert f"{leaver.display_name} verlässt" in confirm
    assert "sein Wichtel (Name verborgen: Paarungen sind geheim)" in confirm
    assert santa.display_name not in confirm  # still secret, in every language


def test_admin_actions_report_in_the_officers_language(admin_client):
    event = factories.ratmas_event(3)
    changelist = reverse("admin:ratmas_event_changelist")

    def act(action: str, **extra) -> str:
        data = {"action": action, ACTION_CHECKBOX_NAME: [event.pk], "index": 0, **extra}
        return admin_client.post(changelist, data, follow=True, HTTP_ACCEPT_LANGUAGE="de").content.decode()

    assert "Ratmas-Runden" in act("lock_signups") and ": Anmeldung wieder geöffnet" in act("reopen_signups")
    assert ": Anmeldung geschlossen" in act("lock_signups")
    confirm = act("draw_pairings")
    assert "Paarungen auslosen?" in confirm and "Ja, Paarungen auslosen" in confirm
    done = act("draw_pairings", **{CONFIRMED: "yes"})
    assert "erledigt: Paarungen ausgelost: 3 Wichtel" in done
    refused = act("complete_events")
    assert "Du kannst gerade nicht die Runde abschließen: die Paarungen sind schon ausgelost." in refused


def test_counts_are_written_the_readers_way():
    plan = PairingPlan(pairs=[(i, i + 1) for i in range(12_345)], method="rejection", exclusions=1_500,
                       avoided_previous=2, dry_run=False)
    with translation.override("de"):
        assert plan.summary() == ("Paarungen ausgelost: 12.345 Wichtel, unter Beachtung von 1.500 ausgeschlossenen "
                                  "Paar(en) und ohne 2 Paar(e) vom letzten Mal.")
    with translation.override("fr"):
        assert f"{i18n.number(12_345)} Pères Noël" in plan.summary() and i18n.number(12_345) != "12,345"
    assert plan.summary().startswith("Pairings drawn: 12,345 Santas")


@pytest.mark.parametrize("language", ["de", "fr", "es", "pt-br"])
def test_the_longest_input_fits_discord_in_every_language(language, deliver_outbox):
    """tests/ratmas/test_discord_limits.py's hostile input, with every reader in ``language``."""
    core_services.set_server_language(language, actor="test")
    event = factories.ratmas_event(0, budget=LONG_BUDGET)
    walk_with_the_longest_input(event, deliver_outbox, lambda user_id: seen_with(user_id, LOCALES[language]))
    assert {row.language for row in OutboxMessage.objects.exclude(kind__in=["add_role", "remove_role"])} == {language}
    with translation.override(language):
        assert utf16_len(services.describe_event(event, uid(1))) <= 2000
