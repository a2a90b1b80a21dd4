"""The member's own page, /me/: Discord sign-in as a plain member (never staff, admin closed),
their characters and governors, calendar link made/rotated/turned off through the members
services, Ark reminder choices that the reminder run then respects, data export and forget with
a confirmation. Signed in through the fake Discord OAuth server, as a browser would."""

from __future__ import annotations

import json

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth.models import User

from ark.models import ReminderPrefs
from members.models import CalendarToken
from tests import factories as f
from tests.core.test_discord_signin import sign_in
from tests.fakes.discord_oauth import DiscordMember
from tests.members.conftest import MEMBER

pytestmark = pytest.mark.django_db



def member_sign_in(client, fake, member=MEMBER):
    done = sign_in(client, fake, member, next_url="/me/")
    assert done.status_code == 302 and done["Location"] == "/me/", done
    return done


def test_signed_out_page_offers_discord_sign_in(client, discord_oauth, settings):
    page = client.get("/me/").content.decode()
    assert 'id="me-discord-signin"' in page and "process=login" in page
    settings.DISCORD_CLIENT_ID = ""
    page = client.get("/me/").content.decode()
    assert 'id="me-discord-signin"' not in page and 'id="me-discord-off"' in page


def test_member_signs_in_as_plain_member_never_staff(client, discord_oauth):
    member_sign_in(client, discord_oauth)
    user = User.objects.get(socialaccount__uid=str(MEMBER.id))
    assert not user.is_staff and not user.is_superuser and not user.groups.exists()
    assert not user.has_usable_password()
    admin = client.get("/admin/")
    assert admin.status_code == 302 and admin["Location"].startswith("/admin/login/")  # the admin stays closed
    assert client.get("/admin/guildsync/player/").status_code == 302
    # the next sign-in finds the same login, still no staff
    client.logout()
    member_sign_in(client, discord_oauth)
    assert User.objects.count() == 1 and not User.objects.get().is_staff


def test_a_stranger_outside_the_server_gets_nothing(client, discord_oauth):
    done = sign_in(client, discord_oauth, DiscordMember(6, "elsewhere", in_guild=False), next_url="/me/")
    assert done["Location"] == "/me/" and not User.objects.exists()
    assert "not a member of the guild" in client.get("/me/").content.decode()


def test_member_without_characters_or_signups(client, discord_oauth):
    member_sign_in(client, discord_oauth)
    page = client.get("/me/").content.decode()
    for marker in ('id="me-no-characters"', 'id="me-no-governors"', "You have no calendar link",
                   'id="me-reminders"', 'id="me-export"', 'id="me-forget"'):
        assert marker in page, marker
    assert "Connect Battle.net" not in page  # off unless BATTLENET_CONNECT


def test_page_lists_characters_and_governors(client, discord_oauth):
    user = f.discord_user("lunara", discord_id=MEMBER.id, display_name="Lunara")
    main = f.wow_character("Lunarah", realm_name="Twisting Nether", level=80)
    alt = f.wow_character("Moonpaw", level=71)
    f.player("Lunara", user, [main, alt], main_character=main)
    f.ark_governor(4242, "LunaGov", owner=None, discord_user_id=MEMBER.id, power=1234567)
    f.ark_governor(4343, "NotHers", discord_user_id=MEMBER.id + 1)
    member_sign_in(client, discord_oauth)
    page = client.get("/me/").content.decode()
    assert "Lunarah" in page and "Twisting Nether" in page and "Moonpaw" in page and "main</span>" in page
    assert "LunaGov" in page and "NotHers" not in page
    assert page.index("Lunarah") < page.index("Moonpaw")  # the main first


def test_calendar_link_made_rotated_and_turned_off(client, discord_oauth):
    member_sign_in(client, discord_oauth)
    client.post("/me/calendar/", {"action": "rotate"})
    page = client.get("/me/").content.decode()
    token = CalendarToken.objects.get(discord_user_id=MEMBER.id)
    start = page.index('id="me-calendar-url" value="') + len('id="me-calendar-url" value="')
    url = page[start:page.index('"', start)]
    path = url.split("://", 1)[1].split("/", 1)[1]
    assert client.get(f"/{path}").status_code == 200  # the feed works
    assert 'id="me-calendar-url"' not in client.get("/me/").content.decode()  # shown once
    client.post("/me/calendar/", {"action": "rotate"})
    assert client.get(f"/{path}").status_code == 404  # the old link stopped working
    assert CalendarToken.objects.get(discord_user_id=MEMBER.id).token_hash != token.token_hash
    client.post("/me/calendar/", {"action": "revoke"})
    assert not CalendarToken.objects.exists()
    assert client.get("/me/calendar/").status_code == 405  # GET changes nothing


def test_reminder_choices_are_saved_through_ark(client, discord_oauth):
    member_sign_in(client, discord_oauth)
    client.post("/me/reminders/", {"dm_enabled": "on", "reminder": ["24h", "start"]})
    prefs = ReminderPrefs.objects.get(discord_user_id=MEMBER.id)
    assert prefs.dm_enabled and set(prefs.disabled_types) == {"checkin_12h", "4h", "1h"}
    assert prefs.wants("start") and not prefs.wants("1h")
    page = client.get("/me/").content.decode()
    assert 'id="rem-start" checked' in page and 'id="rem-1h" checked' not in page
    client.post("/me/reminders/", {"reminder": ["24h"]})
    assert not ReminderPrefs.objects.get(discord_user_id=MEMBER.id).wants("24h")  # DMs off altogether


def test_export_and_forget(client, discord_oauth):
    f.ark_governor(4242, "LunaGov", discord_user_id=MEMBER.id)
    member_sign_in(client, discord_oauth)
    client.post("/me/calendar/", {"action": "rotate"})
    download = client.post("/me/export/")
    assert download["Content-Disposition"].startswith("attachment")
    data = json.loads(download.content)
    assert data["apps"]["members"]["calendar_feed"] is not None
    assert client.get("/me/export/").status_code == 405
    # forget needs the box ticked
    assert "cannot be undone" in client.get("/me/forget/").content.decode()
    client.post("/me/forget/", {})
    assert CalendarToken.objects.exists()
    done = client.post("/me/forget/", {"confirm": "yes"})
    assert done.status_code == 200 and "you are forgotten" in done.content.decode()
    assert not CalendarToken.objects.exists() and not SocialAccount.objects.exists()
    assert not User.objects.exists()  # the plain member's login went too
    assert "me-discord-signin" in client.get("/me/").content.decode()  # signed out


def test_other_members_cannot_act_signed_out(client, discord_oauth):
    for url in ("/me/calendar/", "/me/reminders/", "/me/export/", "/me/forget/"):
        response = client.post(url, {"action": "rotate", "confirm": "yes"})
        assert response.status_code == 302 and response["Location"] == "/me/"
    assert not CalendarToken.objects.exists() and not ReminderPrefs.objects.exists()
