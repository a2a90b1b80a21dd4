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


def test_demo_problems_are_the_deliberate_ones():
    seed_demo(io.StringIO())
    open_issues = AuditIssue.objects.filter(resolved_at__isnull=True)
    assert open_issues.filter(issue_type="orphan_discord").count() == 5
    assert open_issues.filter(issue_type="rank_mismatch").count() == 1
    assert open_issues.filter(issue_type="stale_character").count() == 1
    orphans = set(open_issues.filter(issue_type="orphan_wow").values_list("wow_character__character_name",
                                                                          flat=True))
    # three strays, and a main whose player never joined the Discord server
    assert {"Nobodyknows", "Wanderlust", "Quietstorm"} < orphans and len(orphans) == 4
