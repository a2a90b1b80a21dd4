"""Balances, transfers, dailies, adjustments, leaderboard, history and role rewards."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from bot.models import OutboxMessage
from economy import services
from economy.models import SYSTEM_ID, BytesBalance, BytesConfig, BytesTransaction, RoleRewardGrant
from economy.services import EconomyError
from tests.economy.conftest import ALICE, BOB, CAROL, GUILD, balance_of, make_balance
from tests.factories import bytes_config

pytestmark = pytest.mark.django_db


# -- the seed's Task 7 cases -----------------------------------------------------------------
def test_bytes_balance_creation():
    balance = make_balance(456, 100, guild_id=123)
    assert (balance.guild_id, balance.user_id, balance.balance) == (123, 456, 100)
    assert balance.total_received == 0 and balance.total_sent == 0


def test_daily_bytes_streak_over_a_month_end(config):
    # the seed built "tomorrow" as date(y, m, d + 1), which breaks on the 31st: use timedelta
    today = dt.date(2026, 1, 31)
    balance, streak, amount = services.award_daily(GUILD, ALICE, today)
    assert (balance.balance, streak, amount) == (10, 1, 10)
    balance, streak, amount = services.award_daily(GUILD, ALICE, today + dt.timedelta(days=1))
    assert (balance.balance, streak, amount) == (20, 2, 10)
    assert balance_of(ALICE).last_daily == dt.date(2026, 2, 1)


def test_leaderboard_query():
    for i in range(5):
        make_balance(i + 1, i * 100, guild_id=123)
    make_balance(1, 10_000, guild_id=999)  # another guild
    board = services.get_leaderboard(123, limit=3)
    assert [b.balance for b in board] == [400, 300, 200]


# -- balances --------------------------------------------------------------------------------
def test_get_or_create_balance_uses_starting_balance():
    bytes_config(starting_balance=75)
    first = services.get_or_create_balance(GUILD, ALICE)
    again = services.get_or_create_balance(GUILD, ALICE)
    assert first.pk == again.pk and again.balance == 75
    assert services.get_or_create_balance(GUILD + 1, ALICE).balance == 100  # default config


def test_database_refuses_negative_balance_and_non_positive_amount(config):
    make_balance(ALICE, 5)
    with pytest.raises(IntegrityError), transaction.atomic():
        BytesBalance.objects.filter(user_id=ALICE).update(balance=-1)
    with pytest.raises(IntegrityError), transaction.atomic():
        BytesTransaction.objects.create(guild_id=GUILD, giver_id=ALICE, giver_username="a", receiver_id=BOB,
                                        receiver_username="b", amount=0, created_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        make_balance(ALICE, 1)


# -- transfers -------------------------------------------------------------------------------
def test_transfer_moves_bytes_and_logs(config):
    make_balance(ALICE, 100)
    record = services.transfer(GUILD, ALICE, "alice", BOB, "bob", 30, "thanks for the carry")
    alice, bob = balance_of(ALICE), balance_of(BOB)
    assert (alice.balance, alice.total_sent, bob.balance, bob.total_received) == (70, 30, 30, 30)
    assert (record.giver_id, record.receiver_id, record.amount, record.kind) == (ALICE, BOB, 30, "transfer")
    assert record.reason == "thanks for the carry" and alice.last_transfer_at is not None


@pytest.mark.parametrize(("amount", "message"), [
    (0, "more than 0"), (-5, "more than 0"), (501, "at most 500"), (10**12, "at most 500"),
    (2.5, "whole number"), ("x", "whole number"),
])
def test_transfer_refuses_bad_amounts(config, amount, message):
    make_balance(ALICE, 1000)
    with pytest.raises(EconomyError, match=message):
        services.transfer(GUILD, ALICE, "alice", BOB, "bob", amount)
    assert balance_of(ALICE).balance == 1000 and not BytesTransaction.objects.exists()


def test_transfer_refuses_self_and_overdraft(config):
    make_balance(ALICE, 20)
    with pytest.raises(EconomyError, match="yourself"):
        services.transfer(GUILD, ALICE, "alice", ALICE, "alice", 5)
    with pytest.raises(EconomyError, match="only have 20"):
        services.transfer(GUILD, ALICE, "alice", BOB, "bob", 21)
    assert balance_of(ALICE).balance == 20
    assert not BytesBalance.objects.filter(user_id=BOB, balance__gt=0).exists()
    assert not BytesTransaction.objects.exists()


def test_transfer_cooldown(config):
    config.transfer_cooldown_hours = 2
    config.save()
    make_balance(ALICE, 100)
    services.transfer(GUILD, ALICE, "alice", BOB, "bob", 10)
    with pytest.raises(EconomyError, match="send bytes again <t:"):
        services.transfer(GUILD, ALICE, "alice", CAROL, "carol", 10)
    BytesBalance.objects.filter(user_id=ALICE).update(last_transfer_at=timezone.now() - dt.timedelta(hours=2, seconds=1))
    services.transfer(GUILD, ALICE, "alice", CAROL, "carol", 10)
    services.transfer(GUILD, BOB, "bob", ALICE, "alice", 5)  # the cooldown is per giver
    assert balance_of(ALICE).balance == 85


def test_new_giver_starts_with_the_starting_balance():
    bytes_config(starting_balance=50)
    services.transfer(GUILD, ALICE, "alice", BOB, "bob", 50)
    assert (balance_of(ALICE).balance, balance_of(BOB).balance) == (0, 100)


# -- dailies ---------------------------------------------------------------------------------
def test_daily_once_per_day_and_gap_resets(config):
    day = dt.date(2026, 3, 1)
    services.award_daily(GUILD, ALICE, day)
    with pytest.raises(EconomyError, match="already claimed"):
        services.award_daily(GUILD, ALICE, day)
    services.award_daily(GUILD, ALICE, day + dt.timedelta(days=1))
    balance, streak, amount = services.award_daily(GUILD, ALICE, day + dt.timedelta(days=3))
    assert (streak, amount, balance.balance) == (1, 10, 30)
    assert BytesTransaction.objects.filter(kind="daily", receiver_id=ALICE, giver_id=SYSTEM_ID).count() == 3


def test_daily_default_is_utc_today(config):
    balance, streak, _ = services.award_daily(GUILD, ALICE)
    assert balance.last_daily == timezone.now().astimezone(dt.UTC).date() and streak == 1


def test_daily_streak_bonus_multiplier(config):
    make_balance(ALICE, 0, last_daily=dt.date(2025, 12, 31), streak_count=7)
    _, streak, amount = services.award_daily(GUILD, ALICE, dt.date(2026, 1, 1))
    assert (streak, amount) == (8, 20)  # from 8 days: ×2
    BytesBalance.objects.filter(user_id=ALICE).update(streak_count=63)
    _, streak, amount = services.award_daily(GUILD, ALICE, dt.date(2026, 1, 2))
    assert (streak, amount) == (64, 160)  # from 64 days: ×16


def test_custom_streak_bonuses_and_validation(config):
    config.streak_bonuses = {"2": 3}
    services.save_settings(config)
    services.award_daily(GUILD, ALICE, dt.date(2026, 1, 1))
    assert services.award_daily(GUILD, ALICE, dt.date(2026, 1, 2))[2] == 30
    config.streak_bonuses = {"x": 1}
    with pytest.raises(EconomyError, match="whole numbers"):
        services.save_settings(config)
    config.streak_bonuses = {"2": 3}
    config.role_rewards = {"12": 0}
    with pytest.raises(EconomyError, match="positive"):
        services.save_settings(config)


# -- adjustments -----------------------------------------------------------------------------
def test_adjust_balance_credit_and_debit_are_logged_against_the_bank(config):
    make_balance(ALICE, 10)
    credit = services.adjust_balance(GUILD, ALICE, 40, "event prize", officer="mod1", username="alice")
    assert (credit.giver_id, credit.receiver_id, credit.amount) == (SYSTEM_ID, ALICE, 40)
    assert credit.giver_username == "Officer mod1" and credit.kind == "adjustment"
    debit = services.adjust_balance(GUILD, ALICE, -25, "duplicate reward", officer="mod1", username="alice")
    assert (debit.giver_id, debit.receiver_id, debit.amount) == (ALICE, SYSTEM_ID, 25)
    alice = balance_of(ALICE)
    assert (alice.balance, alice.total_received, alice.total_sent) == (25, 0, 0)


@pytest.mark.parametrize(("amount", "reason", "message"), [
    (0, "x", "not 0"), (5, "  ", "Say why"), (-26, "too much", "can't go below 0"), ("abc", "x", "whole number"),
])
def test_adjust_balance_refusals(config, amount, reason, message):
    make_balance(ALICE, 25)
    with pytest.raises(EconomyError, match=message):
        services.adjust_balance(GUILD, ALICE, amount, reason, officer="mod1")
    assert balance_of(ALICE).balance == 25 and not BytesTransaction.objects.exists()


# -- history ---------------------------------------------------------------------------------
def test_history_both_directions_newest_first(config):
    make_balance(ALICE, 100)
    make_balance(BOB, 100)
    services.transfer(GUILD, ALICE, "alice", BOB, "bob", 1)
    services.transfer(GUILD, BOB, "bob", ALICE, "alice", 2)
    services.transfer(GUILD, BOB, "bob", CAROL, "carol", 3)
    history = services.get_history(GUILD, ALICE, limit=10)
    assert [t.amount for t in history] == [2, 1]
    assert len(services.get_history(GUILD, BOB, limit=2)) == 2


# -- role rewards ----------------------------------------------------------------------------
def test_role_reward_granted_once_through_discord(config, deliver_outbox, fake_discord):
    config.role_rewards = {"333000000000000001": 50, "333000000000000002": 1000}
    config.save()
    make_balance(ALICE, 500)
    services.transfer(GUILD, ALICE, "alice", BOB, "bob", 30)
    assert not RoleRewardGrant.objects.exists()
    services.transfer(GUILD, ALICE, "alice", BOB, "bob", 30)  # crosses 50
    services.transfer(GUILD, ALICE, "alice", BOB, "bob", 30)  # still above: no second grant
    services.award_daily(GUILD, BOB, dt.date(2026, 1, 1))
    [grant] = RoleRewardGrant.objects.all()
    assert (grant.user_id, grant.role_id, grant.threshold) == (BOB, 333000000000000001, 50)
    assert OutboxMessage.objects.filter(kind="add_role", topic="economy.role_reward").count() == 1
    deliver_outbox()
    assert fake_discord.roles[(GUILD, BOB)] == {333000000000000001}
    assert ALICE not in {u for _, u in fake_discord.roles}


def test_transfer_in_a_guild_without_config_uses_the_defaults():
    with pytest.raises(EconomyError, match="only have 100"):
        services.transfer(GUILD, ALICE, "alice", BOB, "bob", 101)
    with pytest.raises(EconomyError, match="at most 1,000"):
        services.transfer(GUILD, ALICE, "alice", BOB, "bob", 1001)
    assert not BytesBalance.objects.exists()  # refused before any account was opened
    services.transfer(GUILD, ALICE, "alice", BOB, "bob", 100)  # both accounts opened with 100
    assert (balance_of(ALICE).balance, balance_of(BOB).balance) == (0, 200)
    with pytest.raises(EconomyError, match="at most 1,000"):
        services.transfer(GUILD, BOB, "bob", ALICE, "alice", 1001)
    assert not BytesConfig.objects.exists()  # reading the defaults wrote nothing


def test_the_bank_is_not_a_member(config):
    make_balance(ALICE, 10)
    with pytest.raises(EconomyError, match="not a Discord member"):
        services.transfer(GUILD, ALICE, "alice", SYSTEM_ID, "bank", 5)
    with pytest.raises(EconomyError, match="not a Discord member"):
        services.award_daily(GUILD, SYSTEM_ID)
