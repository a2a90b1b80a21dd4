"""Celery tasks of the economy app: thin wrappers over services."""

from __future__ import annotations

import logging

from celery import shared_task

from economy import services

log = logging.getLogger(__name__)


@shared_task
def expire_cases_task() -> int:
    """Every minute (beat): resolve timeouts whose time is up. One conditional UPDATE, so two
    workers running it at once resolve each case once."""
    count = services.expire_cases()
    log.info("economy: expired %d moderation case(s)", count)
    return count
