"""reporter: embeds within Discord's limits, through the outbox, reported once."""

from __future__ import annotations

import pytest
from django.utils import timezone

from bot.models import OutboxMessage
from guildsync.models import AuditIssue
from guildsync.services import reporter
from guildsync.services.common import GuildSyncError
from tests.guildsync.conftest import AUDIT_CHANNEL

pytestmark = pytest.mark.django_db


def issues(n: int, issue_type: str = "orphan_wow", summary_len: int = 200) -> None:
    now = timezone.now()
    AuditIssue.objects.bulk_create([AuditIssue(issue_type=issue_type, summary=(f"#{i} " + "x" * summary_len)[:255],
                                               issue_hash=f"{issue_type}{i}", last_seen=now) for i in range(n)])


def test_report_marks_issues_and_sends_once(fake_discord, deliver_outbox):
    issues(3)
    result = reporter.send_new_issues_report()
    assert (result.issues, result.messages) == (3, 1)
    assert not AuditIssue.objects.filter(reported_at__isnull=True).exists()
    assert reporter.send_new_issues_report().messages == 0  # nothing new: nothing sent
    deliver_outbox()
    [message] = fake_discord.posted(AUDIT_CHANNEL)
    assert message["embeds"][0]["title"].startswith("Characters not linked to a player — 3")
    assert reporter.send_new_issues_report(force_full=True).issues == 3


def test_large_report_is_split_within_limits():
    issues(300, "orphan_wow")
    issues(300, "orphan_discord")
    result = reporter.send_new_issues_report()
    assert result.messages >= 2
    rows = OutboxMessage.objects.filter(topic="guildsync.audit_report")
    assert rows.count() == result.messages
    total_lines = 0
    for row in rows:
        embeds = row.payload["embeds"]
        assert len(embeds) <= 10
        assert sum(len(e.get("title", "")) + len(e.get("description", "")) for e in embeds) <= 6000
        total_lines += sum(e["description"].count("\n") + 1 for e in embeds)
    assert total_lines == 600


def test_report_needs_a_channel(settings):
    settings.DISCORD_AUDIT_CHANNEL_ID = None
    issues(1)
    with pytest.raises(GuildSyncError, match="DISCORD_AUDIT_CHANNEL_ID"):
        reporter.send_new_issues_report()
    assert AuditIssue.objects.filter(reported_at__isnull=True).count() == 1


def test_sync_summary():
    reporter.send_sync_summary("Blizzard roster", {"created": 3, "not_found": ["A-realm"], "by": {"x": 1}}, 2.5)
    row = OutboxMessage.objects.get(topic="guildsync.sync_summary")
    embed = row.payload["embeds"][0]
    assert embed["title"] == "Guild sync: Blizzard roster" and {"name": "created", "value": "3",
                                                                 "inline": True} in embed["fields"]


def test_report_names_players_and_discord_users_with_discord_times(make):
    from guildsync.services import integrity_checker

    user = make.discord_user("thrallfan", role="Member", display_name="Thrall Fan")
    make.player("Thrall", discord_user=user, characters=[make.character("Thrall", guild_rank="Officer")])
    make.discord_user("lonelyhearts", display_name="Lonely Hearts")
    integrity_checker.run_integrity_check()
    reporter.send_new_issues_report()
    [message] = OutboxMessage.objects.filter(topic="guildsync.audit_report")
    text = "\n".join(e["description"] for e in message.payload["embeds"])
    assert "Thrall: in-game Officer, Discord role Member" in text
    assert "lonelyhearts" in text or "Lonely Hearts" in text
    assert "(since <t:" in text and ":F>)" in text
