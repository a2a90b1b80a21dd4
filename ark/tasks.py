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


@shared_task
def ark_calendar_task() -> str:
    """Every 15 minutes: create the matches the alliances' calendars say are due (each exactly
    once, whichever worker runs it) and post their registration messages."""
    report = services.create_scheduled_matches()
    log.info("ark calendar: %s", report)
    return str(report)


@shared_task
def ark_nudge_task() -> str:
    """Every 5 minutes: the daily fill post of each open match whose nudge time has come."""
    report = services.post_fill_nudges()
    log.info("ark nudges: %s", report)
    return str(report)
