"""Ark fixtures: a fixed clock in the future, alliances, governors and a match factory (thin
wrappers of tests/factories.py, under the names the Ark tests use)."""

from __future__ import annotations

import pytest

from ark.models import Alliance, Governor
from tests import factories
from tests.factories import ARK_CLOSE as CLOSE
from tests.factories import ARK_CONF_CHANNEL as CONF_CHANNEL
from tests.factories import ARK_NOW as NOW
from tests.factories import ARK_OFFICER as OFFICER
from tests.factories import ARK_REG_CHANNEL as REG_CHANNEL
from tests.factories import ARK_START as START
from tests.factories import ARK_WEEKEND as WEEKEND
from tests.factories import ark_sign as sign
from tests.factories import ark_user as user

__all__ = ["CLOSE", "CONF_CHANNEL", "NOW", "OFFICER", "REG_CHANNEL", "START", "WEEKEND", "sign", "user"]


@pytest.fixture
def alliance(db) -> Alliance:
    return factories.ark_alliance("Osiris Guard", player_cap=3, sub_cap=2)


@pytest.fixture
def other_alliance(db) -> Alliance:
    return factories.ark_alliance("Nile Wolves", offset=10)


@pytest.fixture
def governors(db) -> list[Governor]:
    """Ten governors; user(1) owns governors 1 and 11 (a main and a farm)."""
    return factories.ark_governors()


@pytest.fixture
def make_match(db, alliance):
    def make(ally=None, **kwargs):
        return factories.ark_match(ally or alliance, **kwargs)

    return make


@pytest.fixture
def match(make_match):
    return make_match()


@pytest.fixture(autouse=True)
def ark_cadence(db):
    """The game's fortnightly cadence, anchored so that the fixed clock's weekend is an Ark weekend."""
    return factories.ark_cadence()
