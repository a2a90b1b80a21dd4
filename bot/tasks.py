import logging

from celery import shared_task

from bot.delivery import deliver_due

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def deliver_outbox_task() -> str:
    """Kicked when a service commits a message, and swept every minute by beat."""
    report = deliver_due()
    if report.claimed:
        log.info("Outbox delivery: %s", report)
    return str(report)
