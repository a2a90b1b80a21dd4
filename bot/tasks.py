"""Celery tasks of the bot app, and how delivery hears that its worker is stopping."""

import contextlib
import logging
import os
import signal

import billiard.process
from celery import shared_task
from celery.signals import worker_process_init, worker_ready, worker_shutting_down

from bot import delivery

log = logging.getLogger(__name__)
STOP_SIGNAL = signal.SIGUSR2  # parent → pool processes: "warm shutdown, stop sending" (Celery leaves it free)


@shared_task(ignore_result=True)
def deliver_outbox_task() -> str:
    """Kicked when a service commits a message, and swept every minute by beat; routed to the
    "discord" queue (``CELERY_TASK_ROUTES``) so a slow Discord never holds the other workers.
    Any number may run at once: rows are claimed, never shared. One run starts no send after
    ``OUTBOX_RUN_SECONDS`` and cancels each row after ``delivery.row_seconds()``, so it ends
    well inside the task time limits; on a warm shutdown it ends within
    ``OUTBOX_STOP_GRACE_SECONDS`` and gives back what it did not send (``delivery.STOP``)."""
    report = delivery.deliver_due()
    log.info("Outbox delivery run: %s%s", report, f" ({report.errors[0]})" if report.errors and not report.claimed else "")
    return str(report)


@worker_shutting_down.connect
def stop_delivery(**kwargs) -> None:
    """Celery's warm shutdown (SIGTERM from ``docker stop`` or a supervisor) reaches only the
    worker's main process, which would wait for a running delivery task to finish its run
    (up to a minute and a half). Tell the run to stop now: in this process (solo and thread
    pools), and in each pool process (prefork) through ``STOP_SIGNAL``."""
    delivery.STOP.set()
    for child in billiard.process.active_children():
        with contextlib.suppress(ProcessLookupError, TypeError):  # already gone, or never started
            os.kill(child.pid, STOP_SIGNAL)


@worker_process_init.connect
def listen_for_stop(**kwargs) -> None:
    """In each prefork pool process: ``STOP_SIGNAL`` from the main process sets ``delivery.STOP``."""
    signal.signal(STOP_SIGNAL, lambda signum, frame: delivery.STOP.set())


@worker_ready.connect
def resume_delivery(sender=None, **kwargs) -> None:
    """A worker that reads the delivery queue just started, often because the last one died
    or was replaced: run delivery now (what the last one gave back) and once more when a dead
    worker's leases have lapsed (``OUTBOX_LEASE_SECONDS``), instead of waiting for beat."""
    queue = deliver_outbox_task.app.amqp.router.route({}, deliver_outbox_task.name)["queue"].name
    consumed = {q.name for q in getattr(getattr(sender, "task_consumer", None), "queues", [])}
    if queue in consumed:
        deliver_outbox_task.apply_async()
        deliver_outbox_task.apply_async(countdown=delivery.lease_seconds() + 1)
