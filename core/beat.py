"""The beat scheduler: django-celery-beat's ``DatabaseScheduler`` (schedules editable in the
admin) that stamps the ``scheduler`` heartbeat on its ticks (``core.heartbeats``).

Beat calls ``tick()`` at least every 5 seconds whatever the schedule; a beat that hangs
(celery#7251) stops ticking, so its heartbeat ages and ``/healthz/deep`` says ``late``.
Installed by ``CELERY_BEAT_SCHEDULER``, so ``celery -A config beat`` needs no option."""

from __future__ import annotations

import logging
import time

from django.db import close_old_connections
from django_celery_beat.schedulers import DatabaseScheduler

from core import heartbeats

log = logging.getLogger(__name__)


class HeartbeatScheduler(DatabaseScheduler):
    _stamped_at = 0.0

    def tick(self, *args, **kwargs):
        interval = super().tick(*args, **kwargs)
        self.stamp()
        return interval

    def stamp(self) -> None:
        """Record the heartbeat, at most every ``SCHEDULER_STAMP_SECONDS``; a database hiccup
        is logged and never stops the scheduler (the next tick tries again)."""
        if time.monotonic() - self._stamped_at < heartbeats.SCHEDULER_STAMP_SECONDS:
            return
        try:
            close_old_connections()
            heartbeats.record(heartbeats.Component.SCHEDULER)
            self._stamped_at = time.monotonic()
        except Exception as exc:  # the database is down: beat keeps its schedule; health shows it late
            log.warning("beat: could not record the scheduler heartbeat (%s: %s)", exc.__class__.__name__, exc)
