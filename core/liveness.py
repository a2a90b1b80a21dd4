"""A liveness file for container healthchecks of Celery workers (docker/healthcheck.py).

A worker's process can be "Up" while its consumer is stuck; the file is touched from the
worker's own event loop (its timer), every ``INTERVAL`` seconds once the consumer runs, so a
fresh file means the loop that fetches and acknowledges tasks is turning. It is cheap to
check (one ``stat``), unlike ``celery inspect ping``, which starts Django and a broker round trip.
Whether the whole beat → broker → worker path works is the heartbeat's job (``/healthz/deep``).

Installed in config/celery.py; the path is ``GUILDOPS_LIVENESS_FILE`` (default
``/tmp/guildops-alive``).
"""

from __future__ import annotations

import os
from pathlib import Path

from celery import bootsteps

INTERVAL = 10.0


def liveness_path() -> Path:
    return Path(os.environ.get("GUILDOPS_LIVENESS_FILE", "/tmp/guildops-alive"))  # noqa: S108 - per container


class LivenessFile(bootsteps.StartStopStep):
    """Touches the liveness file from the consumer's timer; removes it when the worker stops."""

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def __init__(self, parent, **kwargs) -> None:
        super().__init__(parent, **kwargs)
        self.path = liveness_path()
        self.tref = None

    def start(self, parent) -> None:
        self.touch()
        self.tref = parent.timer.call_repeatedly(INTERVAL, self.touch, priority=10)

    def stop(self, parent) -> None:
        if self.tref is not None:
            self.tref.cancel()
        self.path.unlink(missing_ok=True)

    def touch(self) -> None:
        self.path.touch()
