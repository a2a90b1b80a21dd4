"""Streak arithmetic across month and year boundaries (hypothesis)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from economy.services import EconomyError, next_streak, parse_streak_bonuses, streak_multiplier

days = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31))
BONUSES = parse_streak_bonuses({"8": 2, "16": 4, "32": 8, "64": 16})


@given(day=days, streak=st.integers(min_value=1, max_value=10_000))
def test_claim_the_next_day_extends(day, streak):
    assert next_streak(day, streak, day + dt.timedelta(days=1)) == streak + 1


@given(day=days, streak=st.integers(min_value=1, max_value=10_000), gap=st.integers(min_value=2, max_value=800))
def test_a_gap_resets_to_one(day, streak, gap):
    assert next_streak(day, streak, day + dt.timedelta(days=gap)) == 1


@given(day=days, back=st.integers(min_value=0, max_value=30))
def test_same_day_or_earlier_is_refused(day, back):
    with pytest.raises(EconomyError):
        next_streak(day, 3, day - dt.timedelta(days=back))


@given(start=days, length=st.integers(min_value=1, max_value=120))
def test_consecutive_claims_count_every_day(start, length):
    streak, last = 0, None
    for offset in range(length):
        today = start + dt.timedelta(days=offset)
        streak = next_streak(last, streak, today)
        last = today
    assert streak == length


@pytest.mark.parametrize(("last", "today"), [
    (dt.date(2025, 12, 31), dt.date(2026, 1, 1)), (dt.date(2024, 2, 28), dt.date(2024, 2, 29)),
    (dt.date(2024, 2, 29), dt.date(2024, 3, 1)), (dt.date(2026, 4, 30), dt.date(2026, 5, 1)),
])
def test_month_and_year_ends(last, today):
    assert next_streak(last, 5, today) == 6


@given(streak=st.integers(min_value=0, max_value=1000))
def test_multiplier_is_the_highest_reached_bonus(streak):
    expected = 16 if streak >= 64 else 8 if streak >= 32 else 4 if streak >= 16 else 2 if streak >= 8 else 1
    assert streak_multiplier(streak, BONUSES) == expected


@pytest.mark.django_db
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 12, 1)),
       gaps=st.lists(st.integers(min_value=1, max_value=3), min_size=1, max_size=12))
def test_award_daily_streaks_through_the_database(start, gaps):
    from economy import services
    from economy.models import BytesBalance, BytesConfig

    BytesBalance.objects.all().delete()
    BytesConfig.objects.update_or_create(guild_id=1, defaults={"starting_balance": 0, "daily_amount": 1})
    day, expected = start, 1
    assert services.award_daily(1, 42, day)[1] == 1
    for gap in gaps:
        day += dt.timedelta(days=gap)
        expected = expected + 1 if gap == 1 else 1
        balance, streak, amount = services.award_daily(1, 42, day)
        assert streak == expected == balance.streak_count and amount == streak_multiplier(streak, BONUSES)
