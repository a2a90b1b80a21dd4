"""The Ark officers' admin: access per group, forms through services, actions, query counts."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from ark.models import Alliance, AuditLog, Ban, Governor, Match, ReminderPrefs, Signup
from bot.models import OutboxMessage
from tests import factories
from tests.ark.conftest import START, WEEKEND, sign, user
from tests.factories import ark_alliance

pytestmark = pytest.mark.django_db

PAGES = [
    "alliance", "governor", "match", "signup", "ban", "reminderprefs", "sentreminder", "auditlog",
    "arksettings", "arkcalendar", "draftconstraint", "governorrecord",
]


@pytest.fixture
def ark_client(client, officer):
    client.force_login(officer("Ark officers"))
    return client


@pytest.mark.parametrize("page", PAGES)
def test_other_group_is_denied_and_ark_officers_allowed(client, officer, page, match):
    client.force_login(officer("Raid officers", username="raider"))
    assert client.get(f"/admin/ark/{page}/").status_code == 403
    client.force_login(officer("Ark officers"))
    assert client.get(f"/admin/ark/{page}/").status_code == 200


def test_changelists_have_no_n_plus_one(ark_client, make_match, governors, django_assert_max_num_queries):
    allies = [ark_alliance(f"A{i}", offset=10 * i + 100) for i in range(8)]
    matches = [make_match(a) for a in allies]
    for n, m in zip(range(1, 9), matches, strict=True):
        sign(m, n)
    for i in range(10):
        Ban.objects.create(discord_user_id=i + 1, reason="x", starts_weekend=WEEKEND, ends_on=WEEKEND)
        ReminderPrefs.objects.create(discord_user_id=i + 1)
    from ark import services
    from ark.models import SentReminder

    services.run_lifecycle(now=START - dt.timedelta(hours=4))  # locks, sends reminders: rows everywhere
    assert SentReminder.objects.count() >= 8
    for page in PAGES:
        with django_assert_max_num_queries(12):
            assert ark_client.get(f"/admin/ark/{page}/").status_code == 200


def test_alliance_list_shows_missing_channels(ark_client, db):
    Alliance.objects.create(name="Half Done", registration_channel_id=5)
    html = ark_client.get("/admin/ark/alliance/").content.decode()
    assert "missing confirmation channel" in html


def match_form(alliance_id: int, *, start: str = "2030-03-09 12:00:00", close: str = "2030-03-08 20:00:00",
               **fields: str) -> dict[str, object]:
    """The match admin form as the browser posts it (split date and time widgets, no signup rows)."""
    (start_date, start_time), (close_date, close_time) = start.split(), close.split()
    return {"alliance": alliance_id, "match_day": "Sat", "match_time_utc_0": start_date, "match_time_utc_1": start_time,
            "signup_close_utc_0": close_date, "signup_close_utc_1": close_time, "signups-TOTAL_FORMS": "0",
            "signups-INITIAL_FORMS": "0", **fields}


def next_ark_weekends(n: int) -> list[dt.date]:
    """The next ``n`` Ark weekends from today (what the add-match form offers)."""
    import itertools

    from django.utils import timezone

    from ark import services

    return list(itertools.islice(services.ark_weekends(timezone.now().date() + dt.timedelta(days=1)), n))


def add_form(alliance_id: int, weekend: dt.date, slot: str, **fields: str) -> dict[str, object]:
    """The add-match form as the browser posts it: an alliance, a weekend and a slot picked from lists."""
    return {"alliance": alliance_id, "weekend": weekend.isoformat(), "slot": slot, "notes": "",
            "signups-TOTAL_FORMS": "0", "signups-INITIAL_FORMS": "0", **fields}


@pytest.fixture
def calendar(alliance):
    from ark import services

    return services.save_calendar(alliance=alliance, slots=["Sat 12:00", "Sun 04:00"])


def test_add_match_offers_the_calendar_slots_and_ark_weekends(ark_client, calendar, other_alliance):
    from ark import services

    services.save_calendar(alliance=other_alliance, slots=["Sat 20:00"])
    html = ark_client.get("/admin/ark/match/add/").content.decode()
    first, second = next_ark_weekends(2)
    assert f'<option value="{first.isoformat()}">{first:%a %d %b %Y} (Ark weekend)</option>' in html
    assert f'<option value="{second.isoformat()}">' in html
    assert '<option value="Sat 12:00">Sat 12:00 UTC (Osiris Guard)</option>' in html
    assert '<option value="Sat 20:00">Sat 20:00 UTC (Nile Wolves)</option>' in html
    assert 'name="match_time_utc_0"' not in html and 'name="signup_close_utc_0"' not in html  # nothing typed


def test_add_match_through_the_service(ark_client, calendar):
    weekend = next_ark_weekends(2)[1]
    data = add_form(calendar.alliance_id, weekend, "Sun 04:00", notes="Full send")
    response = ark_client.post("/admin/ark/match/add/", data, follow=True)
    assert response.redirect_chain, response.content.decode()[:3000]
    match = Match.objects.get()
    assert match.match_day == "Sun"
    assert match.match_time_utc == dt.datetime.combine(weekend + dt.timedelta(days=1), dt.time(4), tzinfo=dt.UTC)
    assert match.signup_close_utc == dt.datetime.combine(weekend - dt.timedelta(days=1), dt.time(23), tzinfo=dt.UTC)
    assert OutboxMessage.objects.filter(topic="ark.registration").count() == 1
    assert AuditLog.objects.get(action="match_created").details["by"] == "ark_officers"
    text = response.content.decode()
    assert f"Created Ark {weekend:%Y-%m-%d} Sunday 04:00 UTC, Osiris Guard: signups close" in text
    assert "the registration message is queued for" in text and "successfully" not in text
    # a second one that weekend: the form shows the error, nothing written
    response = ark_client.post("/admin/ark/match/add/", data)
    assert response.status_code == 200 and Match.objects.count() == 1
    assert "already" in response.content.decode()


def test_add_match_refusals_are_plain(ark_client, calendar, other_alliance):
    from ark import services

    services.save_calendar(alliance=other_alliance, slots=["Sat 20:00"])
    weekend = next_ark_weekends(1)[0]
    # a slot of another alliance's calendar: refused, naming the allowed ones
    html = ark_client.post("/admin/ark/match/add/", add_form(calendar.alliance_id, weekend, "Sat 20:00")).content.decode()
    assert "Sat 20:00 is not a slot of Osiris Guard&#x27;s calendar; allowed: Sat 12:00, Sun 04:00." in html
    # an off-cadence weekend (typed into a hostile post): not one of the choices
    off = weekend + dt.timedelta(days=7)
    html = ark_client.post("/admin/ark/match/add/", add_form(calendar.alliance_id, off, "Sat 12:00")).content.decode()
    assert f"Pick one of the Ark weekends listed: {off.isoformat()} is not one of them." in html
    # an alliance without a calendar
    html = ark_client.post("/admin/ark/match/add/", add_form(other_alliance.pk + 999, weekend, "Sat 12:00")).content.decode()
    assert "errorlist" in html
    assert not Match.objects.exists() and not OutboxMessage.objects.exists()


def test_add_match_with_missing_channel_shows_service_message(ark_client, calendar):
    alliance = calendar.alliance
    alliance.confirmation_channel_id = None
    alliance.save()
    response = ark_client.post("/admin/ark/match/add/", add_form(alliance.pk, next_ark_weekends(1)[0], "Sat 12:00"))
    assert response.status_code == 200 and "no confirmation channel set" in response.content.decode()
    assert not Match.objects.exists() and not OutboxMessage.objects.exists()


def test_create_the_next_matches_previews_then_creates(ark_client, calendar, other_alliance):
    """GET names what would be created and writes nothing; POST creates it and says what."""
    from ark import services

    first, second = next_ark_weekends(2)
    services.save_calendar(alliance=other_alliance, slots=["Sat 20:00"], skipped_weekends=[first])
    Alliance.objects.create(name="No Plan", registration_channel_id=91, confirmation_channel_id=92)
    assert "Create the next matches" in ark_client.get("/admin/ark/arkcalendar/").content.decode()
    assert "Create the next matches" in ark_client.get("/admin/ark/match/").content.decode()
    url = "/admin/ark/arkcalendar/create-next-matches/"
    html = ark_client.get(url).content.decode()
    assert "Nothing has changed yet." in html
    assert f"Ark {first:%Y-%m-%d} Saturday 12:00 UTC, Osiris Guard" in html
    assert f"Ark {second:%Y-%m-%d} Saturday 20:00 UTC, Nile Wolves" in html  # its first weekend is skipped
    assert "No Plan: no enabled Ark calendar" in html
    assert not Match.objects.exists() and not OutboxMessage.objects.exists()
    shown = re.findall(r'<input type="hidden" name="planned" value="([^"]+)"', html)
    assert len(shown) == 2
    r = ark_client.post(url, {"planned": shown}, follow=True)
    text = r.content.decode()
    assert f"Created Ark {first:%Y-%m-%d} Saturday 12:00 UTC, Osiris Guard: signups close" in text
    assert f"Created Ark {second:%Y-%m-%d} Saturday 20:00 UTC, Nile Wolves" in text
    assert "Not created: No Plan: no enabled Ark calendar" in text
    assert sorted(Match.objects.values_list("alliance__name", "ark_weekend_date")) == [
        ("Nile Wolves", second), ("Osiris Guard", first)]
    assert OutboxMessage.objects.filter(topic="ark.registration").count() == 2
    # the same confirmation posted again (a double click, a second officer): nothing unseen is created
    r = ark_client.post(url, {"planned": shown}, follow=True)
    assert Match.objects.count() == 2
    assert "Osiris Guard: its next match changed since you looked" in r.content.decode()
    # looking again: the next free weekend each (never the same weekend twice)
    shown = re.findall(r'<input type="hidden" name="planned" value="([^"]+)"', ark_client.get(url).content.decode())
    ark_client.post(url, {"planned": shown})
    assert Match.objects.filter(alliance__name="Osiris Guard").count() == 2
    assert Match.objects.filter(alliance__name="Osiris Guard", ark_weekend_date=second).exists()


def test_create_the_next_matches_is_denied_without_add_permission(client, officer, calendar):
    client.force_login(officer("Raid officers", username="raider"))
    url = "/admin/ark/arkcalendar/create-next-matches/"
    assert client.get(url).status_code == 403 and client.post(url).status_code == 403
    assert not Match.objects.exists()


def test_match_change_page_lists_signups_in_slot_order(ark_client, match, governors):
    for n in (1, 2, 3, 4):
        sign(match, n)
    html = ark_client.get(f"/admin/ark/match/{match.pk}/change/").content.decode()
    assert html.index("Gov1") < html.index("Gov3") < html.index("Gov4")


def test_match_actions(ark_client, match, governors):
    sign(match, 1)
    url = "/admin/ark/match/"
    r = ark_client.post(url, {"action": "lock", "_selected_action": [match.pk], "confirmed": "Yes"}, follow=True)
    assert "Locked: 1 done" in r.content.decode()
    # the message says what changed: the match by name, the fill and where the roster goes
    assert f"Locked {Match.objects.get(pk=match.pk)}: 1 player, 0 substitutes; signups are closed" in r.content.decode()
    assert "Ark 2030-03-09 Saturday 12:00 UTC, Osiris Guard" in r.content.decode()
    assert Match.objects.get(pk=match.pk).status == "Locked"
    r = ark_client.post(url, {"action": "lock", "_selected_action": [match.pk], "confirmed": "Yes"}, follow=True)
    assert "Only a scheduled match can be locked" in r.content.decode()
    ark_client.post(url, {"action": "repost", "_selected_action": [match.pk]})
    assert OutboxMessage.objects.filter(topic="ark.registration").count() == 2
    r = ark_client.post(url, {"action": "set_result_win", "_selected_action": [match.pk]}, follow=True)
    assert "not started" in r.content.decode()  # START is in 2030
    r = ark_client.post(url, {"action": "cancel", "_selected_action": [match.pk], "confirmed": "Yes"}, follow=True)
    assert Match.objects.get(pk=match.pk).status == "Cancelled"
    assert "1 signed-up member will get a DM" in r.content.decode()


def test_signup_actions_and_filters(ark_client, match, governors):
    for n in (1, 2, 3, 4):
        sign(match, n)
    s = Signup.objects.get(governor__governor_id=1)
    # first a confirmation naming who leaves and which substitute moves up (DMed); nothing changes
    r = ark_client.post("/admin/ark/signup/", {"action": "remove", "_selected_action": [s.pk]})
    page = r.content.decode()
    assert "Nothing has changed yet." in page and "Gov1" in page and "Gov4" in page and "moves up to Player" in page
    assert Signup.objects.get(pk=s.pk).status == "Active"
    r = ark_client.post("/admin/ark/signup/", {"action": "remove", "_selected_action": [s.pk], "confirmed": "Yes"},
                        follow=True)
    assert "Removed: 1 done" in r.content.decode()
    assert "Removed Gov1 from Ark 2030-03-09 Saturday 12:00 UTC, Osiris Guard: 3 players, 0 substitutes left" in \
        r.content.decode()
    assert Signup.objects.get(pk=s.pk).status == "Removed"
    assert Signup.objects.get(governor__governor_id=4).slot == "Player"  # promoted
    assert ark_client.get("/admin/ark/signup/?status__exact=Active&slot__exact=Player").status_code == 200
    page = ark_client.get(f"/admin/ark/signup/{s.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()  # view only


def test_ban_add_and_revoke(ark_client, db):
    r = ark_client.post("/admin/ark/ban/add/", {"discord_user_id": user(1), "reason": "afk", "weekends": 2,
                                                "confirmed": "Yes, ban"})
    assert r.status_code == 302
    ban = Ban.objects.get()
    assert ban.ends_on >= ban.starts_weekend
    r = ark_client.post("/admin/ark/ban/add/", {"discord_user_id": user(1), "reason": "afk"})
    assert "number of weekends or an end date" in r.content.decode()
    r = ark_client.post("/admin/ark/ban/", {"action": "revoke", "_selected_action": [ban.pk]}, follow=True)
    assert Ban.objects.get().revoked_at is not None
    assert "Revoked the ban of unknown member …0001: they can sign up again" in r.content.decode()
    assert ark_client.get("/admin/ark/ban/?state=revoked").status_code == 200


def test_alliance_and_governor_forms_use_services(ark_client, db):
    r = ark_client.post(
        "/admin/ark/alliance/add/",
        {
            "name": "New",
            "registration_channel_id": 1,
            "confirmation_channel_id": 2,
            "is_active": "on",
            "player_cap": 30,
            "sub_cap": 15,
            "no_show_threshold": 2,
            "no_show_window": 5,
        },
    )
    assert r.status_code == 302 and AuditLog.objects.filter(action="alliance_saved").count() == 1
    r = ark_client.post(
        "/admin/ark/governor/add/", {"governor_id": 5, "name": "Five", "discord_user_id": user(5)}
    )
    assert r.status_code == 302 and Governor.objects.get().name == "Five"


def test_audit_log_is_read_only_and_searchable(ark_client, match):
    row = AuditLog.objects.first()
    assert ark_client.get(f"/admin/ark/auditlog/{row.pk}/delete/").status_code == 403
    assert "match_created" in ark_client.get("/admin/ark/auditlog/?q=match_created").content.decode()


def test_change_match_amends_through_the_service(ark_client, match):
    data = match_form(match.alliance_id, start="2030-03-09 14:00:00", close="2030-03-09 10:00:00", notes="Later start")
    response = ark_client.post(f"/admin/ark/match/{match.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    match.refresh_from_db()
    assert (match.match_time_utc.hour, match.notes) == (14, "Later start")
    amended = AuditLog.objects.get(action="match_amended")
    assert amended.details["by"] == "ark_officers"
    data["match_time_utc_0"] = "2030-03-12"
    response = ark_client.post(f"/admin/ark/match/{match.pk}/change/", data)
    assert response.status_code == 200 and "starts on 2030-03-09" in response.content.decode()


def test_ban_state_filter_tells_active_expired_revoked(ark_client, db):
    from django.utils import timezone

    from ark import services

    today = timezone.now()
    active = services.add_ban(discord_user_id=1, reason="in force", weekends=3, now=today)
    expired = services.add_ban(discord_user_id=2, reason="long ago", weekends=1, now=today - dt.timedelta(days=60))
    revoked = services.add_ban(discord_user_id=3, reason="lifted", weekends=3, now=today)
    services.revoke_ban(ban_id=revoked.pk)

    def listed(state: str) -> set[int]:
        response = ark_client.get(f"/admin/ark/ban/?state={state}")
        return {b.pk for b in response.context["cl"].result_list}

    assert listed("active") == {active.pk}
    assert listed("expired") == {expired.pk}
    assert listed("revoked") == {revoked.pk}


def test_started_match_page_records_the_result_with_notes(ark_client, make_match, governors):
    from ark import services

    saturday = dt.date(2024, 3, 9)  # in the past
    start = dt.datetime(2024, 3, 9, 12, 0, tzinfo=dt.UTC)
    match = make_match(
        weekend=saturday, start=start, close=start - dt.timedelta(hours=16), now=start - dt.timedelta(days=3)
    )
    services.lock_match(match_id=match.pk, now=start - dt.timedelta(hours=16))
    page = ark_client.get(f"/admin/ark/match/{match.pk}/change/").content.decode()
    assert 'name="result"' in page and 'name="result_notes"' in page and 'name="notes"' not in page
    data = {"result": "", "result_notes": "", "signups-TOTAL_FORMS": "0", "signups-INITIAL_FORMS": "0"}
    response = ark_client.post(f"/admin/ark/match/{match.pk}/change/", data)
    assert response.status_code == 200 and "Win, Loss or No-show" in response.content.decode()
    data.update(result="Win", result_notes="Held both obelisks")
    response = ark_client.post(f"/admin/ark/match/{match.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    match.refresh_from_db()
    assert (match.status, match.result, match.result_notes) == ("Completed", "Win", "Held both obelisks")
    assert AuditLog.objects.get(action="result_set").details["by"] == "ark_officers"


def test_cancelled_match_page_is_view_only(ark_client, match):
    from ark import services

    services.cancel_match(match_id=match.pk)
    page = ark_client.get(f"/admin/ark/match/{match.pk}/change/").content.decode()
    assert 'name="notes"' not in page and 'name="result"' not in page


def test_officer_adds_a_signup_with_ban_override(ark_client, match, governors):
    from ark import services

    services.add_ban(discord_user_id=user(2), reason="left early twice", until_date=WEEKEND)
    gov = Governor.objects.get(governor_id=2)
    data = {"match": match.pk, "governor": gov.pk, "slot_choice": ""}
    r = ark_client.post("/admin/ark/signup/add/", data)
    assert r.status_code == 200 and "left early twice" in r.content.decode() and "ban override" in r.content.decode()
    assert not Signup.objects.exists()
    r = ark_client.post("/admin/ark/signup/add/", {**data, "override_ban": "on", "slot_choice": "Sub"})
    assert r.status_code == 302, r.content.decode()[:3000]
    signup = Signup.objects.get()
    assert (signup.slot, signup.source, signup.discord_user_id) == ("Sub", "admin", user(2))
    audit = AuditLog.objects.get(action="signup_added")
    assert audit.is_override and audit.details["by"] == "ark_officers"
    assert OutboxMessage.objects.filter(topic__startswith="ark.registration").count() == 1  # the message follows


def test_ban_add_warns_about_current_signups(ark_client, match, governors):
    sign(match, 3)
    r = ark_client.post(
        "/admin/ark/ban/add/",
        {"discord_user_id": user(3), "reason": "afk", "until_date": WEEKEND.isoformat(), "confirmed": "Yes"},
        follow=True,
    )
    assert "Still signed up: Gov3" in r.content.decode()


def test_cadence_and_calendar_are_saved_through_services(ark_client, alliance):
    from ark.models import ArkCalendar, ArkSettings

    r = ark_client.post(f"/admin/ark/arksettings/{ArkSettings.objects.get().pk}/change/",
                        {"cadence_weekends": 3, "anchor_weekend": "2030-03-09"})
    assert r.status_code == 302 and ArkSettings.objects.get().cadence_weekends == 3
    assert AuditLog.objects.filter(action="cadence_saved").count() == 1
    r = ark_client.post("/admin/ark/arkcalendar/add/", {
        "alliance": alliance.pk, "is_enabled": "on", "slots_text": "Sat 12:00, Sun 04:00", "close_days_before": 1,
        "close_time_utc": "23:00", "days_ahead": 14, "skipped_text": "2030-12-28",
    })
    assert r.status_code == 302, r.content.decode()[:2000]
    calendar = ArkCalendar.objects.get()
    assert calendar.slots == ["Sat 12:00", "Sun 04:00"] and calendar.skipped_weekends == ["2030-12-28"]
    r = ark_client.post(f"/admin/ark/arkcalendar/{calendar.pk}/change/", {
        "alliance": alliance.pk, "is_enabled": "on", "slots_text": "noon", "close_days_before": 1,
        "close_time_utc": "23:00", "days_ahead": 14, "skipped_text": "",
    })
    assert r.status_code == 200 and "like &#x27;Sat 20:00&#x27;" in r.content.decode()


def test_stats_import_page_reports_each_row(ark_client, governors):
    from django.core.files.uploadedfile import SimpleUploadedFile

    page = ark_client.get("/admin/ark/governor/import-stats/")
    assert page.status_code == 200
    csv = b"Governor ID,Name,Power,Kill Points,City Hall\n1,Gov1,50000000,10,25\n777,Nobody,1,1,1\n"
    r = ark_client.post("/admin/ark/governor/import-stats/", {"file": SimpleUploadedFile("stats.csv", csv)})
    html = r.content.decode()
    assert "1 updated, 0 unchanged, 1 refused" in html and "unknown governor 777" in html
    assert Governor.objects.get(governor_id=1).power == 50_000_000


def test_stats_import_is_denied_without_change_permission(client, officer, governors):
    from django.contrib.auth.models import Permission

    user = officer("Ark officers", "viewer")
    user.groups.clear()
    user.user_permissions.add(Permission.objects.get(codename="view_governor"))
    client.force_login(user)
    assert client.get("/admin/ark/governor/import-stats/").status_code == 403


def test_no_show_suggestion_links_a_prefilled_ban_form(ark_client, match, governors):
    import datetime as dt

    from ark import services

    for k in range(2):
        shift = dt.timedelta(days=14 * k)
        m = match if k == 0 else services.create_match(
            alliance=match.alliance, ark_weekend_date=match.ark_weekend_date + shift, match_day="Sat",
            match_time_utc=match.match_time_utc + shift, signup_close_utc=match.signup_close_utc + shift,
            now=START - dt.timedelta(days=3))
        sign(m, 3)
        services.set_attendance(match_id=m.pk, governor_id=3, attendance="no_show", now=START + shift)
    html = ark_client.get("/admin/ark/governor/").content.decode()
    assert "Suggest a ban: 2 no-shows in the last 5 Ark matches" in html
    assert not Ban.objects.exists()
    # the suggestion's link fills the pickers by name (member and governor), never the raw id boxes
    from guildsync.services.members import record_member

    record_member(user(3), "ramses_irl", "Ramses", in_server=True)
    html = ark_client.get("/admin/ark/governor/").content.decode()
    link = re.search(r'class="suggest-ban" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    form = ark_client.get(link).content.decode()
    assert "2 no-shows in the last 5 Ark matches" in form
    assert re.search(r'<option value="\d+" selected>Ramses</option>', form)  # the member picker
    assert re.search(r'<option value="\d+" selected>Gov3 \(3\)</option>', form)  # the governor picker
    assert 'name="governor_id" value' not in form and 'name="discord_user_id" value' not in form
    page = ark_client.get(f"/admin/ark/governor/{governors[2].pk}/change/").content.decode()
    assert 'class="attendance-chart"' in page and ">No-show<" in page


def test_ban_confirms_first_naming_who_how_long_and_what_changes(ark_client, match, governors):
    """GET shows the form, a valid POST shows what the ban does and writes nothing; only the
    confirmed POST bans (and still messages nobody)."""
    from guildsync.models import DiscordUser
    from guildsync.services.members import record_member

    record_member(user(2), "nef_irl", "Nefertari", in_server=True)
    sign(match, 2)
    member = DiscordUser.objects.get(discord_id=user(2))
    assert ark_client.get("/admin/ark/ban/add/").status_code == 200
    data = {"member": member.pk, "governor": governors[1].pk, "reason": "Left mid-fight", "until_date": "2030-03-10"}
    outbox_before = OutboxMessage.objects.count()
    page = ark_client.post("/admin/ark/ban/add/", data).content.decode()
    assert "Nothing has changed yet." in page
    assert "Nefertari and governor Gov2 (2)" in page  # who, by name
    assert "rom Sat" in page and "to Sun 10 Mar 2030" in page  # how long
    assert "Nobody is messaged" in page and "are <strong>not</strong> cancelled" in page
    assert "Gov2 in Ark 2030-03-09 Saturday 12:00 UTC, Osiris Guard" in page  # who is still on a roster
    assert not Ban.objects.exists() and not AuditLog.objects.filter(action="ban_added").exists()
    assert not re.search(r">[^<]*\d{17,20}[^<]*<", page)  # no bare Discord id in the visible text
    # confirming posts the same answers back
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    assert hidden["member"] == str(member.pk) and hidden["reason"] == "Left mid-fight"
    r = ark_client.post("/admin/ark/ban/add/", {**hidden, "confirmed": "Yes, ban"}, follow=True)
    ban = Ban.objects.get()
    assert (ban.discord_user_id, ban.governor_id, ban.ends_on) == (user(2), 2, dt.date(2030, 3, 10))
    text = r.content.decode()
    assert "Banned Nefertari and governor Gov2 (2) for the Ark weekends from" in text and "nobody was messaged" in text
    assert "Still signed up: Gov2 in Ark 2030-03-09" in text
    assert OutboxMessage.objects.count() == outbox_before  # nobody messaged


def test_ban_refusals_are_plain_and_write_nothing(ark_client, db):
    r = ark_client.post("/admin/ark/ban/add/", {"reason": "x", "weekends": 1})
    assert "A ban needs a Discord " in r.content.decode()  # the rule in plain words
    r = ark_client.post("/admin/ark/ban/add/", {"discord_user_id": user(1), "reason": "x", "until_date": "2001-01-01"})
    assert "is before the next Ark weekend" in r.content.decode() and "Nothing has changed yet." not in r.content.decode()
    assert not Ban.objects.exists()


def test_ban_form_is_denied_to_other_officers(client, officer, db):
    client.force_login(officer("Raid officers", username="raider"))
    r = client.post("/admin/ark/ban/add/", {"discord_user_id": user(1), "reason": "x", "weekends": 1, "confirmed": "1"})
    assert r.status_code == 403 and not Ban.objects.exists()


@pytest.fixture
def played_match(alliance, governors):
    """Last weekend's match of the alliance, started, with four governors on its roster."""
    weekend = dt.date(2026, 11, 28)
    start = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)
    earlier = start - dt.timedelta(days=3)
    m = factories.ark_match(alliance, weekend=weekend, start=start, close=start - dt.timedelta(hours=16), now=earlier)
    for n in (1, 2, 3, 4):
        sign(m, n, now=earlier)
    return m


