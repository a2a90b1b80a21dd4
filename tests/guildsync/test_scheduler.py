"""The pipeline (seed scheduler): order, logs, reports only on new issues, overlap."""

from __future__ import annotations

import pytest

from bot.models import OutboxMessage
from guildsync.models import AuditIssue, Player, SyncLog
from guildsync.services import addon_processor, pipeline
from guildsync.services.common import claim, release
from guildsync.tasks import addon_pipeline_task, blizzard_pipeline_task

pytestmark = pytest.mark.django_db


def upload_text(members: list[dict]) -> str:
    db = {"formatVersion": 1, "lastExport": "Stormwatch-TwistingNether",
          "guilds": {"Stormwatch-TwistingNether": {"guildName": "Stormwatch", "exportedAt": 1_760_000_000,
                                                   "canViewOfficerNotes": True, "members": members}}}
    return addon_processor.format_saved_variables({"GuildSyncDB": db})


def addon_member(name: str, note: str = "", officer: str = "", rank: int = 3, cls: str = "Mage") -> dict:
    return {"name": name, "realm": "TwistingNether", "note": note, "officerNote": officer, "rankIndex": rank,
            "rankName": "Member", "className": cls, "level": 80}


def test_pipeline_sync_match_check_report(fake_blizzard, make):
    fake_blizzard.add_character("Thrall", class_id=7, rank=3)
    fake_blizzard.add_character("Orphan", class_id=1, rank=3)
    make.discord_user("thrall", role="Member")
    result = blizzard_pipeline_task.apply(kwargs={"triggered_by": "test"}).get()
    assert result["steps"] == ["sync", "match", "check", "report"]
    logs = list(SyncLog.objects.order_by("started_at", "pk").values_list("source", "status"))
    assert logs == [("blizzard", "success"), ("matching", "success"), ("integrity", "success")]
    assert Player.objects.get().discord_user.username == "thrall"
    assert AuditIssue.objects.get().issue_type == "orphan_wow"
    assert OutboxMessage.objects.filter(topic="guildsync.audit_report").count() == 1
    started = [log.started_at for log in SyncLog.objects.order_by("pk")]
    assert started == sorted(started)


def test_only_new_issues_trigger_report(fake_blizzard):
    fake_blizzard.add_character("Orphan", class_id=1)
    pipeline.run_blizzard_pipeline("test")
    assert OutboxMessage.objects.filter(topic="guildsync.audit_report").count() == 1
    result = pipeline.run_blizzard_pipeline("test")
    assert "report" not in result.steps and result.report_messages == 0
    assert OutboxMessage.objects.filter(topic="guildsync.audit_report").count() == 1
    fake_blizzard.add_character("Newcomer", class_id=2)
    result = pipeline.run_blizzard_pipeline("test")
    assert result.steps[-1] == "report"
    latest = OutboxMessage.objects.filter(topic="guildsync.audit_report").order_by("-pk").first()
    text = str(latest.payload)
    assert "Newcomer" in text and "Orphan" not in text  # only the new issue


def test_issues_found_without_a_channel_are_reported_once_one_is_set(fake_blizzard, settings):
    settings.DISCORD_AUDIT_CHANNEL_ID = None
    fake_blizzard.add_character("Orphan", class_id=1)
    result = pipeline.run_blizzard_pipeline("test")
    assert "report" not in result.steps and AuditIssue.objects.get().reported_at is None
    settings.DISCORD_AUDIT_CHANNEL_ID = 555
    result = pipeline.run_blizzard_pipeline("test")
    assert result.steps[-1] == "report" and AuditIssue.objects.get().reported_at is not None
    assert OutboxMessage.objects.filter(topic="guildsync.audit_report").count() == 1


def test_addon_pipeline_task_writes_notes_and_matches(make):
    make.discord_user("thrallfan")
    text = upload_text([addon_member("Bigtotem", note="Discord: thrallfan"),
                        addon_member("Smalltotem", officer="alt of Bigtotem")])
    result = addon_pipeline_task.apply(args=[text]).get()
    assert result["steps"][:3] == ["sync", "match", "check"]
    player = Player.objects.get()
    assert sorted(player.character_links.values_list("character__character_name", flat=True)) == \
        ["Bigtotem", "Smalltotem"]
    assert SyncLog.objects.get(source="addon").stats["created"] == 2


