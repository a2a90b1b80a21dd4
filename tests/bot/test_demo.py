"""seed_demo for the outbox: one row in every state, idempotent."""

from __future__ import annotations

import io

import pytest

from bot.demo import seed_demo
from bot.models import OutboxMessage


@pytest.mark.django_db
def test_outbox_demo_has_every_state_once():
    for _ in range(2):
        seed_demo(io.StringIO())
    rows = {r.status: r for r in OutboxMessage.objects.filter(topic="demo")}
    assert set(rows) == set(OutboxMessage.Status.values) and OutboxMessage.objects.filter(topic="demo").count() == 5
    assert rows["failed"].last_error_code == 50007 and rows["sent"].sent_at is not None
    assert rows["cancelled"].last_error.startswith("withdrawn")
