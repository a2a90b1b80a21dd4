"""Error reports: Sentry through the official ``sentry-sdk``, on when ``SENTRY_DSN`` is set.

``config/settings.py`` calls :func:`init` at its end, so every process kind that loads the
settings reports: the web (Django integration: a failing view), Celery workers and beat
(Celery integration: a failing task), ``runbot`` (logging integration: every ``log.exception``
and ``log.error(..., exc_info=…)`` of the bot's error paths, listeners and gateway-event lane,
and ``core.observability.report_exception``). One error is one event: the SDK's deduplication
drops a second report of the same exception (logged *and* reported).

What must never leave the machine, and how it is kept back:

- members' words and Santa pairings: frames' local variables are not sent
  (``include_local_variables=False``), nor request bodies (``max_request_body_size="never"``),
  query strings, cookies, SQL parameters or user details (``send_default_pii=False``);
- secrets (``DISCORD_TOKEN``, ``SECRET_KEY``, the field-encryption keys, API keys and client
  secrets, ``METRICS_TOKEN``, passwords in URLs): :func:`scrub_event` walks every event and
  breadcrumb, replaces any value under a sensitive key, any occurrence of a configured secret's
  value, and anything shaped like a Discord token or an ``Authorization`` value.

The release is ``GUILDOPS_VERSION``. Tested against a local server receiving the SDK's
envelopes (``tests/core/test_sentry.py``).
"""

from __future__ import annotations

import logging
import re
from typing import Any

FILTERED = "[Filtered]"
# Setting names whose values are secrets (read when an event is scrubbed, so rotations count).
SECRET_SETTINGS = (
    "SECRET_KEY", "DISCORD_TOKEN", "DISCORD_CLIENT_SECRET", "FIELD_ENCRYPTION_KEY", "FIELD_ENCRYPTION_KEY_PREVIOUS",
    "RAID_HELPER_API_KEY", "BLIZZARD_CLIENT_SECRET", "WCL_CLIENT_SECRET", "METRICS_TOKEN", "ADMIN_PASSWORD",
)
# Keys whose values are replaced wherever they appear (headers, extra, contexts, breadcrumbs).
SENSITIVE_KEY = re.compile(
    r"token|secret|passw|api[_-]?key|authori[sz]ation|cookie|session|csrf|credential|private|signature|dsn"
    r"|encryption|pairing|recipient|santa|relay|wishlist", re.IGNORECASE)
SECRET_SHAPES = [
    # a Discord bot token: base64 user id . timestamp . HMAC
    (re.compile(r"[A-Za-z\d_-]{23,28}\.[A-Za-z\d_-]{6,7}\.[A-Za-z\d_-]{27,40}"), FILTERED),
    # an Authorization value
    (re.compile(r"\b(Bot|Bearer|Api-Key|Basic|Token)\s+[^\s'\"]+", re.IGNORECASE), r"\1 " + FILTERED),
    # credentials in a URL
    (re.compile(r"(\w+://)[^/\s:@]*:[^/\s@]*@"), r"\1" + FILTERED + "@"),
]
MIN_SECRET_LENGTH = 6  # shorter values would blank out ordinary words


def secret_values() -> list[str]:
    """The configured secrets' current values, longest first."""
    from django.conf import settings

    values: set[str] = set()
    for name in SECRET_SETTINGS:
        value = getattr(settings, name, "")
        for item in value if isinstance(value, list | tuple) else [value]:
            if isinstance(item, str) and len(item) >= MIN_SECRET_LENGTH:
                values.add(item)
    return sorted(values, key=len, reverse=True)


def scrub_text(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, FILTERED)
    for pattern, replacement in SECRET_SHAPES:
        text = pattern.sub(replacement, text)
    return text


def _scrub(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        return scrub_text(value, secrets)
    if isinstance(value, dict):
        return {key: FILTERED if isinstance(key, str) and SENSITIVE_KEY.search(key) and value[key] not in (None, "")
                else _scrub(item, secrets) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(item, secrets) for item in value]
    return value


def _strip_request(event: dict) -> None:
    """Query strings carry members' input (search terms, ids, tokens in links): leave them out."""
    request = event.get("request")
    if not isinstance(request, dict):
        return
    request.pop("query_string", None)
    request.pop("cookies", None)
    request.pop("data", None)
    if isinstance(request.get("url"), str):
        request["url"] = request["url"].split("?", 1)[0]
    headers = request.get("headers")
    if isinstance(headers, dict):
        request["headers"] = {k: v for k, v in headers.items() if k.lower() not in ("cookie", "referer")}


def scrub_event(event: dict, hint: dict | None = None) -> dict:
    """``before_send``: the event without secrets (see the module's docstring)."""
    _strip_request(event)
    return _scrub(event, secret_values())


def scrub_breadcrumb(crumb: dict, hint: dict | None = None) -> dict:
    """``before_breadcrumb``: log lines and HTTP calls recorded before an error, scrubbed alike."""
    return _scrub(crumb, secret_values())


def init(dsn: str, *, release: str, environment: str) -> bool:
    """Turn error reporting on (no-op without a DSN). Called once, from the settings."""
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.logging import LoggingIntegration

    sentry_sdk.init(
        dsn=dsn,
        release=release,
        environment=environment,
        integrations=[
            DjangoIntegration(),
            CeleryIntegration(),
            # log lines become breadcrumbs from INFO; ERROR lines (with or without a traceback) events
            LoggingIntegration(level=logging.INFO, event_level=logging.ERROR),
        ],
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        before_send=scrub_event,
        before_breadcrumb=scrub_breadcrumb,
        traces_sample_rate=0.0,  # errors only; /metrics covers performance
    )
    return True
