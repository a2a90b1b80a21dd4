"""What the health endpoints report, and the middleware that lets probes reach them.

- ``GET /healthz``: the web process's own liveness (its database and its broker). A late beat
  or a dead bot never takes the web out of a load balancer's rotation.
- ``GET /healthz/deep``: the whole service: the same two checks plus every watched clock
  (``core.heartbeats``). ``503`` when the database or broker is down or any enabled component
  is late or was never seen.

Both say only states and ages: a failure names its exception class, never its message (a
connection error can carry a host or user name); the full message goes to the log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import resolve

from core import heartbeats

log = logging.getLogger(__name__)

UP, DOWN = "ok", "down"


def database_state() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "down"; the log says why
        log.warning("health: database down: %s: %s", exc.__class__.__name__, exc)
        return f"{DOWN}: {exc.__class__.__name__}"
    return UP


def broker_state() -> str:
    from config.celery import app as celery_app

    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        log.warning("health: broker down: %s: %s", exc.__class__.__name__, exc)
        return f"{DOWN}: {exc.__class__.__name__}"
    return UP


@dataclass(frozen=True)
class DeepReport:
    database: str
    broker: str
    clocks: dict[str, heartbeats.ClockState]

    @property
    def healthy(self) -> bool:
        return self.database == UP and self.broker == UP and all(c.healthy for c in self.clocks.values())

    def as_json(self) -> dict:
        components: dict = {"database": {"state": self.database}, "broker": {"state": self.broker}}
        for name in heartbeats.COMPONENTS:
            clock = self.clocks.get(name)
            components[name] = clock.as_json() if clock is not None else {"state": "unknown", "age_seconds": None}
        return {"status": "ok" if self.healthy else "degraded", "components": components}


def deep_report() -> DeepReport:
    database = database_state()
    clocks = heartbeats.clock_states() if database == UP else {}  # heartbeats live in the database
    return DeepReport(database, broker_state(), clocks)


# Paths a container healthcheck, a load balancer or Prometheus reach over plain HTTP inside
# the private network, by an address that is not in ALLOWED_HOSTS (``web:8000``, ``localhost``).
PROBE_PATHS = ("/healthz", "/healthz/deep", "/metrics")


class ProbeMiddleware:
    """First in ``MIDDLEWARE``: answers the probe paths before the SSL redirect
    (``SECURE_SSL_REDIRECT`` answered plain-HTTP probes with 301) and before host validation
    (a probe asks for ``localhost:8000``). Safe because these answers use neither the scheme
    nor the host, set no cookie and read no session; ``/metrics`` still demands its token
    (Prometheus scrapes it inside the private network; outside, put it behind TLS)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info in PROBE_PATHS:  # the URLconf's own view (core.views imports this module)
            return resolve(request.path_info).func(request)
        return self.get_response(request)
