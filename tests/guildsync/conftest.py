"""Fixtures of the guildsync tests: reference data (also after a transactional test's
flush), small factories, the fake Blizzard API and a fake Discord that also lists roles."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from werkzeug import Response

from guildsync.services.reference import load_reference_data
from tests import factories
from tests.fakes.blizzard_api import FakeBlizzard
from tests.fakes.discord_api import FakeDiscord, discord_settings
from tests.fakes.http import Recorded, session_fake, use_fake

GUILD_ID = 123_456_789_012_345_678
AUDIT_CHANNEL = 555_000_000_000_000_777


_DB_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback"}


@pytest.fixture(autouse=True)
def reference_data(request, settings):
    settings.DISCORD_AUDIT_CHANNEL_ID = AUDIT_CHANNEL
    settings.DISCORD_GUILD_ID = GUILD_ID
    settings.BLIZZARD_REALM_SLUG = "twisting-nether"
    settings.BLIZZARD_GUILD_SLUG = "stormwatch"
    # Not "django_db_setup in fixturenames": a session fixture of tests/conftest.py requests it
    # for every test, which made tests without database access query the database (and fail
    # when one of them ran first in a session).
    if _DB_FIXTURES & set(request.fixturenames) or request.node.get_closest_marker("django_db"):
        request.getfixturevalue("_django_db_helper")
        load_reference_data()


@pytest.fixture
def make() -> SimpleNamespace:
    """``make.rank/character/discord_user/player(...)``: the guildsync factories of tests/factories.py."""
    return SimpleNamespace(rank=factories.guild_rank, character=factories.wow_character,
                           discord_user=factories.discord_user, player=factories.player)


# -- fake Blizzard --------------------------------------------------------------------------
_fake_blizzard_server = session_fake(FakeBlizzard)


@pytest.fixture
def fake_blizzard(_fake_blizzard_server, settings) -> FakeBlizzard:
    from guildsync.clients import clear_token_cache

    clear_token_cache()
    return use_fake(_fake_blizzard_server, settings, BLIZZARD_API_BASE=_fake_blizzard_server.base_url,
                    BLIZZARD_OAUTH_URL=_fake_blizzard_server.oauth_url, BLIZZARD_CLIENT_ID=FakeBlizzard.client_id,
                    BLIZZARD_CLIENT_SECRET=FakeBlizzard.client_secret, BLIZZARD_REQUESTS_PER_SECOND=1000.0)


# -- fake Discord that also answers GET /guilds/{id}/roles -----------------------------------
class FakeDiscordWithRoles(FakeDiscord):
    def reset(self) -> None:
        super().reset()
        with self.lock:
            self.guild_roles: dict[int, list[dict]] = {}

    def routes(self):
        return [("GET", r"/guilds/(\d+)/roles", self.list_roles), *super().routes()]

    def list_roles(self, rec: Recorded, guild_id: int) -> Response:
        with self.lock:
            return self.respond(200, list(self.guild_roles.get(guild_id, [])))


_fake_discord_roles_server = session_fake(FakeDiscordWithRoles)


@pytest.fixture
def discord_guild(_fake_discord_roles_server, settings) -> FakeDiscordWithRoles:
    return use_fake(_fake_discord_roles_server, settings, **discord_settings(_fake_discord_roles_server))
