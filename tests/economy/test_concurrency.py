"""Races proven with real parallel connections on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from economy import services
from economy.models import BytesBalance, BytesTransaction, Squad, SquadMembership
from economy.services import EconomyError
from tests.economy.conftest import ALICE, BOB, GUILD, balance_of, make_balance
from tests.factories import bytes_config

pytestmark = pytest.mark.django_db(transaction=True)


def test_fifty_simultaneous_daily_claims_award_once(run_in_parallel):
    bytes_config(daily_amount=10)
    today = dt.date(2026, 2, 28)
    results = run_in_parallel(lambda i: services.award_daily(GUILD, ALICE, today), 50)
    awarded = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, EconomyError)]
    assert len(awarded) == 1 and len(refused) == 49, [r for r in results if not isinstance(r, tuple | EconomyError)]
    alice = balance_of(ALICE)
    assert (alice.balance, alice.streak_count, alice.last_daily) == (10, 1, today)
    assert BytesTransaction.objects.filter(kind="daily").count() == 1


def test_opposite_transfers_under_load_never_deadlock(run_in_parallel):
    bytes_config(max_transfer=1000)
    make_balance(ALICE, 5000)
    make_balance(BOB, 5000)

    def worker(i):
        outcomes = []
        for n in range(15):
            if (i + n) % 2:
                outcomes.append(services.transfer(GUILD, ALICE, "alice", BOB, "bob", 1 + (i * n) % 7))
            else:
                outcomes.append(services.transfer(GUILD, BOB, "bob", ALICE, "alice", 1 + (i + n) % 5))
        return outcomes

    results = run_in_parallel(worker, 12)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors
    alice, bob = balance_of(ALICE), balance_of(BOB)
    assert alice.balance + bob.balance == 10_000
    assert BytesTransaction.objects.count() == 12 * 15
    assert alice.total_sent == bob.total_received and bob.total_sent == alice.total_received


def test_random_transfers_conserve_bytes_and_never_go_negative(run_in_parallel):
    bytes_config(max_transfer=100)
    users = [ALICE + i for i in range(6)]
    for u in users:
        make_balance(u, 60)

    def worker(i):
        rng = random.Random(i)
        done = 0
        for _ in range(20):
            giver, receiver = rng.sample(users, 2)
            try:
                services.transfer(GUILD, giver, "g", receiver, "r", rng.randint(1, 80))
                done += 1
            except EconomyError:
                pass  # not enough bytes: refused cleanly
        return done

    results = run_in_parallel(worker, 8)
    assert all(isinstance(r, int) for r in results), results
    balances = list(BytesBalance.objects.filter(guild_id=GUILD).values_list("balance", flat=True))
    assert sum(balances) == 360 and min(balances) >= 0
    assert BytesTransaction.objects.count() == sum(results)


def test_concurrent_squad_joins_never_exceed_max_members(run_in_parallel):
    squad = Squad.objects.create(guild_id=GUILD, role_id=444, name="Bandits", max_members=3)
    results = run_in_parallel(lambda i: services.join_squad(GUILD, ALICE + i, squad.pk), 12)
    joined = [r for r in results if isinstance(r, tuple)]
    full = [r for r in results if isinstance(r, EconomyError) and "full" in str(r)]
    assert len(joined) == 3 and len(full) == 9, results
    assert SquadMembership.objects.filter(squad=squad).count() == 3


def test_one_member_racing_to_two_squads_ends_in_one(run_in_parallel):
    a = Squad.objects.create(guild_id=GUILD, role_id=1, name="A")
    b = Squad.objects.create(guild_id=GUILD, role_id=2, name="B")
    bytes_config()
    results = run_in_parallel(lambda i: services.join_squad(GUILD, ALICE, (a, b)[i % 2].pk), 6)
    assert not [r for r in results if not isinstance(r, tuple | EconomyError)], results
    assert SquadMembership.objects.filter(user_id=ALICE).count() == 1
    assert balance_of(ALICE).balance == 0  # no bytes: every switch refused, only the first join went in


def test_first_transfers_of_new_members_race_safely(run_in_parallel):
    bytes_config(starting_balance=100)
    pairs = [(ALICE, BOB), (BOB, ALICE), (ALICE + 7, ALICE), (BOB, ALICE + 7)]
    results = run_in_parallel(lambda i: services.transfer(GUILD, *pairs[i % 4][:1], "g", pairs[i % 4][1], "r", 1), 16)
    assert not [r for r in results if isinstance(r, BaseException)], results
    balances = list(BytesBalance.objects.filter(guild_id=GUILD).values_list("balance", flat=True))
    assert len(balances) == 3 and sum(balances) == 300
