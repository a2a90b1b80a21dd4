"""Fixtures of the raids tests: the fake Raid-Helper server, settings, players, raid nights
(thin wrappers of tests/factories.py)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from guildsync.services.reference import load_reference_data
from tests import factories
from tests.factories import RAID_CHANNEL
from tests.factories import RAID_LEADER as LEADER
from tests.fakes.http import session_fake, use_fake
from tests.fakes.raid_helper_api import FakeRaidHelper
from tests.fakes.warcraftlogs_api import FakeWarcraftLogs

__all__ = ["LEADER", "RAID_CHANNEL", "add_report"]

_fake_raid_helper_server = session_fake(FakeRaidHelper)


@pytest.fixture
def fake_raid_helper(_fake_raid_helper_server, settings, monkeypatch) -> FakeRaidHelper:
    from raids import clients

    monkeypatch.setattr(clients, "SIGNUP_PACER", clients.Pacer())  # a fresh window per test
    monkeypatch.setattr(clients, "PACE_KEY", f"raids:test-signups:{uuid.uuid4().hex}")  # the shared one too
    monkeypatch.setattr(clients, "GET_RETRY_DELAY", 0.01)
    return use_fake(_fake_raid_helper_server, settings, RAID_HELPER_API_BASE=_fake_raid_helper_server.base_url,
                    RAID_HELPER_API_KEY=FakeRaidHelper.api_key, RAID_HELPER_HTTP_TIMEOUT=2.0)


_fake_wcl_server = session_fake(FakeWarcraftLogs)


@pytest.fixture
def fake_wcl(_fake_wcl_server, settings, monkeypatch) -> FakeWarcraftLogs:
    """The fake Warcraft Logs with the credentials and guild in the settings; the token cache
    is emptied and rate-limit waits are recorded in ``fake.waits`` instead of slept."""
    from raids import warcraftlogs

    fake = _fake_wcl_server
    use_fake(fake, settings, **fake.client_settings(), WCL_HTTP_TIMEOUT=2.0,
             WCL_IMPORT_AFTER_MINUTES=30, WCL_IMPORT_GIVE_UP_HOURS=48)
    monkeypatch.setattr(warcraftlogs, "_TOKENS", {})
    fake.waits = []
    monkeypatch.setattr(warcraftlogs, "_sleep", fake.waits.append)
    return fake


@pytest.fixture
def raid_config(db, fake_raid_helper):
    return factories.raid_config(fake_raid_helper.server_id)


@pytest.fixture
def make_player(db):
    """``make_player(name, rank=3, discord=True, auto_invite=True, hiatus=False, spec=("Holy", "Paladin"),
    main=True, active=True)``."""
    return factories.raid_player


@pytest.fixture
def raid_night(db):
    return factories.raid_night()


@pytest.fixture
def make_event(db):
    """``make_event(recurring, start, **fields)``: one raid starting at ``start``."""
    return factories.raid_event


@pytest.fixture
def finished_event(make_event, raid_night, fake_raid_helper):
    """A raid night that ended an hour ago, with its Raid-Helper event: ``(event, raid_helper_event)``."""
    start = timezone.now() - dt.timedelta(hours=4)
    rh = fake_raid_helper.add_event(raid_night.label, start)
    return make_event(raid_night, start, raid_helper_event_id=rh["id"]), rh


@pytest.fixture
def linked_player(make_player):
    """A player whose main character is linked to them (guildsync.PlayerCharacter; the database
    requires a main to be the player's own, so every factory player's main is linked)."""
    return make_player


@pytest.fixture
def ended_raid(raid_night, make_event):
    """Tonight's raid, 20:00–23:00, ended an hour ago."""
    return make_event(raid_night, timezone.now() - dt.timedelta(hours=4))


def add_report(fake, event, players, code="aBcD1234eFgH5678", **kwargs):
    """A Warcraft Logs report of ``event`` on the fake, from 10 minutes before it to 5 after."""
    start = event.start_time_utc - dt.timedelta(minutes=10)
    return fake.add_report(code, start, event.end_time_utc + dt.timedelta(minutes=5), players, **kwargs)


@pytest.fixture(autouse=True)
def _reference_data(db):
    """Transactional tests flush the tables, reference rows included: load them back."""
    load_reference_data()
