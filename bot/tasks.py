import logging
import time

from celery import shared_task

from bot.delivery import DeliveryReport, deliver_due

log = logging.getLogger(__name__)

# One run drains batches for at most this long, then leaves the rest to the next kick/sweep,
# so a flood of messages cannot hold a worker past the task time limit.
RUN_BUDGET_SECONDS = 120


@shared_task(ignore_result=True)
def deliver_outbox_task() -> str:
    """Kicked when a service commits a message, and swept every minute by beat. Any number
    may run at once: rows are claimed, never shared."""
    total = DeliveryReport()
    started = time.monotonic()
    while time.monotonic() - started < RUN_BUDGET_SECONDS:
        report = deliver_due()
        for name in ("claimed", "sent", "retrying", "failed"):
            setattr(total, name, getattr(total, name) + getattr(report, name))
        if not report.claimed or report.errors and not report.sent:
            break
    log.info("Outbox delivery run: %s%s", total, f" ({report.errors[0]})" if report.errors and not total.claimed else "")
    return str(total)
