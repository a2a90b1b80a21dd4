"""Shared helpers of the economy tests."""

from __future__ import annotations

import pytest

from economy.models import BytesBalance, BytesConfig

GUILD = 111_000_000_000_000_001
ALICE = 222_000_000_000_000_001
BOB = 222_000_000_000_000_002
CAROL = 222_000_000_000_000_003


@pytest.fixture
def config(db):
    """A guild config with no starting balance, so sums are easy to follow."""
    return BytesConfig.objects.create(guild_id=GUILD, starting_balance=0, daily_amount=10, max_transfer=500)


def make_balance(user_id: int, balance: int, guild_id: int = GUILD, **extra) -> BytesBalance:
    return BytesBalance.objects.create(guild_id=guild_id, user_id=user_id, balance=balance, **extra)


def balance_of(user_id: int, guild_id: int = GUILD) -> BytesBalance:
    return BytesBalance.objects.get(guild_id=guild_id, user_id=user_id)
