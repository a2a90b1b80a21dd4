import logging

from celery import shared_task

from bot.delivery import deliver_due

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def deliver_outbox_task() -> str:
    """Kicked when a service commits a message, and swept every minute by beat; routed to the
    "discord" queue (``CELERY_TASK_ROUTES``) so a slow Discord never holds the other workers.
    Any number may run at once: rows are claimed, never shared. One run starts no send after
    ``OUTBOX_RUN_SECONDS`` and cancels each row after ``delivery.row_seconds()``, so it ends
    well inside the task time limits and the rows' leases."""
    report = deliver_due()
    log.info("Outbox delivery run: %s%s", report, f" ({report.errors[0]})" if report.errors and not report.claimed else "")
    return str(report)
