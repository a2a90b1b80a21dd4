"""What an HTTP API said went wrong, in words an officer can act on, for the API seams
(``clients.py`` modules) that turn a failed answer into their domain error."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import requests


def response_reason(response: requests.Response, keys: Sequence[str], *,
                    special: Callable[[dict[str, Any]], str | None] | None = None, limit: int = 300) -> str:
    """The reason in a failed answer: an API-specific shape first (``special`` of a JSON
    object body, when it finds one), then the first non-empty of ``keys`` in the object, else
    the JSON body itself, the text, or the HTTP status; at most ``limit`` characters."""
    try:
        body = response.json()
    except ValueError:
        return (response.text or response.reason or "").strip()[:limit] or f"HTTP {response.status_code}"
    if isinstance(body, dict):
        found = special(body) if special else None
        if found:
            return found
        for key in keys:
            if body.get(key):
                return str(body[key])[:limit]
    return str(body)[:limit]