def test_attendance_is_marked_on_the_match_page(ark_client, played_match):
    from guildsync.services.members import record_member

    record_member(user(2), "nef_irl", "Nefertari", in_server=True)
    url = f"/admin/ark/match/{played_match.pk}/change/"
    html = ark_client.get(url).content.decode()
    assert 'id="attendance-sheet"' in html and "Not marked: <strong>4</strong>" in html
    assert "<td>Nefertari</td>" in html  # the member by name, never an id
    rows = {s.governor.governor_id: s for s in Signup.objects.filter(match=played_match).select_related("governor")}
    marks = {f"attendance-{rows[1].pk}": "played", f"attendance-{rows[2].pk}": "no_show",
             f"attendance-{rows[3].pk}": "", f"attendance-{rows[4].pk}": "excused"}
    r = ark_client.post(f"/admin/ark/match/{played_match.pk}/attendance/", marks, follow=True)
    text = r.content.decode()
    assert (f"Attendance of {played_match}: Gov1 played, Gov2 no-show, Gov4 excused. "
            "Now 1 played, 1 no-show, 1 excused, 1 not marked.") in text
    assert "Played: <strong>1</strong>" in text and "Not marked: <strong>1</strong>" in text  # the totals follow
    assert dict(Signup.objects.filter(match=played_match).values_list("governor__governor_id", "attendance")) == {
        1: "played", 2: "no_show", 3: "", 4: "excused"}
    assert AuditLog.objects.filter(action="attendance_set").count() == 3
    assert AuditLog.objects.filter(action="attendance_set").first().details["by"] == "ark_officers"
    # a correction says what it was
    r = ark_client.post(f"/admin/ark/match/{played_match.pk}/attendance/", {f"attendance-{rows[2].pk}": "excused"},
                        follow=True)
    assert "Gov2 excused (was no-show). Now 1 played, 0 no-show, 2 excused, 1 not marked." in r.content.decode()


