"""integrity_checker (seed Task 10): detection, dedup by hash, officer closes, auto-close."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from guildsync.models import AuditIssue
from guildsync.services import integrity_checker as ic

pytestmark = pytest.mark.django_db


def open_issues(issue_type: str | None = None):
    qs = AuditIssue.objects.filter(resolved_at__isnull=True)
    return qs.filter(issue_type=issue_type) if issue_type else qs


def test_orphan_wow_detected(make):
    char = make.character("Lonely")
    make.player("Linked", characters=[make.character("Fine")])
    make.character("Left", removed_at=timezone.now())
    ic.run_integrity_check()
    [issue] = open_issues("orphan_wow")
    assert issue.wow_character == char


def test_orphan_discord_detected(make):
    user = make.discord_user("nochars")
    make.discord_user("guest", role="")
    make.player("Has", discord_user=make.discord_user("has"))
    ic.run_integrity_check()
    [issue] = open_issues("orphan_discord")
    assert issue.discord_user == user


def test_rank_mismatch_detected(make):
    user = make.discord_user("thrall", role="Member")
    main = make.character("Thrall", guild_rank="Officer")
    alt = make.character("Thrallalt", guild_rank="Initiate")
    player = make.player("Thrall", discord_user=user, characters=[main, alt])
    ok_user = make.discord_user("jaina", role="Veteran")
    make.player("Jaina", discord_user=ok_user, characters=[make.character("Jaina", guild_rank="Veteran")])
    ic.run_integrity_check()
    [issue] = open_issues("rank_mismatch")
    assert issue.player == player and issue.details["ingame_rank"] == "Officer"
    assert issue.details["discord_role"] == "Member"


def test_rank_mapping_uses_the_ranks_discord_roles(make):
    from guildsync.services import ranks

    rank = make.rank("Officer")
    ranks.save_guild_rank(rank.pk, name=rank.name, level=rank.level, scheduling_weight=rank.scheduling_weight,
                          role_names=["Council", "Officers"])
    user = make.discord_user("boss", role="officers")
    make.player("Boss", discord_user=user, characters=[make.character("Boss", guild_rank=rank)])
    ic.run_integrity_check()
    assert not open_issues("rank_mismatch").exists()


def test_stale_character_detected_with_configurable_days(make, settings):
    make.player("P", characters=[make.character("Old", last_api_sync=timezone.now() - timedelta(days=10))])
    ic.run_integrity_check()
    assert not open_issues("stale_character").exists()
    settings.GUILDSYNC_STALE_DAYS = 7
    ic.run_integrity_check()
    assert open_issues("stale_character").count() == 1


def test_dedup_same_issue_hash(make):
    make.character("Lonely")
    first = ic.run_integrity_check()
    second = ic.run_integrity_check()
    assert (first.new, second.new, second.still_open) == (1, 0, 1)
    assert AuditIssue.objects.count() == 1
    issue = AuditIssue.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():  # the database refuses a second open one
        AuditIssue.objects.create(issue_type="orphan_wow", summary="x", issue_hash=issue.issue_hash,
                                  last_seen=timezone.now())


def test_resolved_issues_not_reflagged(make):
    char = make.character("Lonely")
    ic.run_integrity_check()
    issue = AuditIssue.objects.get()
    assert ic.close_issues([issue.pk], "dismissed", "officer") == 1
    result = ic.run_integrity_check()
    assert result.new == 0 and result.suppressed == 1 and not open_issues().exists()
    # the condition goes away, then comes back: a new issue
    player = make.player("P", characters=[char])
    ic.run_integrity_check()
    player.delete()
    assert ic.run_integrity_check().new == 1
    assert open_issues("orphan_wow").count() == 1


def test_disappeared_condition_closed_automatically(make):
    char = make.character("Lonely")
    ic.run_integrity_check()
    make.player("P", characters=[char])
    result = ic.run_integrity_check()
    issue = AuditIssue.objects.get()
    assert result.auto_closed == 1 and issue.resolution == "auto" and issue.resolved_by == "auto"


def test_close_issues_validates(make):
    from guildsync.services.common import GuildSyncError

    with pytest.raises(GuildSyncError):
        ic.close_issues([1], "deleted", "officer")


@pytest.mark.django_db(transaction=True)
def test_concurrent_checks_open_each_issue_once(make, run_in_parallel):
    for i in range(20):
        make.character(f"Orphan{i}")
    results = run_in_parallel(lambda i: ic.run_integrity_check(), 4)
    assert all(not isinstance(r, BaseException) for r in results), results
    assert AuditIssue.objects.count() == 20 and sum(r.new for r in results) == 20
