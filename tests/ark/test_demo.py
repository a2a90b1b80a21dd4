"""seed_demo for ark: realistic and idempotent."""

from __future__ import annotations

import io

import pytest
from django.utils import timezone

from ark.demo import seed_demo
from ark.models import Alliance, AuditLog, Governor, Match, Signup
from bot.models import OutboxMessage


@pytest.mark.django_db
def test_seed_demo_is_idempotent():
    seed_demo(io.StringIO())
    counts = [
        Alliance.objects.count(),
        Governor.objects.count(),
        Match.objects.count(),
        Signup.objects.count(),
        OutboxMessage.objects.count(),
        AuditLog.objects.count(),
    ]
    out = io.StringIO()
    seed_demo(out)
    assert [
        Alliance.objects.count(),
        Governor.objects.count(),
        Match.objects.count(),
        Signup.objects.count(),
        OutboxMessage.objects.count(),
        AuditLog.objects.count(),
    ] == counts
    assert counts[:4] == [2, 12, 2, 11]
    match = Match.objects.get(alliance__name="Osiris Vanguard")
    assert match.status == "Scheduled" and match.signups.filter(slot="Player").count() == 7
    started = Match.objects.get(alliance__name="Desert Lions")  # recording its result can be tried
    assert started.status == "Locked" and started.result == "" and started.match_time_utc < timezone.now()
    assert started.signups.filter(status="Active").count() == 4
    assert "7 signups" in out.getvalue()
