"""API-key authentication for machine clients (the WoW addon companion, scripts).

Keys are stored hashed by djangorestframework-api-key; this class only adds what its
permission class lacks: a proper 401 with ``WWW-Authenticate`` for a missing or wrong key,
so clients can tell "who are you?" (401) from "you may not" (403).
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions
from rest_framework.request import Request
from rest_framework_api_key.models import APIKey

KEYWORD = "Api-Key"


class APIKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[AnonymousUser, APIKey] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _space, key = header.partition(" ")
        if scheme != KEYWORD:
            return None
        key = key.strip()
        if not key:
            raise exceptions.AuthenticationFailed(_("Empty API key."))
        try:
            api_key = APIKey.objects.get_from_key(key)
        except APIKey.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Invalid API key.")) from None
        if api_key.has_expired or api_key.revoked:
            raise exceptions.AuthenticationFailed(_("API key revoked or expired."))
        return AnonymousUser(), api_key

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD
