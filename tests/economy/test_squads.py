"""Squads: join, switch with cost, full squads, leave, default squad on the first daily."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.models import OutboxMessage
from economy import services
from economy.models import BytesTransaction, Squad, SquadMembership
from economy.services import EconomyError
from tests.economy.conftest import ALICE, BOB, CAROL, GUILD, balance_of, make_balance

pytestmark = pytest.mark.django_db

RED, BLUE = 555_000_000_000_000_001, 555_000_000_000_000_002


@pytest.fixture
def squads(config):
    red = Squad.objects.create(guild_id=GUILD, role_id=RED, name="Red", switch_cost=50, is_default=True,
                               welcome_message="Welcome to Red!")
    blue = Squad.objects.create(guild_id=GUILD, role_id=BLUE, name="Blue", switch_cost=30, max_members=1)
    return red, blue


def test_first_join_is_free_then_switching_costs_and_moves_roles(squads, deliver_outbox, fake_discord):
    red, blue = squads
    make_balance(ALICE, 100)
    assert services.join_squad(GUILD, ALICE, red.pk, "alice") == (red, 0)
    assert balance_of(ALICE).balance == 100
    squad, cost = services.join_squad(GUILD, ALICE, blue.pk, "alice")
    assert (squad, cost) == (blue, 30)
    alice = balance_of(ALICE)
    assert (alice.balance, alice.total_sent) == (70, 30)
    fee = BytesTransaction.objects.get(kind="squad_switch")
    assert (fee.giver_id, fee.amount, fee.reason) == (ALICE, 30, "Switched from Red to Blue")
    assert SquadMembership.objects.get(user_id=ALICE).squad == blue
    deliver_outbox()
    assert fake_discord.roles[(GUILD, ALICE)] == {BLUE}
    assert [m["content"] for m in fake_discord.dms_to(ALICE)] == ["Welcome to Red!", "Welcome to **Blue**!"]


def test_switch_without_enough_bytes_changes_nothing(squads):
    red, blue = squads
    make_balance(ALICE, 10)
    services.join_squad(GUILD, ALICE, blue.pk)
    with pytest.raises(EconomyError, match="costs 50 bytes; you have 10"):
        services.join_squad(GUILD, ALICE, red.pk)
    assert SquadMembership.objects.get(user_id=ALICE).squad == blue
    assert balance_of(ALICE).balance == 10 and not BytesTransaction.objects.exists()
    assert not OutboxMessage.objects.filter(kind="remove_role").exists()


def test_full_squad_and_same_squad_and_closed_squad_are_refused(squads):
    red, blue = squads
    services.join_squad(GUILD, ALICE, blue.pk)
    with pytest.raises(EconomyError, match="Blue is full"):
        services.join_squad(GUILD, BOB, blue.pk)
    with pytest.raises(EconomyError, match="already in Blue"):
        services.join_squad(GUILD, ALICE, blue.pk)
    red.is_active = False
    red.save()
    with pytest.raises(EconomyError, match="closed"):
        services.join_squad(GUILD, BOB, red.pk)
    with pytest.raises(EconomyError, match="closed"):
        services.join_squad(GUILD + 1, BOB, blue.pk)  # another guild's squad


def test_leave_squad(squads, deliver_outbox, fake_discord):
    red, _ = squads
    services.join_squad(GUILD, ALICE, red.pk)
    assert services.leave_squad(GUILD, ALICE) == red
    with pytest.raises(EconomyError, match="not in a squad"):
        services.leave_squad(GUILD, ALICE)
    deliver_outbox()
    assert fake_discord.roles[(GUILD, ALICE)] == set()


def test_default_squad_on_first_daily_only(squads):
    red, blue = squads
    services.award_daily(GUILD, ALICE, dt.date(2026, 1, 1))
    assert SquadMembership.objects.get(user_id=ALICE).squad == red
    services.join_squad(GUILD, BOB, blue.pk)
    services.award_daily(GUILD, BOB, dt.date(2026, 1, 1))
    assert SquadMembership.objects.get(user_id=BOB).squad == blue  # already in a squad: left alone


def test_full_default_squad_is_skipped(squads):
    red, _ = squads
    red.max_members = 1
    red.save()
    services.award_daily(GUILD, ALICE, dt.date(2026, 1, 1))
    services.award_daily(GUILD, BOB, dt.date(2026, 1, 1))
    assert not SquadMembership.objects.filter(user_id=BOB).exists()


def test_list_info_and_members(squads):
    red, blue = squads
    for user in (ALICE, BOB, CAROL):
        services.join_squad(GUILD, user, red.pk)
    listed = {s.name: s.member_count for s in services.list_squads(GUILD)}
    assert listed == {"Red": 3, "Blue": 0}
    assert services.get_squad(GUILD, "red").member_count == 3
    assert services.get_squad(GUILD, str(blue.pk)) == blue
    with pytest.raises(EconomyError, match="no squad called Green"):
        services.get_squad(GUILD, "Green")
    assert [m.user_id for m in services.squad_members(red)] == [ALICE, BOB, CAROL]
    assert services.member_squad(GUILD, ALICE) == red


def test_one_default_squad_per_guild(squads):
    extra = Squad(guild_id=GUILD, role_id=999, name="Green", is_default=True)
    with pytest.raises(EconomyError):
        services.save_settings(extra)


def test_squad_names_are_unique_per_guild_ignoring_case(squads):
    with pytest.raises(EconomyError):
        services.save_settings(Squad(guild_id=GUILD, role_id=777, name="RED"))
    services.save_settings(Squad(guild_id=GUILD + 1, role_id=777, name="Red"))
