"""Celery tasks of the project's plumbing (thin: the work is in core's modules)."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import task_postrun, task_prerun
from django.conf import settings

from core import backups, heartbeats, metrics

log = logging.getLogger(__name__)

# Every task's outcome and duration, counted by the worker that runs it (``/metrics``). Every
# worker imports this module (Celery's autodiscovery), so every worker counts.
task_prerun.connect(metrics.task_started, dispatch_uid="core.metrics.task_started", weak=False)
task_postrun.connect(metrics.task_finished, dispatch_uid="core.metrics.task_finished", weak=False)


@shared_task(ignore_result=True)
def heartbeat_task(component: str) -> str:
    """Sent by beat to each worker queue (``HEARTBEAT_INTERVAL_SECONDS``; entries in
    ``CELERY_BEAT_SCHEDULE`` with the queue as an option) and stamped by whichever worker runs
    it: the proof that beat → broker → worker works for that queue. Expires unrun after one
    interval, so a queue that was stuck is not flooded with stale beats when it recovers."""
    heartbeats.record(component)
    return component


@shared_task
def backup_task() -> str:
    """Daily (CELERY_BEAT_SCHEDULE, 03:15 UTC): back the database up into BACKUP_DIR and rotate
    it (README, "Backups"). Off with ``BACKUP_BY_BEAT=0`` when another process, such as the
    compose file's ``backup`` service, runs ``manage.py backup`` instead. A failure raises, so the
    task is recorded as failed where errors are reported."""
    if not settings.BACKUP_BY_BEAT:
        return "skipped: BACKUP_BY_BEAT is off (another process makes the backups)"
    report = backups.create_backup()
    log.info("backup: %s", report)
    return str(report)


@shared_task(name="core.tasks.sweep_pending_jobs_task")
def sweep_pending_jobs_task() -> dict[str, int]:
    """Every minute (CELERY_BEAT_SCHEDULE): hand the broker the jobs it could not take when they
    were asked for (``core.jobs.sweep_pending``)."""
    from core import jobs

    return jobs.sweep_pending()


@shared_task
def privacy_retention_task() -> str:
    """Daily (CELERY_BEAT_SCHEDULE, 03:45 UTC): the retention policy of every app
    (core/privacy/retention.py), its report stored as a RetentionRun."""
    from core.privacy import retention

    record = retention.run()
    log.info("privacy retention: %s", record.report)
    return retention.describe(record)
