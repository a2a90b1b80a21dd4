"""Ark fixtures: a fixed clock in the future, alliances, governors and a match factory."""

from __future__ import annotations

import datetime as dt

import pytest

from ark import services
from ark.models import Alliance, Governor

# A Wednesday; the match is on the Saturday after it.
NOW = dt.datetime(2030, 3, 6, 12, 0, tzinfo=dt.UTC)
WEEKEND = dt.date(2030, 3, 9)
START = dt.datetime(2030, 3, 9, 12, 0, tzinfo=dt.UTC)
CLOSE = dt.datetime(2030, 3, 8, 20, 0, tzinfo=dt.UTC)
REG_CHANNEL = 111_000_000_000_000_001
CONF_CHANNEL = 111_000_000_000_000_002
OFFICER = 999_000_000_000_000_001


def user(n: int) -> int:
    return 700_000_000_000_000_000 + n


@pytest.fixture
def alliance(db) -> Alliance:
    return Alliance.objects.create(
        name="Osiris Guard",
        registration_channel_id=REG_CHANNEL,
        confirmation_channel_id=CONF_CHANNEL,
        player_cap=3,
        sub_cap=2,
    )


@pytest.fixture
def other_alliance(db) -> Alliance:
    return Alliance.objects.create(
        name="Nile Wolves",
        registration_channel_id=REG_CHANNEL + 10,
        confirmation_channel_id=CONF_CHANNEL + 10,
    )


@pytest.fixture
def governors(db) -> list[Governor]:
    """Ten governors; user(1) owns governors 1 and 11 (a main and a farm)."""
    govs = [
        Governor.objects.create(governor_id=n, name=f"Gov{n}", discord_user_id=user(n)) for n in range(1, 11)
    ]
    govs.append(Governor.objects.create(governor_id=11, name="Gov1-farm", discord_user_id=user(1)))
    return govs


@pytest.fixture
def make_match(db, alliance):
    def make(ally=None, *, weekend=WEEKEND, day="Sat", start=START, close=CLOSE, now=NOW, **kwargs):
        return services.create_match(
            alliance=ally or alliance,
            ark_weekend_date=weekend,
            match_day=day,
            match_time_utc=start,
            signup_close_utc=close,
            actor_discord_id=OFFICER,
            now=now,
            **kwargs,
        )

    return make


@pytest.fixture
def match(make_match):
    return make_match()


def sign(match, n: int, **kwargs):
    kwargs.setdefault("now", NOW)
    return services.add_signup(
        match_id=match.pk,
        governor_id=n,
        discord_user_id=user(1) if n == 11 else user(n),
        actor_discord_id=user(n),
        **kwargs,
    )


@pytest.fixture(autouse=True)
def ark_cadence(db):
    """The game's fortnightly cadence, anchored so that the fixed clock's weekend is an Ark weekend."""
    from ark.models import ArkSettings

    return ArkSettings.objects.create(pk=1, cadence_weekends=2, anchor_weekend=WEEKEND)
