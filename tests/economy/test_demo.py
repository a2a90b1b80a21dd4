"""seed_demo for the economy: realistic and idempotent."""

from __future__ import annotations

import io

import pytest

from bot.models import OutboxMessage
from economy.demo import DEMO_GUILD, seed_demo
from economy.models import AutoModRule, BytesBalance, BytesConfig, BytesTransaction, ModerationCase, Squad

pytestmark = pytest.mark.django_db


def snapshot():
    return (
        list(BytesBalance.objects.filter(guild_id=DEMO_GUILD).order_by("user_id").values_list("user_id", "balance")),
        BytesTransaction.objects.filter(guild_id=DEMO_GUILD).count(),
        list(Squad.objects.filter(guild_id=DEMO_GUILD).values_list("name", "switch_cost").order_by("name")),
        AutoModRule.objects.filter(guild_id=DEMO_GUILD).count(),
        ModerationCase.objects.filter(guild_id=DEMO_GUILD).count(),
        BytesConfig.objects.filter(guild_id=DEMO_GUILD).count(),
    )


def test_seed_demo_is_realistic_and_idempotent():
    seed_demo(io.StringIO())
    first = snapshot()
    balances, transactions, squads, rules, cases, configs = first
    assert len(balances) == 30 and all(b >= 0 for _, b in balances)
    assert transactions > 300 and len(squads) == 3 and rules == 5 and cases == 4 and configs == 1
    queued = OutboxMessage.objects.filter(topic__startswith="economy.")
    assert queued.exists() and not queued.exclude(status="cancelled").exists()  # withdrawn, not deleted
    assert set(queued.values_list("last_error", flat=True)) == {"withdrawn: demo guild is not a real server"}
    seed_demo(io.StringIO())
    assert snapshot() == first
