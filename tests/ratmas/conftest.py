"""Ratmas fixtures: events built through the services, as an organiser would (thin wrappers of
tests/factories.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ratmas.models import Event
from tests import factories
from tests.factories import RATMAS_CHANNEL as CHANNEL
from tests.factories import RATMAS_GUILD as GUILD
from tests.factories import RATMAS_ROLE as ROLE
from tests.factories import ratmas_uid as uid

__all__ = ["CHANNEL", "GUILD", "ROLE", "uid"]


@pytest.fixture
def make_event(db) -> Callable[..., Event]:
    """``make_event(n, status="open", guild=GUILD, **create_kwargs)``: n participants
    (user ids ``uid(1..n)``, names "Player i"), then moved to ``status`` through services."""
    return factories.ratmas_event
