"""Ratmas fixtures: events built through the services, as an organiser would."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.utils import timezone

from ratmas import services
from ratmas.models import Event

GUILD = 111_000_000_000_000_001
CHANNEL = 222_000_000_000_000_001
ROLE = 333_000_000_000_000_001
USER0 = 444_000_000_000_000_000


def uid(i: int) -> int:
    return USER0 + i


@pytest.fixture
def make_event(db) -> Callable[..., Event]:
    """``make_event(n, status="open", guild=GUILD, **create_kwargs)``: n participants
    (user ids ``uid(1..n)``, names "Player i"), then moved to ``status`` through services."""

    def make(n: int = 0, status: str = "open", guild: int = GUILD, **kwargs) -> Event:
        now = timezone.now()
        kwargs.setdefault("announcement_channel_id", CHANNEL)
        kwargs.setdefault("budget", "20 EUR")
        event = services.create_event(guild, now + dt.timedelta(days=7), now + dt.timedelta(days=20),
                                      now + dt.timedelta(days=24), **kwargs)
        for i in range(1, n + 1):
            services.join(event, uid(i), f"Player {i}", f"https://wish.example/{i}")
        if status in ("locked", "matched", "notified"):
            services.set_status(event, "locked")
        if status in ("matched", "notified"):
            services.generate_pairings(event, seed=1)
        event.refresh_from_db()
        return event

    return make
