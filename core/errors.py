"""The domain's error and the API's one error shape.

Every API error body is ``{"detail": "<a sentence for a person>"}``; validation errors add
``"fields": {"<field>": ["<message>", ...]}`` for programs. One exception handler
(``api_exception_handler``, set in REST_FRAMEWORK) produces it for DRF's errors and for a
``DomainError`` a view lets through (400), so views need no try/except of their own."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt


class DomainError(Exception):
    """A rule of the domain was broken. The message is written for the person who acted
    (an officer in the admin, a member in Discord) and is shown to them as is."""


class NotFoundError(DomainError):
    """The thing asked for does not exist (the API answers 404)."""


def _sentence(errors: Any, prefix: str = "") -> list[str]:
    if isinstance(errors, dict):
        out: list[str] = []
        for key, value in errors.items():
            label = "" if key == "non_field_errors" else f"{prefix}{key}"
            out += _sentence(value, f"{label}." if label else "")
        return out
    if isinstance(errors, list):
        out = []
        for item in errors:
            out += _sentence(item, prefix)
        return out
    label = prefix.rstrip(".")
    return [f"{label}: {errors}" if label else str(errors)]


def api_exception_handler(exc: Exception, context: dict) -> Any:
    # DRF is imported here, not at the top: every app's services import DomainError, some
    # while the app registry is still loading
    from rest_framework import status
    from rest_framework.response import Response
    from rest_framework.views import exception_handler

    if isinstance(exc, DomainError):
        code = status.HTTP_404_NOT_FOUND if isinstance(exc, NotFoundError) else status.HTTP_400_BAD_REQUEST
        return Response({"detail": str(exc)}, status=code)
    response = exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(data, dict) and set(data) == {"detail"}:
        return response
    response.data = {"detail": " ".join(_sentence(data)) or gettext("Invalid request."), "fields": data}
    return response


@csrf_exempt  # it changes nothing; a DELETE to a wrong path must get this 404, not a CSRF page
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any /api/ path no route matches (``/api/identity/link/abc``): JSON, like the rest of
    the API, never Django's HTML page."""
    return JsonResponse({"detail": gettext("Not found.")}, status=404)
