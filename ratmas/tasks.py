"""Celery tasks of the Ratmas app: thin wrappers around ``ratmas.services``."""

from __future__ import annotations

import logging

from celery import shared_task

from ratmas import services

log = logging.getLogger(__name__)


@shared_task
def ratmas_schedule_task() -> int:
    """Every 5 minutes (beat): due reminders (72 h / 24 h before the signup and purchase
    deadlines) and reveal announcements. Each goes out at most once, whatever the number of
    workers: the (event, kind) row claims it."""
    sent = services.run_schedule()
    log.info("ratmas_schedule_task: %d scheduled announcement(s) sent", sent)
    return sent
