"""The demo guild: realistic size, deliberate problems, idempotent."""

from __future__ import annotations

import io

import pytest

from guildsync.demo import seed_demo
from guildsync.models import AuditIssue, DiscordUser, Player, PlayerCharacter, WowCharacter

pytestmark = pytest.mark.django_db


def snapshot():
    return (WowCharacter.objects.count(), DiscordUser.objects.count(), Player.objects.count(),
            PlayerCharacter.objects.count(), AuditIssue.objects.count())


def test_seed_demo_is_realistic_and_idempotent():
    out = io.StringIO()
    seed_demo(out)
    first = snapshot()
    assert first[0] >= 150 and first[1] >= 100 and first[2] >= 60
    assert PlayerCharacter.objects.filter(link_source="alt_note").count() >= 40
    assert PlayerCharacter.objects.filter(link_source="note").exists()
    assert PlayerCharacter.objects.filter(link_source="manual").count() == 1
    types = set(AuditIssue.objects.values_list("issue_type", flat=True))
    assert {"orphan_wow", "orphan_discord", "rank_mismatch", "stale_character"} <= types
    seed_demo(out)
    assert snapshot() == first
    assert "characters" in out.getvalue()