def test_attendance_sheet_refuses_as_a_whole(ark_client, played_match, make_match):
    rows = list(Signup.objects.filter(match=played_match).order_by("pk"))
    # a signup of another match, or a value that is no attendance: nothing saved
    other = make_match(weekend=dt.date(2030, 3, 23), start=dt.datetime(2030, 3, 23, 12, tzinfo=dt.UTC),
                       close=dt.datetime(2030, 3, 22, 20, tzinfo=dt.UTC))
    stranger = sign(other, 5)
    for bad in ({f"attendance-{stranger.pk}": "played"}, {f"attendance-{rows[0].pk}": "heroic"},
                {"attendance-x": "played"}):
        r = ark_client.post(f"/admin/ark/match/{played_match.pk}/attendance/",
                            {f"attendance-{rows[1].pk}": "played", **bad}, follow=True)
        assert "Nothing was saved" in r.content.decode()
    assert not Signup.objects.exclude(attendance="").exists()
    # a match that has not started: the service's rule, in plain words
    r = ark_client.post(f"/admin/ark/match/{other.pk}/attendance/", {f"attendance-{stranger.pk}": "played"}, follow=True)
    assert "Nothing was saved: Attendance is recorded once the match has started." in r.content.decode()
    assert 'id="attendance-sheet"' not in ark_client.get(f"/admin/ark/match/{other.pk}/change/").content.decode()
    assert ark_client.get(f"/admin/ark/match/{played_match.pk}/attendance/").status_code == 405


