"""Issue #14 point 4: a member arriving (or renamed) is matched within a minute, debounced so
a burst of joins leads to one matching run, claimed atomically by one worker."""

from __future__ import annotations

import pytest

from guildsync.models import PlayerCharacter, SyncLock, SyncLog
from guildsync.services import arrivals, discord_sync
from guildsync.tasks import matching_on_arrival_task


def member(discord_id: int, username: str, display_name: str = "") -> dict:
    return {"discord_id": discord_id, "username": username, "display_name": display_name or username, "roles": []}


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_50_joins_leads_to_one_matching_run(run_in_parallel, make, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    make.character("Zulkara", guild_rank="Member")
    opened = run_in_parallel(lambda i: arrivals.request_matching(), 50)
    assert sum(opened) == 1  # one burst, one scheduled run
    due = SyncLock.objects.get(name=arrivals.DUE_ROW)
    assert due.locked_until is not None
    # the task is delivered (twice, say: a retry or a second worker): one matching run
    results = run_in_parallel(lambda i: matching_on_arrival_task.apply().get(), 2)
    assert sorted(r["status"] for r in results) == ["skipped", "success"]
    assert SyncLog.objects.filter(source="matching", triggered_by="member arrival").count() == 1
    # the next arrival opens a new burst
    assert arrivals.request_matching() is True


@pytest.mark.django_db
def test_new_member_is_matched_by_the_arrival_run(make, django_capture_on_commit_callbacks):
    make.character("Zulkara", guild_rank="Member")
    with django_capture_on_commit_callbacks() as scheduled:
        for i in range(5):
            discord_sync.on_member_join({**member(9000 + i, "zulkara" if i == 0 else f"guest{i}"),
                                         "roles": ["Member"]})
    assert len(scheduled) == 1  # five joins, one scheduled task
    assert matching_on_arrival_task.apply().get()["status"] == "success"
    link = PlayerCharacter.objects.get(character__character_name="Zulkara")
    assert link.player.discord_user.discord_id == 9000
    assert matching_on_arrival_task.apply().get()["status"] == "skipped"  # nothing due any more


@pytest.mark.django_db
def test_only_a_name_change_asks_for_matching(django_capture_on_commit_callbacks):
    discord_sync.on_member_join(member(1, "old"))
    arrivals.claim_due_matching()
    with django_capture_on_commit_callbacks() as scheduled:
        discord_sync.on_member_update(member(1, "old"), {**member(1, "old"), "roles": ["Member"]})
    assert not scheduled and not arrivals.claim_due_matching()
    with django_capture_on_commit_callbacks() as scheduled:
        discord_sync.on_member_update(member(1, "old"), member(1, "old", "New Nick"))
    assert len(scheduled) == 1 and arrivals.claim_due_matching()
