"""Where the project reports an unexpected exception: one function, so the bot's error paths,
listeners and the gateway-event lane need no knowledge of the error-reporting backend.

Error reporting (Sentry, turned on by ``SENTRY_DSN``) is initialised elsewhere; without it this
only logs."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def report_exception(exc: BaseException, *, where: str, **context: object) -> None:
    """Send ``exc`` to error reporting (when configured) tagged with ``where`` (e.g.
    ``"bot.command"``, ``"bot.gateway_event"``) and the given context (never secrets)."""
    try:
        import sentry_sdk
    except ImportError:  # error reporting not installed: the caller has logged the traceback
        return
    if not sentry_sdk.get_client().is_active():
        return
    with sentry_sdk.new_scope() as scope:
        scope.set_tag("where", where)
        for key, value in context.items():
            scope.set_extra(key, value)
        sentry_sdk.capture_exception(exc)
