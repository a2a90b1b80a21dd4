"""The one seam through which services queue Celery work: by task *name*, never by task object.

Services must not import ``tasks`` modules (tasks import services; the reverse would make an
import cycle and tie the domain to Celery). A service that wants work done later calls
:func:`send` (now, raising :class:`JobQueueUnavailable` when the broker is unreachable) or
:func:`send_on_commit` (after the caller's transaction commits; a broker failure is logged and
the caller's own durable mark is what a periodic sweep finds).

Routing (``CELERY_TASK_ROUTES``) applies by name as it does for ``task.delay()``, and an eager
test configuration (``task_always_eager``) runs the task in place, as ``apply_async`` would.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

log = logging.getLogger(__name__)


class JobQueueUnavailable(Exception):
    """The broker could not take the job; nothing was queued."""


def _app():
    from config.celery import app

    return app


def send(name: str, *, args: tuple | list = (), kwargs: dict[str, Any] | None = None,
         countdown: float | None = None, task_id: str | None = None) -> str:
    """Queue the task registered as ``name`` now and return its id."""
    app = _app()
    options: dict[str, Any] = {}
    if countdown is not None:
        options["countdown"] = countdown
    if task_id is not None:
        options["task_id"] = task_id
    try:
        task = app.tasks.get(name)
        if task is not None:
            result = task.apply_async(args=tuple(args), kwargs=kwargs or {}, **options)
        else:
            result = app.send_task(name, args=tuple(args), kwargs=kwargs or {}, **options)
    except Exception as exc:  # kombu/redis/filesystem errors: the broker did not take it
        raise JobQueueUnavailable(f"The task queue is unreachable ({exc.__class__.__name__}).") from exc
    return result.id


def send_on_commit(name: str, *, args: tuple | list = (), kwargs: dict[str, Any] | None = None,
                   countdown: float | None = None) -> None:
    """Queue ``name`` once the current transaction commits (at once outside one).

    A broker failure is logged, not raised: the caller keeps a durable mark (a due row, a
    pending outbox row) that a beat sweep turns into the job later."""

    def _send() -> None:
        try:
            send(name, args=args, kwargs=kwargs, countdown=countdown)
        except JobQueueUnavailable as exc:
            log.warning("jobs: could not queue %s (%s); the periodic sweep will pick it up", name, exc)

    transaction.on_commit(_send)
