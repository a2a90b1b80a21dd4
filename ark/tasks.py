"""Celery tasks of the ark app (thin: the work is in ark.services)."""

from __future__ import annotations

import logging

from celery import shared_task

from . import services

log = logging.getLogger(__name__)


@shared_task
def ark_lifecycle_task() -> str:
    """Every minute (CELERY_BEAT_SCHEDULE): lock matches at signup close and post the
    confirmation, queue due reminders (skipping late ones), remind officers to record results,
    re-post lost registration messages. Safe with several workers at once."""
    report = services.run_lifecycle()
    log.info("ark lifecycle: %s", report)
    return str(report)
