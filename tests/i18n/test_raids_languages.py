"""The raids app speaks the reader's language end to end (issue #27): the raid roster post in the
server language, keeping the language it was created in on later edits until officers change
the setting; the "next week's raid" announcement and the Raid-Helper event's description in the
server language; a service's refusal, a member's ``/raid attendance`` reply (with the percentage
written their way) and the officers' admin (changelist, action, attendance report) in the
reader's language. Cheap: no browser, no bot."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from bot.models import OutboxMessage
from core import i18n
from core import services as core_services
from raids import reports, services
from raids.services import RaidsError
from tests import factories
from tests.raids.conftest import _fake_raid_helper_server, fake_raid_helper  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def server_language(language: str) -> None:
    core_services.set_server_language(language, actor="officer")
    i18n.forget_server_language()


def roster_rows(event) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(topic="raids").order_by("pk"))


def test_the_raid_roster_post_keeps_its_language_until_officers_change_the_setting(deliver_outbox):
    factories.raid_config(1)
    night = factories.raid_night(wanted_tanks=2, wanted_healers=1, wanted_melee=0, wanted_ranged=0)
    event = factories.raid_event(night, timezone.now() + dt.timedelta(hours=20))
    server_language("fr")

    services.set_attendance(event, factories.raid_player("Aelith"), status="accepted", attended=False)
    assert services.post_roster(event) == "posted"
    [post] = roster_rows(event)
    assert post.language == "fr"
    assert "Il manque : 2 tanks" in post.payload["content"]
    assert "Soigneurs 1/1: Aelith (Sacré)" in post.payload["content"]
    deliver_outbox()
    post.refresh_from_db()
    assert post.sent_message_id

    # the roster changes, the server language does not: the edit stays French
    services.set_attendance(event, factories.raid_player("Borin"), status="bench", attended=False)
    assert services.post_roster(event) == "edited"
    edit = roster_rows(event)[-1]
    assert edit.kind == "edit_message" and edit.message_id == post.sent_message_id
    assert "Il manque : 2 tanks" in edit.payload["content"] and "Banc (1): Borin" in edit.payload["content"]
    deliver_outbox()

    # officers switch the server to German: the next edit of the French post is German
    server_language("de")
    services.set_attendance(event, factories.raid_player("Cyra"), status="tentative", attended=False)
    assert services.post_roster(event) == "edited"
    edit = roster_rows(event)[-1]
    assert edit.kind == "edit_message" and edit.message_id == post.sent_message_id
    assert "Es fehlen: 2 Tanks" in edit.payload["content"]
    assert "Heiler 1/1: Aelith (Heilig)" in edit.payload["content"] and "Vorläufig (1): Cyra (Heilig)" in edit.payload["content"]
    assert "Il manque" not in edit.payload["content"]


def test_a_new_roster_post_is_in_the_server_language_whoever_triggers_it():
    factories.raid_config(1)
    night = factories.raid_night()
    event = factories.raid_event(night, timezone.now() + dt.timedelta(hours=2))
    server_language("pt-br")
    with translation.override("de"):  # e.g. an officer's German admin session: the post is public
        assert services.post_roster(event) == "posted"
    [post] = roster_rows(event)
    assert post.language == "pt-br" and "Faltam: 2 tanques, 4 curandeiros" in post.payload["content"]


def test_the_booking_announcement_and_the_raid_helper_description_are_in_the_server_language(fake_raid_helper):  # noqa: F811
    factories.raid_config(fake_raid_helper.server_id)
    night = factories.raid_night()
    server_language("es")
    with translation.override("fr"):  # the officer who clicks reads French; the channel reads Spanish
        result = services.book_first_event(night)
    [created] = fake_raid_helper.events.values()
    assert created["description"] == "Banda programada automáticamente. ¡Inscríbete abajo!"
    announcement = OutboxMessage.objects.get(topic="raids.announcement")
    assert announcement.language == "es"
    assert announcement.payload["content"] == ("📅 ¡Ya está publicada la banda de la próxima semana! Inscríbete aquí: "
                                               f"{result.event.raid_helper_url}")


def test_a_refusal_is_in_the_readers_language():
    night = factories.raid_night("Mythic Push", is_active=False)
    with translation.override("de"), pytest.raises(RaidsError) as refused:
        services.book_first_event(night)
    assert str(refused.value) == "Mythic Push ist inaktiv: aktiviere ihn, bevor du seinen ersten Termin buchst."
    with translation.override("fr"), pytest.raises(RaidsError) as refused:
        services.set_attendance(factories.raid_event(night, timezone.now()), factories.raid_player("Dunmar"),
                                status="accepted", attended=False, late=True)
    assert "est marqué en retard mais pas présent" in str(refused.value)


def test_a_members_attendance_reply_writes_the_percentage_their_way():
    now = timezone.now()
    season = services.save_season(None, name="Now", start_date=(now - dt.timedelta(days=30)).date(), is_active=True)
    night = factories.raid_night()
    player = factories.raid_player("Elowen")  # joined at their first raid of the season
    for days, came in ((14, True), (7, True), (1, False)):
        event = factories.raid_event(night, now - dt.timedelta(days=days), season=season)
        services.set_attendance(event, player, status="accepted", attended=came)
    member = player.discord_user.discord_id
    with translation.override("pt-br"):
        assert reports.my_attendance_text(member, now=now) == (
            "Now: presente em 2 de 3 raides desde que você entrou (66,7%); atrasado 0, no banco 0, ausente 0, "
            "faltou 1.")
    with translation.override("de"):
        assert "(66,7\u00a0%)" in reports.my_attendance_text(member, now=now)
    assert "(66.7%)" in reports.my_attendance_text(member, now=now)


def test_the_officers_admin_speaks_german(admin_client):
    now = timezone.now()
    season = services.save_season(None, name="Saison 1", start_date=(now - dt.timedelta(days=30)).date(),
                                  is_active=True)
    night = factories.raid_night()
    event = factories.raid_event(night, now - dt.timedelta(days=2), season=season)
    services.set_attendance(event, factories.raid_player("Galea"), status="accepted", attended=True)
    german = {"HTTP_ACCEPT_LANGUAGE": "de"}

    changelist = admin_client.get(reverse("admin:raids_raidevent_changelist"), **german).content.decode()
    assert "Schlachtzugstermin" in changelist and "Nächsten Termin jetzt buchen" in changelist
    assert "Teilnahme aus Warcraft Logs importieren" in changelist and "nächste Woche" in changelist

    change = admin_client.get(reverse("admin:raids_raidevent_change", args=[event.pk]), **german).content.decode()
    assert "Aktuelle Aufstellung" in change and "Heiler 1/4" in change and "Zugesagt" in change

    report = admin_client.get(reverse("admin:raids_raidseason_attendance", args=[season.pk]), **german)
    page = report.content.decode()
    assert "Teilnahme pro Woche" in page and "CSV exportieren" in page and "Schlachtzüge seitdem" in page
    assert "1 Schlachtzug</strong> in dieser Saison bisher." in page
    assert "100,0\u00a0%" in page  # the weekly bar's tooltip: the German way
    assert re.search(r'<rect x="\d+" y="\d+(\.\d+)?" width="\d+" height="\d+(\.\d+)?"', page)  # SVG numbers
    assert not re.search(r'(x|y|width|height)="\d+[,.]\d{3}', page)

    night_form = admin_client.get(reverse("admin:raids_recurringevent_change", args=[night.pk]), **german)
    assert "Gewünschte Heiler" in night_form.content.decode() and "Dienstag" in night_form.content.decode()


def test_an_import_report_written_by_the_job_reads_in_the_officers_language(admin_client, fake_raid_helper):  # noqa: F811
    factories.raid_config(fake_raid_helper.server_id)
    night = factories.raid_night()
    start = timezone.now() - dt.timedelta(hours=4)
    rh = fake_raid_helper.add_event(night.label, start)
    event = factories.raid_event(night, start, raid_helper_event_id=rh["id"])
    fake_raid_helper._store_signup(rh, {"userId": "", "name": "Ghost", "className": "Tank", "specName": "Blood"})
    report = services.import_signups(event)  # as the periodic job runs it: English
    assert [item["reason"] for item in report.unplaced] == ["no Discord user id"]
    page = admin_client.get(reverse("admin:raids_raidevent_change", args=[event.pk]),
                            HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "keine Discord-Benutzer-ID" in page and "no Discord user id" not in page
    assert "1 Anmeldung(en): 0 neu, 0 aktualisiert; 1 nicht zugeordnet" in page
    with translation.override("fr"):  # a sign-up push's reason, stored in English by the booking job
        assert services.shown_text(services.NOT_CONFIGURED_SKIP) == "Raid-Helper non configuré lors de la réservation"
        assert services.shown_text("Raid-Helper 400: unknown class") == "Raid-Helper 400: unknown class"


def test_a_sign_up_push_reason_stored_by_the_job_reads_in_the_officers_language(admin_client, settings):
    settings.RAID_HELPER_API_KEY = ""  # Raid-Helper not configured: booked here only, sign-ups held back
    factories.raid_player("Fenwick")
    result = services.book_first_event(factories.raid_night())
    [row] = result.event.attendance.all()
    assert row.signup_push_error == services.NOT_CONFIGURED_SKIP  # stored as the marker, in English
    french = {"HTTP_ACCEPT_LANGUAGE": "fr"}
    page = admin_client.get(reverse("admin:raids_raidattendance_change", args=[row.pk]), **french).content.decode()
    assert "Raid-Helper non configuré lors de la réservation" in page
    event_page = admin_client.get(reverse("admin:raids_raidevent_change", args=[result.event.pk]), **french)
    assert "Raid-Helper non configuré lors de la réservation" in event_page.content.decode()
    assert "Pas encore sur Raid-Helper" in event_page.content.decode()  # the event's own state, French too
