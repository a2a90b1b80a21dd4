"""Sign in with Discord (django-allauth's Discord provider): the whole redirect → callback →
token exchange → user info → role lookup against a fake Discord OAuth server; officer groups
follow Discord roles at each sign-in; strangers are refused; audit rows written from the
admin carry the officer's Discord id."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from tests.fakes.discord_oauth import DiscordMember, FakeDiscordOAuth

GUILD = 100_000_000_000_000_042
RAID_ROLE, ARK_ROLE, OTHER_ROLE = 300_000_000_000_000_001, 300_000_000_000_000_002, 300_000_000_000_000_009
pytestmark = pytest.mark.django_db

OFFICER = DiscordMember(400_000_000_000_000_777, "brightblade", "Bright Blade", roles=[ARK_ROLE, OTHER_ROLE])


@pytest.fixture
def discord_oauth(httpserver, settings) -> FakeDiscordOAuth:
    fake = FakeDiscordOAuth(httpserver, GUILD)
    settings.DISCORD_CLIENT_ID, settings.DISCORD_CLIENT_SECRET = "1234567890", "s3cret"
    settings.SOCIALACCOUNT_PROVIDERS = {"discord": {"APPS": [{"client_id": "1234567890", "secret": "s3cret"}]}}
    settings.DISCORD_OAUTH_AUTHORIZE_URL, settings.DISCORD_OAUTH_API_BASE = fake.authorize_url, fake.api_base
    settings.DISCORD_GUILD_ID = GUILD
    settings.DISCORD_OFFICER_ROLE_GROUPS = [(RAID_ROLE, "Raid officers"), (ARK_ROLE, "Ark officers")]
    return fake


def sign_in(client, fake: FakeDiscordOAuth, member: DiscordMember, next_url: str = "/admin/"):
    """The browser's path, hop by hop: our login → Discord's authorize → our callback."""
    fake.next_member = member
    start = client.post(f"/accounts/discord/login/?process=login&next={next_url}")
    assert start.status_code == 302 and start["Location"].startswith(fake.authorize_url)
    query = parse_qs(urlparse(start["Location"]).query)
    fake.last_scope = set(query["scope"][0].split())
    assert fake.last_scope - {"role_connections.write"} == {"identify", "guilds.members.read"}  # + Linked Roles
    assert query["client_id"] == ["1234567890"]
    import requests

    back = requests.get(start["Location"], allow_redirects=False, timeout=5)  # Discord's consent page
    callback = urlparse(back.headers["Location"])
    return client.get(callback.path, parse_qs(callback.query) | {})


def test_login_page_offers_discord_only_when_configured(client, settings, discord_oauth):
    page = client.get("/admin/login/").content.decode()
    assert 'id="discord-signin-button"' in page and "discord-signin-off" not in page
    settings.DISCORD_CLIENT_ID = ""
    page = client.get("/admin/login/").content.decode()
    assert 'id="discord-signin-button"' not in page
    assert "Sign in with Discord is off on this server" in page and "DISCORD_CLIENT_ID" in page  # how to turn it on


@pytest.mark.parametrize("configured", [True, False])
@pytest.mark.parametrize("method", ["get", "post"])
def test_discord_login_url_never_answers_500(client, settings, discord_oauth, configured, method):
    if not configured:
        settings.DISCORD_CLIENT_ID = settings.DISCORD_CLIENT_SECRET = ""
        settings.SOCIALACCOUNT_PROVIDERS = {"discord": {}}
    for url in ("/accounts/discord/login/", "/accounts/discord/login/?process=login&next=/admin/",
                "/accounts/discord/login/callback/?code=x&state=y"):
        response = getattr(client, method)(url)
        assert response.status_code < 500, (url, response.status_code)
        if not configured:
            assert response.status_code == 404
            assert "Sign in with Discord is not turned on" in response.content.decode()
            assert "/admin/login/" in response.content.decode()


def test_officer_signs_in_and_groups_follow_roles(client, discord_oauth):
    done = sign_in(client, discord_oauth, OFFICER)
    assert done.status_code == 302 and done["Location"] == "/admin/"
    user = User.objects.get(socialaccount__uid=str(OFFICER.id))
    assert user.is_staff and not user.has_usable_password()
    assert set(user.groups.values_list("name", flat=True)) == {"Ark officers"}
    assert client.get("/admin/").status_code == 200
    form = discord_oauth.token_requests[-1]
    assert form["grant_type"] == ["authorization_code"] and form["client_secret"] == ["s3cret"]

    # next sign-in: the Ark role was taken away in Discord, the Raid role given
    client.logout()
    moved = DiscordMember(OFFICER.id, OFFICER.username, roles=[RAID_ROLE])
    sign_in(client, discord_oauth, moved)
    user.refresh_from_db()
    assert set(user.groups.values_list("name", flat=True)) == {"Raid officers"} and user.is_staff

    # and then every officer role: no more admin
    client.logout()
    sign_in(client, discord_oauth, DiscordMember(OFFICER.id, OFFICER.username, roles=[OTHER_ROLE]))
    user.refresh_from_db()
    assert not user.groups.exists() and not user.is_staff
    assert User.objects.count() == 1


def test_member_without_officer_role_gets_no_staff_and_a_stranger_nothing(client, discord_oauth):
    page = sign_in(client, discord_oauth, DiscordMember(5, "random", roles=[OTHER_ROLE]))
    member = User.objects.get(socialaccount__uid="5")  # a plain member login, for their own page
    assert not member.is_staff and not member.groups.exists()
    assert page.status_code == 302 and client.get("/admin/").status_code == 302  # the admin stays closed
    client.logout()
    nobody = sign_in(client, discord_oauth, DiscordMember(6, "elsewhere", in_guild=False))
    assert nobody["Location"] == "/admin/login/" and User.objects.count() == 1
    assert "not a member of the guild" in client.get("/admin/login/").content.decode()


def test_without_a_role_mapping_only_connected_accounts_sign_in(client, discord_oauth, settings):
    from allauth.socialaccount.models import SocialAccount

    settings.DISCORD_OFFICER_ROLE_GROUPS = []
    settings.DISCORD_GUILD_ID = None  # no server to check membership in: nobody new gets in
    assert sign_in(client, discord_oauth, OFFICER)["Location"] == "/admin/login/"
    assert not User.objects.exists()
    officer = User.objects.create_user("anna", password="pw-123456789", is_staff=True, is_superuser=True)
    SocialAccount.objects.create(user=officer, provider="discord", uid=str(OFFICER.id))
    assert sign_in(client, discord_oauth, OFFICER)["Location"] == "/admin/"
    officer.refresh_from_db()
    assert officer.is_superuser and officer.is_staff  # nothing mapped: left as it was


def test_bad_code_is_a_clean_error_not_a_500(client, discord_oauth):
    client.post("/accounts/discord/login/?process=login")
    state = client.session.get("socialaccount_states") or {}
    response = client.get("/accounts/discord/login/callback/", {"code": "forged", "state": next(iter(state), "x")})
    # Discord answers 400 invalid_grant: allauth's "login failure" page (401), no login, no 500
    assert response.status_code == 401 and not User.objects.exists()
    assert discord_oauth.token_requests[-1]["code"] == ["forged"]


def test_ark_audit_rows_from_the_admin_carry_the_officers_discord_id(client, discord_oauth):
    from ark import services
    from ark.models import AuditLog

    alliance = services.save_alliance(name="Osiris Guard", registration_channel_id=111, confirmation_channel_id=112)
    now = timezone.now()
    weekend = services.ark_weekend_of(now.date()) + dt.timedelta(days=14)
    start = dt.datetime.combine(weekend, dt.time(12, 0), tzinfo=dt.UTC)
    match = services.create_match(alliance=alliance, ark_weekend_date=weekend, match_day="Sat",
                                  match_time_utc=start, signup_close_utc=start - dt.timedelta(hours=16))
    sign_in(client, discord_oauth, OFFICER)
    response = client.post("/admin/ark/match/", {"action": "lock", "_selected_action": [match.pk], "confirmed": "Yes"}, follow=True)
    assert response.status_code == 200
    row = AuditLog.objects.filter(match=match).order_by("-pk").first()
    # Ark names its admin actor as every app does (officers.actor): a Discord-connected officer by
    # their Discord id, which the audit page shows by name; no login name beside it.
    assert row.actor_discord_id == OFFICER.id and "by" not in row.details


def test_officer_actor_is_the_discord_id_once_connected(db):
    from allauth.socialaccount.models import SocialAccount

    from core.discord_signin import officers

    user = User.objects.create_user("x" * 150)
    assert officers.actor(user) == "x" * 150 and officers.discord_id(user) is None
    SocialAccount.objects.create(user=user, provider="discord", uid="400000000000000777")
    assert officers.actor(user) == "400000000000000777"
