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
    def rows() -> list[int]:
        return [model.objects.count() for model in (Alliance, Governor, Match, Signup, OutboxMessage, AuditLog)]

    seed_demo(io.StringIO())
    counts = rows()
    out = io.StringIO()
    seed_demo(out)
    assert rows() == counts
    assert counts[:4] == [2, 12, 3, 16]
    match = Match.objects.get(alliance__name="Osiris Vanguard")
    assert match.status == "Scheduled" and match.signups.filter(slot="Player").count() == 7
    started = Match.objects.get(alliance__name="Desert Lions", match_time_utc__lt=timezone.now())  # result to record
    assert started.status == "Locked" and started.result == "" and started.match_time_utc < timezone.now()
    assert started.signups.filter(status="Active").count() == 4
    assert "7 signups" in out.getvalue()
    # the season: a calendar, governors with stats, a locked match with a published draft
    from ark.models import ArkCalendar, MessageRef

    assert ArkCalendar.objects.get().slots == ["Sat 12:00", "Sat 20:00", "Sun 04:00"]
    assert not Governor.objects.filter(power__isnull=True).exists()
    drafted = Match.objects.get(alliance__name="Desert Lions", draft_published_at__isnull=False)
    assert drafted.status == "Locked" and drafted.match_time_utc > timezone.now()
    teams = sorted(drafted.signups.filter(status="Active").values_list("team", flat=True))
    assert teams == [1, 1, 1, 2, 2]
    assert MessageRef.objects.filter(match=drafted, kind="draft").exists()
    assert OutboxMessage.objects.filter(topic="ark.draft").count() == 1
