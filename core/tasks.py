"""Celery tasks of the project's plumbing."""

from __future__ import annotations

from celery import shared_task

from core import heartbeats


@shared_task(ignore_result=True)
def heartbeat_task(component: str) -> str:
    """Sent by beat to each worker queue (``HEARTBEAT_INTERVAL_SECONDS``; entries in
    ``CELERY_BEAT_SCHEDULE`` with the queue as an option) and stamped by whichever worker runs
    it: the proof that beat → broker → worker works for that queue. Expires unrun after one
    interval, so a queue that was stuck is not flooded with stale beats when it recovers."""
    heartbeats.record(component)
    return component