def test_overlapping_run_is_skipped_and_logged(fake_blizzard):
    token = claim("pipeline_blizzard")
    try:
        result = pipeline.run_blizzard_pipeline("test")
    finally:
        release("pipeline_blizzard", token)
    assert result.status == "skipped" and SyncLog.objects.get().status == "skipped"
    assert not fake_blizzard.calls("GET")


@pytest.mark.django_db(transaction=True)
def test_parallel_claims_grant_the_lease_once(run_in_parallel):
    """Eight connections released together: a check-then-update claim would hand out several."""
    tokens = run_in_parallel(lambda i: claim("pipeline_blizzard"), 8)
    assert len([t for t in tokens if t]) == 1, tokens


@pytest.mark.django_db(transaction=True)
def test_parallel_pipelines_claim_once(fake_blizzard, run_in_parallel):
    for i in range(5):
        fake_blizzard.add_character(f"C{i}")
    # The winner stalls on the roster while holding the lease, so every other run overlaps it.
    fake_blizzard.stall_next("GET", r"/roster", 1.5, then_handle=True)
    results = run_in_parallel(lambda i: pipeline.run_blizzard_pipeline(f"worker{i}"), 3)
    assert sorted(r.status for r in results) == ["skipped", "skipped", "success"], results
    assert len(fake_blizzard.calls("GET", r"/roster")) == 1


def test_beat_schedule_names_are_registered():
    from django.conf import settings

    from config.celery import app

    names = {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"].startswith("guildsync.")}
    assert names == {"guildsync.tasks.discord_sync_task", "guildsync.tasks.blizzard_pipeline_task"}
    app.loader.import_default_modules()
    assert names <= set(app.tasks)


def test_failed_run_is_logged_and_not_raised(settings):
    settings.DISCORD_GUILD_ID = None
    from guildsync.tasks import discord_sync_task

    result = discord_sync_task.apply().get()
    assert result["status"] == "failed" and "DISCORD_GUILD_ID" in result["error"]
    assert SyncLog.objects.get(source="discord").status == "failed"


def test_addon_task_parse_error_writes_nothing():
    result = addon_pipeline_task.apply(args=["GuildSyncDB = {oops"]).get()
    assert result["status"] == "failed" and "line 1" in result["error"]
    assert not SyncLog.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_parallel_uploads_queue_and_write_once(make, run_in_parallel):
    make.discord_user("thrallfan")
    records = [{"character_name": f"Char{i}", "realm": "TwistingNether", "guild_note": "Discord: thrallfan"
                if i == 0 else f"alt of Char{i - 1}", "officer_note": "", "rank_index": 3, "class_name": "Mage",
                "level": 80} for i in range(20)]
    results = run_in_parallel(lambda i: pipeline.ingest_addon_records(records, f"upload{i}"), 3)
    assert all(not isinstance(r, BaseException) for r in results), results
    assert [r.status for r in results] == ["success"] * 3
    from guildsync.models import PlayerCharacter, WowCharacter

    assert WowCharacter.objects.count() == 20 and Player.objects.count() == 1
    assert PlayerCharacter.objects.count() == 20


def test_empty_roster_or_member_list_changes_nothing(fake_blizzard, discord_guild, make):
    from guildsync.services.common import GuildSyncError

    char = make.character("Thrall")
    user = make.discord_user("thrall")
    with pytest.raises(GuildSyncError, match="empty roster"):
        pipeline.run_blizzard_pipeline("test")
    with pytest.raises(GuildSyncError, match="no members"):
        pipeline.run_discord_sync("test")
    char.refresh_from_db()
    user.refresh_from_db()
    assert char.removed_at is None and user.is_present
    assert set(SyncLog.objects.values_list("status", flat=True)) == {"failed"}