def test_attendance_is_denied_to_other_groups_and_view_only_staff(client, officer, played_match, django_user_model):
    from django.contrib.auth.models import Permission

    signup = Signup.objects.filter(match=played_match).first()
    url = f"/admin/ark/match/{played_match.pk}/attendance/"
    client.force_login(officer("Raid officers", username="raider"))
    assert client.post(url, {f"attendance-{signup.pk}": "played"}).status_code == 403
    viewer = django_user_model.objects.create_user("viewer", password="pw-123456", is_staff=True)
    viewer.user_permissions.add(*Permission.objects.filter(codename__in=["view_match", "change_match", "view_signup"]))
    client.force_login(viewer)
    assert 'id="attendance-sheet"' not in client.get(f"/admin/ark/match/{played_match.pk}/change/").content.decode()
    assert client.post(url, {f"attendance-{signup.pk}": "played"}).status_code == 403
    assert not Signup.objects.exclude(attendance="").exists()


def test_match_page_suggests_a_ban_by_name_after_no_shows(ark_client, played_match):
    from ark import services

    earlier = played_match.match_time_utc - dt.timedelta(days=17)
    before = factories.ark_match(played_match.alliance, weekend=dt.date(2026, 11, 14),
                                 start=dt.datetime(2026, 11, 14, 12, tzinfo=dt.UTC),
                                 close=dt.datetime(2026, 11, 13, 20, tzinfo=dt.UTC), now=earlier)
    sign(before, 2, now=earlier)
    services.set_attendance(match_id=before.pk, governor_id=2, attendance="no_show")
    signup = Signup.objects.get(match=played_match, governor__governor_id=2)
    ark_client.post(f"/admin/ark/match/{played_match.pk}/attendance/", {f"attendance-{signup.pk}": "no_show"})
    html = ark_client.get(f"/admin/ark/match/{played_match.pk}/change/").content.decode()
    link = re.search(r'class="suggest-ban" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert "governor=" in link and "governor_id" not in link
    form = ark_client.get(link).content.decode()
    assert re.search(r'<option value="\d+" selected>Gov2 \(2\)</option>', form)
    assert not Ban.objects.exists()


def test_moving_the_start_confirms_first_naming_whom_the_dm_reaches(ark_client, match, governors):
    sign(match, 1)
    sign(match, 2)
    data = match_form(match.alliance_id, start="2030-03-09 14:00:00", close="2030-03-08 20:00:00", notes="Later")
    queued = OutboxMessage.objects.count()
    page = ark_client.post(f"/admin/ark/match/{match.pk}/change/", data).content.decode()
    assert "Nothing has changed yet." in page and "Saturday 09 Mar 2030, 14:00 UTC" in page
    assert "Gov1 (unknown member …0001)" in page and "Gov2 (unknown member …0002)" in page
    match.refresh_from_db()
    assert match.match_time_utc == START and OutboxMessage.objects.count() == queued  # nothing changed, nobody DMed
    hidden = re.findall(r'<input type="hidden" name="([\w-]+)" value="([^"]*)"', page)
    confirmed = {}
    for name, value in hidden:
        confirmed[name] = value
    r = ark_client.post(f"/admin/ark/match/{match.pk}/change/", {**confirmed, "confirmed": "Yes"}, follow=True)
    match.refresh_from_db()
    assert match.match_time_utc.hour == 14 and match.notes == "Later"
    assert OutboxMessage.objects.filter(topic="ark.rescheduled").count() == 2
    assert "the start moved from Sat 09 Mar 12:00 UTC; 2 signed-up members will get a DM" in r.content.decode()
    # a notes-only edit messages nobody: saved at once
    data = match_form(match.alliance_id, start="2030-03-09 14:00:00", close="2030-03-08 20:00:00", notes="Teleport 13:50")
    r = ark_client.post(f"/admin/ark/match/{match.pk}/change/", data, follow=True)
    assert "the start is unchanged, nobody is messaged" in r.content.decode()
    assert Match.objects.get(pk=match.pk).notes == "Teleport 13:50"


def test_forms_say_what_changed(ark_client, alliance, governors):
    r = ark_client.post("/admin/ark/arkcalendar/add/", {
        "alliance": alliance.pk, "is_enabled": "on", "slots_text": "Sat 12:00, Sun 04:00", "close_days_before": 1,
        "close_time_utc": "23:00", "days_ahead": 14, "skipped_text": ""}, follow=True)
    text = r.content.decode()
    assert "Saved the calendar of Osiris Guard: slots Sat 12:00, Sun 04:00 UTC; signups close 1 day before the Saturday" in text
    assert "successfully" not in text
