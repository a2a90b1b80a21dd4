"""The endpoints that probes poll: ``/healthz`` (this web process) and ``/healthz/deep`` (the
whole service). What they check lives in ``core.health``."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core import health


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The web process's own liveness: its database and its broker. Late clocks never fail it."""
    checks = {"database": health.database_state(), "broker": health.broker_state()}
    healthy = all(state == health.UP for state in checks.values())
    return JsonResponse({"status": "ok" if healthy else "down", **checks}, status=200 if healthy else 503)


@never_cache
@require_GET
def healthz_deep(request: HttpRequest) -> JsonResponse:
    """Every component: 503 when one that is enabled is down, late or never seen."""
    report = health.deep_report()
    return JsonResponse(report.as_json(), status=200 if report.healthy else 503)
