"""Retention: signups, audit rows and reminders older than the configured period are deleted
(default two years, as the origin bot keeps), the matches themselves stay. Before a governor's
signups go, their counts are folded into ``GovernorRecord`` so the attendance record survives.
A dry run reports the same numbers and changes nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, F, Q

from core.reports import RunReport

from .. import conf
from ..models import AuditLog, GovernorRecord, SentReminder, Signup
from .common import SignupStatus, _audit, _now


@dataclass
class RetentionReport(RunReport):
    cutoff: dt.datetime
    dry_run: bool
    signups: int = 0  # signups of matches that started before the cutoff (deleted, or would be)
    audit_rows: int = 0  # audit rows written before the cutoff
    reminders: int = 0  # sent-reminder rows scheduled before the cutoff
    governors_archived: int = 0  # governors whose old signups' totals were added to their GovernorRecord

    def __str__(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        return (
            f"{verb} {self.signups} signup(s), {self.audit_rows} audit row(s), {self.reminders} reminder(s) "
            f"older than {self.cutoff:%Y-%m-%d}; totals of {self.governors_archived} governor(s) kept"
        )


def purge_old_records(
    *, now: dt.datetime | None = None, older_than: dt.timedelta | None = None, dry_run: bool = False
) -> RetentionReport:
    """Delete what is older than ``older_than`` (default ``ARK_RETENTION_DAYS``): signups of
    matches that started before the cutoff, audit rows and sent reminders before it. One
    transaction; the per-governor totals are archived first."""
    now = _now(now)
    cutoff = now - (older_than or conf.retention_period())
    report = RetentionReport(cutoff=cutoff, dry_run=dry_run)
    with transaction.atomic():
        old_signups = Signup.objects.filter(match__match_time_utc__lt=cutoff)
        totals = (
            old_signups.exclude(status=SignupStatus.REMOVED)
            .values("governor_id")
            .annotate(
                signed_up=Count("id"),
                checked_in=Count("id", filter=Q(checked_in_at__isnull=False)),
                played=Count("id", filter=Q(attendance=Signup.Attendance.PLAYED)),
                no_show=Count("id", filter=Q(attendance=Signup.Attendance.NO_SHOW)),
                excused=Count("id", filter=Q(attendance=Signup.Attendance.EXCUSED)),
            )
        )
        old_audit = AuditLog.objects.filter(created_at__lt=cutoff)
        old_reminders = SentReminder.objects.filter(scheduled_for__lt=cutoff)
        report.signups = old_signups.count()
        report.audit_rows = old_audit.count()
        report.reminders = old_reminders.count()
        rows = list(totals)
        report.governors_archived = len(rows)
        if dry_run:
            return report
        for row in rows:
            gov = row.pop("governor_id")
            record, _created = GovernorRecord.objects.select_for_update().get_or_create(governor_id=gov)
            GovernorRecord.objects.filter(pk=record.pk).update(**{k: F(k) + v for k, v in row.items()})
        old_reminders.delete()
        old_audit.delete()
        old_signups.delete()
        _audit("retention_purged", None, cutoff=cutoff, signups=report.signups,
               audit_rows=report.audit_rows, reminders=report.reminders)
        return report
