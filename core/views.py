"""The endpoints that probes poll: ``/healthz`` (this web process), ``/healthz/deep`` (the
whole service) and ``/metrics`` (Prometheus). What they check lives in ``core.health`` and
``core.metrics``."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core import health
from core import metrics as service_metrics


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


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text; ``Authorization: Bearer $METRICS_TOKEN`` required, and off (404)
    while no token is configured."""
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404("Metrics are off: set METRICS_TOKEN to turn them on.")
    given = request.headers.get("Authorization", "")
    scheme, _, value = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), token.encode()):
        response = HttpResponse("A valid 'Authorization: Bearer <METRICS_TOKEN>' header is required.\n",
                                status=401, content_type="text/plain; charset=utf-8")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(service_metrics.render(), content_type="text/plain; version=0.0.4; charset=utf-8")
