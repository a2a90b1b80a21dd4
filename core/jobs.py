"""The one seam through which services queue Celery work: by task *name*, never by task object.

Services must not import ``tasks`` modules (tasks import services; the reverse would make an
import cycle and tie the domain to Celery). A service that wants work done later calls
:func:`send` (now, raising :class:`JobQueueUnavailableError` when the broker is unreachable) or
:func:`send_on_commit` (after the caller's transaction commits).

``send_on_commit`` never loses the job: it writes a :class:`core.models.PendingJob` row in the
caller's transaction, hands the task to the broker once the transaction commits, and deletes
the row when the broker took it. When the broker is down (Redis restarting, the filesystem
broker's folder missing) the row stays, with the error, and :func:`sweep_pending`, run every
minute by beat (``core.tasks.sweep_pending_jobs_task``), sends it again once the broker is
back. The caller's own marks (guildsync's ``matching_due``) therefore stay backed by a job that
will run. Delivery is at least once (a crash between the broker's "taken" and the row's
deletion sends it twice), so tasks claim their work (``core/claims.py``) and a duplicate skips.

Routing (``CELERY_TASK_ROUTES``) applies by name as it does for ``task.delay()``, and an eager
test configuration (``task_always_eager``) runs the task in place, as ``apply_async`` would.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu.exceptions import KombuError

log = logging.getLogger(__name__)

# What a broker that cannot take a message raises: kombu's wrapped connection errors (Redis),
# the filesystem transport's OSError (its folder missing), a timeout. Anything else (a task
# called with the wrong arguments) is a bug of the caller and is raised as it is.
try:
    from redis.exceptions import RedisError as _RedisError
except ImportError:  # pragma: no cover - redis is a dependency of celery[redis]
    _RedisError = OSError
BROKER_ERRORS: tuple[type[BaseException], ...] = (KombuError, OSError, TimeoutError, _RedisError)

SWEEP_GRACE = dt.timedelta(seconds=30)  # a younger row may still be on its way (its own on_commit)
SWEEP_BATCH = 500


class JobQueueUnavailableError(Exception):
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
    except BROKER_ERRORS as exc:  # the broker did not take it
        raise JobQueueUnavailableError(_("The task queue is unreachable (%(error)s).")
                                       % {"error": f"{exc.__class__.__name__}: {exc}"}) from exc
    return result.id


def send_on_commit(name: str, *, args: tuple | list = (), kwargs: dict[str, Any] | None = None,
                   countdown: float | None = None) -> None:
    """Queue ``name`` once the current transaction commits (at once outside one), durably: see
    the module docstring. A broker failure is logged, never raised to the caller."""
    from core.models import PendingJob

    job = PendingJob.objects.create(task_name=name, args=list(args), kwargs=kwargs or {},
                                    run_after=timezone.now() + dt.timedelta(seconds=countdown or 0))

    def _send() -> None:
        _hand_over(job.pk, name, args, kwargs or {}, countdown)

    transaction.on_commit(_send)


def _hand_over(pk: int, name: str, args: tuple | list, kwargs: dict[str, Any], countdown: float | None) -> str:
    """Give the job to the broker: ``"sent"`` (its row forgotten), ``"down"`` (the broker did
    not take it) or ``"failed"`` (a bug, e.g. wrong arguments: logged and reported); the row
    of a job not sent keeps the error for the sweep and the admin."""
    from core.models import PendingJob
    from core.observability import report_exception

    try:
        send(name, args=args, kwargs=kwargs, countdown=countdown)
    except JobQueueUnavailableError as exc:
        log.warning("jobs: could not queue %s (%s); kept as pending job #%d for the periodic sweep", name, exc, pk)
        outcome, error = "down", str(exc)
    except Exception as exc:
        log.exception("jobs: %s could not be queued (pending job #%d kept)", name, pk)
        report_exception(exc, where="core.jobs", task=name)
        outcome, error = "failed", f"{exc.__class__.__name__}: {exc}"
    else:
        PendingJob.objects.filter(pk=pk).delete()
        return "sent"
    PendingJob.objects.filter(pk=pk).update(attempts=F("attempts") + 1, last_error=error[:300])
    return outcome


def sweep_pending(now: dt.datetime | None = None, *, grace: dt.timedelta = SWEEP_GRACE) -> dict[str, int]:
    """Send again the pending jobs older than ``grace`` (what beat runs every minute). Each row
    is claimed (``SKIP LOCKED``), so two sweeps never send the same row; the remaining
    countdown is kept. Stops at the first broker failure (the rest wait for the next sweep)."""
    from core.claims import claim_rows
    from core.models import PendingJob

    now = now or timezone.now()
    sent = failed = 0
    with transaction.atomic():
        rows = list(claim_rows(PendingJob.objects.filter(created_at__lte=now - grace))[:SWEEP_BATCH])
        for row in rows:
            remaining = (row.run_after - now).total_seconds()
            outcome = _hand_over(row.pk, row.task_name, row.args, row.kwargs, remaining if remaining > 0 else None)
            sent += outcome == "sent"
            failed += outcome != "sent"
            if outcome == "down":
                break
    left = PendingJob.objects.count()
    if sent or failed:
        log.info("jobs: sweep sent %d pending job(s), %d failed, %d still pending", sent, failed, left)
    return {"sent": sent, "failed": failed, "pending": left}
