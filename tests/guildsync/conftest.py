"""Fixtures of the guildsync tests: reference data (also after a transactional test's
flush), small factories, the fake Blizzard API and a fake Discord that also lists roles."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.utils import timezone
from werkzeug import Response

from tests.fakes.blizzard_api import FakeBlizzard
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.http import Recorded

GUILD_ID = 123_456_789_012_345_678
AUDIT_CHANNEL = 555_000_000_000_000_777
_ids = itertools.count(1)


def load_reference_data() -> None:
    """What migrations 0002/0004/0006 load; transactional tests flush the tables afterwards."""
    from guildsync.models import GuildRank, GuildRankRole, NotePattern, Role, Specialization, WowClass
    from guildsync.reference_data import (
        CLASSES,
        DEFAULT_RANK_ROLES,
        GUILD_RANKS,
        NOTE_PATTERNS,
        ROLES,
        SPECIALIZATIONS,
    )
    from guildsync.services.ranks import ensure_ranks

    if Specialization.objects.count() == len(SPECIALIZATIONS) and NotePattern.objects.exists():
        return
    roles = {name: Role.objects.get_or_create(name=name)[0] for name in ROLES}
    classes = {name: WowClass.objects.update_or_create(blizzard_id=bid, defaults={"name": name, "color_hex": c})[0]
               for bid, name, c in CLASSES}
    for bid, name, cls, role in SPECIALIZATIONS:
        Specialization.objects.update_or_create(blizzard_id=bid, defaults={
            "name": name, "wow_class": classes[cls], "default_role": roles[role]})
    for name, level, weight, index, _role in GUILD_RANKS:
        GuildRank.objects.get_or_create(blizzard_rank_index=index, defaults={
            "name": name, "level": level, "scheduling_weight": weight, "name_source": GuildRank.NameSource.PLACEHOLDER})
    ensure_ranks()
    for index, role_names in DEFAULT_RANK_ROLES.items():
        for role_name in role_names:
            GuildRankRole.objects.get_or_create(rank=GuildRank.objects.get(blizzard_rank_index=index),
                                                role_name=role_name)
    for name, kind, regex, priority in NOTE_PATTERNS:
        NotePattern.objects.get_or_create(name=name, defaults={"kind": kind, "regex": regex, "priority": priority})


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


class Factory:
    def rank(self, name: str):
        from guildsync.models import GuildRank

        return GuildRank.objects.get(name=name)

    def character(self, name: str, realm: str = "twisting-nether", **kw: Any):
        from guildsync.models import WowCharacter

        kw.setdefault("last_api_sync", timezone.now())
        if isinstance(kw.get("guild_rank"), str):
            kw["guild_rank"] = self.rank(kw["guild_rank"])
        return WowCharacter.objects.create(character_name=name, realm_slug=realm, **kw)

    def discord_user(self, username: str, *, role: str = "Member", display_name: str = "", **kw: Any):
        from guildsync.models import DiscordUser

        kw.setdefault("discord_id", 900_000 + next(_ids))
        return DiscordUser.objects.create(username=username, display_name=display_name or username,
                                          highest_guild_role=role, all_guild_roles=[role] if role else [], **kw)

    def player(self, name: str, discord_user=None, characters=(), source: str = "manual", **kw: Any):
        from guildsync.models import Player, PlayerCharacter

        player = Player.objects.create(display_name=name, discord_user=discord_user, **kw)
        for char in characters:
            PlayerCharacter.objects.create(player=player, character=char, link_source=source, confidence=1.0)
        return player


@pytest.fixture
def make() -> Factory:
    return Factory()


# -- fake Blizzard --------------------------------------------------------------------------
@pytest.fixture(scope="session")
def _fake_blizzard_server():
    fake = FakeBlizzard().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_blizzard(_fake_blizzard_server, settings) -> FakeBlizzard:
    from guildsync.clients import clear_token_cache

    _fake_blizzard_server.reset()
    clear_token_cache()
    settings.BLIZZARD_API_BASE = _fake_blizzard_server.base_url
    settings.BLIZZARD_OAUTH_URL = _fake_blizzard_server.oauth_url
    settings.BLIZZARD_CLIENT_ID = FakeBlizzard.client_id
    settings.BLIZZARD_CLIENT_SECRET = FakeBlizzard.client_secret
    settings.BLIZZARD_REQUESTS_PER_SECOND = 1000.0
    return _fake_blizzard_server


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


@pytest.fixture(scope="session")
def _fake_discord_roles_server():
    fake = FakeDiscordWithRoles().start()
    yield fake
    fake.stop()


@pytest.fixture
def discord_guild(_fake_discord_roles_server, settings) -> FakeDiscordWithRoles:
    _fake_discord_roles_server.reset()
    settings.DISCORD_API_BASE = _fake_discord_roles_server.base_url
    settings.DISCORD_TOKEN = FakeDiscord.token
    settings.DISCORD_HTTP_TIMEOUT = 3.0
    return _fake_discord_roles_server
