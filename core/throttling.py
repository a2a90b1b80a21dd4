"""Rate limits per API operation family (``throttle_scope`` on the view), counted per API key
or per user (per address for the anonymous), with the rates in ``API_THROTTLE_RATES``
(settings, from env). DRF's ScopedRateThrottle counts API keys per client address and reads its
rates once at import; this one counts per key and reads the setting on each request."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_api_key.models import APIKey


class ScopedKeyRateThrottle(SimpleRateThrottle):
    def __init__(self) -> None:  # the rate depends on the view: see allow_request
        pass

    def allow_request(self, request, view) -> bool:
        self.scope = getattr(view, "throttle_scope", None)
        self.rate = settings.API_THROTTLE_RATES.get(self.scope) if self.scope else None
        if not self.rate:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view) -> str:
        if isinstance(request.auth, APIKey):
            ident = f"key-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"addr-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
