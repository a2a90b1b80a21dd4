"""Members' fixtures: Sign in with Discord against the fake OAuth server, as a plain member."""

from __future__ import annotations

import pytest

from tests.core.test_discord_signin import GUILD, OTHER_ROLE
from tests.fakes.discord_oauth import DiscordMember, FakeDiscordOAuth

MEMBER = DiscordMember(400_000_000_000_000_555, "lunara", "Lunara", roles=[OTHER_ROLE])


@pytest.fixture
def discord_oauth(httpserver, settings) -> FakeDiscordOAuth:
    fake = FakeDiscordOAuth(httpserver, GUILD)
    settings.DISCORD_CLIENT_ID, settings.DISCORD_CLIENT_SECRET = "1234567890", "s3cret"
    settings.SOCIALACCOUNT_PROVIDERS = {**settings.SOCIALACCOUNT_PROVIDERS,
                                        "discord": {"APPS": [{"client_id": "1234567890", "secret": "s3cret"}]}}
    settings.DISCORD_OAUTH_AUTHORIZE_URL, settings.DISCORD_OAUTH_API_BASE = fake.authorize_url, fake.api_base
    settings.DISCORD_GUILD_ID = GUILD
    settings.DISCORD_OFFICER_ROLE_GROUPS = [(300_000_000_000_000_001, "Raid officers")]
    return fake


@pytest.fixture
def battlenet(httpserver, settings, discord_oauth):
    """Battle.net connection on, against the fake Battle.net (OAuth and the account profile API)."""
    from tests.fakes.battlenet_oauth import FakeBattlenet

    fake = FakeBattlenet(httpserver)
    settings.BATTLENET_CONNECT = True
    settings.BLIZZARD_CLIENT_ID, settings.BLIZZARD_CLIENT_SECRET = fake.client_id, fake.secret
    settings.BATTLENET_OAUTH_BASE, settings.BLIZZARD_API_BASE, settings.BLIZZARD_REGION = (
        fake.oauth_base, fake.api_base, "us")
    settings.SOCIALACCOUNT_PROVIDERS = {**settings.SOCIALACCOUNT_PROVIDERS, "battlenet": {
        "APPS": [{"client_id": fake.client_id, "secret": fake.secret}], "SCOPE": ["wow.profile"], "REGION": "us"}}
    return fake
