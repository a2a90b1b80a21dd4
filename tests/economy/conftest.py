"""Shared helpers of the economy tests (thin wrappers of tests/factories.py)."""

from __future__ import annotations

import pytest

from tests import factories
from tests.factories import ECONOMY_GUILD as GUILD
from tests.factories import balance_of
from tests.factories import bytes_balance as make_balance

__all__ = ["ALICE", "BOB", "CAROL", "GUILD", "balance_of", "make_balance"]

ALICE = 222_000_000_000_000_001
BOB = 222_000_000_000_000_002
CAROL = 222_000_000_000_000_003


@pytest.fixture
def config(db):
    """A guild config with no starting balance, so sums are easy to follow."""
    return factories.bytes_config(daily_amount=10, max_transfer=500)
