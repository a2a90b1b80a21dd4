"""Fixtures of the raids tests: the fake Raid-Helper server, settings, players, raid nights."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

import pytest

from tests.fakes.raid_helper_api import FakeRaidHelper
from tests.fakes.warcraftlogs_api import FakeWarcraftLogs

RAID_CHANNEL = 555_100_000_000_000_001
LEADER = 555_200_000_000_000_001
_discord_ids = itertools.count(777_000_000_000_001_000)


@pytest.fixture(scope="session")
def _fake_raid_helper_server():
    fake = FakeRaidHelper().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_raid_helper(_fake_raid_helper_server, settings, monkeypatch) -> FakeRaidHelper:
    from raids import clients

    _fake_raid_helper_server.reset()
    settings.RAID_HELPER_API_BASE = _fake_raid_helper_server.base_url
    settings.RAID_HELPER_API_KEY = FakeRaidHelper.api_key
    settings.RAID_HELPER_HTTP_TIMEOUT = 2.0
    monkeypatch.setattr(clients, "SIGNUP_PACER", clients.Pacer())  # a fresh window per test
    monkeypatch.setattr(clients, "PACE_KEY", f"raids:test-signups:{uuid.uuid4().hex}")  # the shared one too
    monkeypatch.setattr(clients, "GET_RETRY_DELAY", 0.01)
    return _fake_raid_helper_server


@pytest.fixture(scope="session")
def _fake_wcl_server():
    fake = FakeWarcraftLogs().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_wcl(_fake_wcl_server, settings, monkeypatch) -> FakeWarcraftLogs:
    """The fake Warcraft Logs with the credentials and guild in the settings; the token cache
    is emptied and rate-limit waits are recorded in ``fake.waits`` instead of slept."""
    from raids import warcraftlogs

    fake = _fake_wcl_server
    fake.reset()
    settings.WCL_TOKEN_URL, settings.WCL_API_URL = fake.token_url, fake.api_url
    settings.WCL_CLIENT_ID, settings.WCL_CLIENT_SECRET = fake.client_id, fake.client_secret
    settings.WCL_GUILD_ID, settings.WCL_HTTP_TIMEOUT = fake.guild["id"], 2.0
    settings.WCL_IMPORT_AFTER_MINUTES, settings.WCL_IMPORT_GIVE_UP_HOURS = 30, 48
    monkeypatch.setattr(warcraftlogs, "_TOKENS", {})
    fake.waits = []
    monkeypatch.setattr(warcraftlogs, "_sleep", fake.waits.append)
    return fake


@pytest.fixture
def raid_config(db, fake_raid_helper):
    from raids.models import RaidHelperSettings

    return RaidHelperSettings.objects.create(server_id=fake_raid_helper.server_id, raid_channel_id=RAID_CHANNEL,
                                             leader_discord_id=LEADER, default_template_id="wowretail2")


@pytest.fixture
def make_player(db):
    from guildsync.models import DiscordUser, GuildRank, Player, Specialization, WowCharacter

    def make(name: str, *, rank: int | None = 3, discord: bool = True, auto_invite: bool = True,
             hiatus: bool = False, spec: tuple[str, str] | None = ("Holy", "Paladin"), main: bool = True,
             active: bool = True) -> Player:
        specialization = Specialization.objects.get(name=spec[0], wow_class__name=spec[1]) if spec else None
        user = None
        if discord:
            user = DiscordUser.objects.create(discord_id=next(_discord_ids), username=name.lower())
        character = None
        if main:
            character = WowCharacter.objects.create(character_name=name, realm_slug="silvermoon",
                                                    wow_class=specialization.wow_class if specialization else None,
                                                    active_spec=specialization)
        return Player.objects.create(
            display_name=name, discord_user=user, main_character=character, main_spec=specialization,
            guild_rank=GuildRank.objects.get(level=rank) if rank else None, is_active=active,
            auto_invite_events=auto_invite, on_raid_hiatus=hiatus,
        )

    return make


@pytest.fixture
def raid_night(db):
    from raids.models import RecurringEvent

    return RecurringEvent.objects.create(label="Heroic Progression", day_of_week=1,
                                         default_start_time=dt.time(20, 0), timezone="UTC",
                                         default_duration_minutes=180, raid_helper_template_id="wowretail2")


@pytest.fixture
def make_event(db):
    from raids.models import RaidEvent

    def make(recurring, start: dt.datetime, **fields) -> RaidEvent:
        start = start.replace(second=0, microsecond=0)  # raid nights start on the minute
        defaults = {"title": recurring.label if recurring else "One-off", "event_date": start.date(),
                    "start_time_utc": start, "end_time_utc": start + dt.timedelta(hours=3),
                    "recurring_event": recurring}
        defaults.update(fields)
        return RaidEvent.objects.create(**defaults)

    return make


@pytest.fixture(autouse=True)
def _reference_data(db):
    """Transactional tests flush the tables, reference rows included: load them back."""
    from tests.guildsync.conftest import load_reference_data

    load_reference_data()
