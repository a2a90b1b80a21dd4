"""Audit reports to the officers' Discord channel (seed Task 5), through the outbox.

Issues are grouped by type into embeds; long groups continue in further embeds, and
embeds are packed into messages within Discord's limits (10 embeds and 6,000 characters per
message, 4,096 per description). Reported issues get ``reported_at`` in the same
transaction that queues the messages, so a report is sent once and never lost.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from bot import outbox
from core import i18n
from core.claims import claim_rows
from guildsync.issue_text import describe
from guildsync.models import AuditIssue
from guildsync.services.common import GuildSyncError

TITLES = {
    "orphan_wow": gettext_lazy("Characters not linked to a player"),
    "orphan_discord": gettext_lazy("Discord members with a guild role but no characters"),
    "rank_mismatch": gettext_lazy("In-game rank ≠ Discord role"),
    "stale_character": gettext_lazy("Characters the API has not seen for a while"),
    "battlenet_conflict": gettext_lazy("Battle.net proofs that disagree with an officer's link"),
}
COLOURS = {"error": 0xE74C3C, "warning": 0xF1C40F, "info": 0x3498DB}
DESCRIPTION_LIMIT = 4096
MESSAGE_CHARS = outbox.EMBEDS_TOTAL_CHARS
MESSAGE_EMBEDS = outbox.EMBEDS_LIMIT


@dataclass
class ReportResult:
    issues: int = 0
    messages: int = 0


def _channel() -> int:
    channel = settings.DISCORD_AUDIT_CHANNEL_ID
    if not channel:
        raise GuildSyncError(_("DISCORD_AUDIT_CHANNEL_ID is not set: there is no channel to report to."))
    return int(channel)


def _line(issue: AuditIssue) -> str:
    # <t:unix:F>: every officer reads the date in their own time zone
    since = (_("(since %(when)s)") % {"when": outbox.discord_timestamp(issue.first_detected, "F")}
             if issue.first_detected else "")
    return f"• {describe(issue)[:300]} {since}".rstrip()


def build_embeds(issues: list[AuditIssue]) -> list[dict[str, Any]]:
    """One or more embeds per issue type, each description within Discord's limit."""
    groups: dict[str, list[AuditIssue]] = {}
    for issue in issues:
        groups.setdefault(issue.issue_type, []).append(issue)
    embeds = []
    for issue_type, group in groups.items():
        title = str(TITLES.get(issue_type, issue_type))
        worst = max(group, key=lambda i: ["info", "warning", "error"].index(i.severity)).severity
        chunk: list[str] = []
        size = 0
        parts: list[str] = []
        for issue in group:
            line = _line(issue)
            if chunk and size + len(line) + 1 > DESCRIPTION_LIMIT - 200:
                parts.append("\n".join(chunk))
                chunk, size = [], 0
            chunk.append(line)
            size += len(line) + 1
        if chunk:
            parts.append("\n".join(chunk))
        for n, description in enumerate(parts, 1):
            suffix = f" ({n}/{len(parts)})" if len(parts) > 1 else ""
            embeds.append({"title": f"{title} — {len(group)}{suffix}"[:256], "description": description,
                           "color": COLOURS.get(worst, COLOURS["warning"])})
    return embeds


def pack_messages(embeds: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Embeds → messages of at most 10 embeds and 6,000 characters each."""
    messages: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    chars = 0
    for embed in embeds:
        size = outbox._embed_chars(embed)
        if current and (len(current) >= MESSAGE_EMBEDS or chars + size > MESSAGE_CHARS):
            messages.append(current)
            current, chars = [], 0
        current.append(embed)
        chars += size
    if current:
        messages.append(current)
    return messages


def send_new_issues_report(force_full: bool = False) -> ReportResult:
    """Post the unreported open issues (every open issue with ``force_full``) and mark them
    reported. No issues → no message. Concurrent calls skip each other's locked issues."""
    channel = _channel()
    with transaction.atomic():
        qs = AuditIssue.objects.filter(resolved_at__isnull=True)
        if not force_full:
            qs = qs.filter(reported_at__isnull=True)
        issues = list(claim_rows(qs).order_by("issue_type", "first_detected", "pk"))
        if not issues:
            return ReportResult()
        digest = hashlib.sha256(",".join(str(i.pk) for i in issues).encode()).hexdigest()[:24]
        stamp = timezone.now()
        with i18n.public():  # a post in the officers' channel: the server language (the outbox records it)
            messages = pack_messages(build_embeds(issues))
            header = (ngettext("**Guild audit** — %(count)s issue", "**Guild audit** — %(count)s issues", len(issues))
                      % {"count": len(issues)}) + (" " + _("(full report)") if force_full else "")
            for n, embeds in enumerate(messages, 1):
                outbox.post_message(channel, content=header if n == 1 else None, embeds=embeds,
                                    dedupe_key=f"guildsync.report:{digest}:{stamp:%Y%m%d%H%M%S}:{n}",
                                    topic="guildsync.audit_report")
        AuditIssue.objects.filter(pk__in=[i.pk for i in issues]).update(reported_at=stamp)
    return ReportResult(issues=len(issues), messages=len(messages))


def send_sync_summary(source: Any, stats: dict[str, Any], duration: float) -> None:
    """One embed summing up a sync run for the officers."""
    channel = _channel()
    fields = []
    for key, value in list(stats.items())[:25]:
        if isinstance(value, list | dict):
            text = ", ".join(map(str, value))[:1000] if isinstance(value, list) else \
                ", ".join(f"{k}: {v}" for k, v in value.items())[:1000]
            value = text or "—"
        fields.append({"name": str(key).replace("_", " ")[:256], "value": str(value)[:1024] or "—", "inline": True})
    with i18n.public(), transaction.atomic():
        embed = {"title": (_("Guild sync: %(source)s") % {"source": source})[:256],
                 "description": _("Finished in %(seconds)s s.") % {"seconds": i18n.number(duration, 1)},
                 "fields": fields, "color": 0x2ECC71}
        outbox.post_message(channel, embeds=[embed], topic="guildsync.sync_summary")
