"""PostgreSQL's one-statement transfer (``economy_transfer()``, migration 0003), outside any
transaction as the bot and the benchmark call it: one statement, the same refusals as the ORM
path, and a transfer that makes a role reward due is granted in the SAME transaction."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bot import outbox
from bot.models import OutboxMessage
from economy import services
from economy.models import BytesBalance, BytesTransaction, RoleRewardGrant
from economy.services import EconomyError
from tests.economy.conftest import ALICE, BOB, CAROL, GUILD, balance_of, make_balance
from tests.factories import bytes_config

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the function exists on PostgreSQL only"),
]
REWARD_ROLE = 333_000_000_000_000_001


def test_a_plain_transfer_is_one_statement():
    bytes_config(max_transfer=500)
    make_balance(ALICE, 100)
    make_balance(BOB, 0)
    assert not connection.in_atomic_block
    with CaptureQueriesContext(connection) as queries:
        record = services.transfer(GUILD, ALICE, "alice", BOB, "bob", 40, " gg ")
    assert len(queries) == 1 and "economy_transfer(" in queries[0]["sql"]
    stored = BytesTransaction.objects.get()
    assert (stored.pk, stored.amount, stored.reason, stored.giver_username) == (record.pk, 40, "gg", "alice")
    alice, bob = balance_of(ALICE), balance_of(BOB)
    assert (alice.balance, alice.total_sent, bob.balance, bob.total_received) == (60, 40, 40, 40)
    assert alice.last_transfer_at == record.created_at and bob.last_transfer_at is None


def test_refusals_outside_a_transaction_write_nothing():
    bytes_config(max_transfer=500, transfer_cooldown_hours=1)
    make_balance(ALICE, 100)
    make_balance(BOB, 0)
    with pytest.raises(EconomyError, match="^You can send at most 500 bytes at once.$"):
        services.transfer(GUILD, ALICE, "alice", BOB, "bob", 501)
    with pytest.raises(EconomyError, match="^You only have 100 bytes.$"):
        services.transfer(GUILD, ALICE, "alice", BOB, "bob", 101)
    assert not BytesTransaction.objects.exists() and balance_of(ALICE).last_transfer_at is None
    services.transfer(GUILD, ALICE, "alice", BOB, "bob", 10)
    ready = balance_of(ALICE).last_transfer_at + dt.timedelta(hours=1)
    with pytest.raises(EconomyError) as refused:
        services.transfer(GUILD, ALICE, "alice", CAROL, "carol", 10)
    assert str(refused.value) == f"You can send bytes again <t:{int(ready.timestamp())}:R>."
    assert BytesTransaction.objects.count() == 1 and balance_of(ALICE).balance == 90
    assert not BytesBalance.objects.filter(user_id=CAROL, balance__gt=0).exists()


def test_a_transfer_reaching_a_reward_grants_it_in_the_same_transaction(monkeypatch):
    bytes_config(role_rewards={str(REWARD_ROLE): 50})
    make_balance(ALICE, 500)
    make_balance(BOB, 0, total_received=30)
    with CaptureQueriesContext(connection) as queries:
        services.transfer(GUILD, ALICE, "alice", BOB, "bob", 10)  # 40 < 50: the fast path
    assert len(queries) == 1 and not RoleRewardGrant.objects.exists()

    def broken_add_role(*args, **kwargs):
        raise RuntimeError("outbox down")

    monkeypatch.setattr(outbox, "add_role", broken_add_role)
    with pytest.raises(RuntimeError):
        services.transfer(GUILD, ALICE, "alice", BOB, "bob", 10)  # reaches 50: grant fails → no transfer
    assert (balance_of(ALICE).balance, balance_of(BOB).total_received) == (490, 40)
    assert BytesTransaction.objects.count() == 1 and not RoleRewardGrant.objects.exists()

    monkeypatch.undo()
    services.transfer(GUILD, ALICE, "alice", BOB, "bob", 10)
    [grant] = RoleRewardGrant.objects.all()
    assert (grant.user_id, grant.role_id, grant.threshold) == (BOB, REWARD_ROLE, 50)
    assert OutboxMessage.objects.filter(kind="add_role", topic="economy.role_reward").count() == 1
    with CaptureQueriesContext(connection) as queries:
        services.transfer(GUILD, ALICE, "alice", BOB, "bob", 10)  # already granted: the fast path again
    assert len(queries) == 1 and RoleRewardGrant.objects.count() == 1
    assert balance_of(BOB).balance == 30 and balance_of(ALICE).balance == 470


def test_a_reward_configured_later_is_granted_on_the_next_receipt():
    config = bytes_config()
    make_balance(ALICE, 500)
    services.transfer(GUILD, ALICE, "alice", BOB, "bob", 100)
    config.role_rewards = {str(REWARD_ROLE): 50}
    services.save_settings(config)
    services.transfer(GUILD, ALICE, "alice", BOB, "bob", 1)
    assert RoleRewardGrant.objects.filter(user_id=BOB, role_id=REWARD_ROLE).count() == 1
