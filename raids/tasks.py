"""Celery tasks of the raids app (names as declared in CELERY_BEAT_SCHEDULE). Thin: each
calls services and logs one line per run. Safe to run on two workers at once: the services
claim each event with a row lock."""

from __future__ import annotations

import logging

from celery import shared_task

from raids import services

log = logging.getLogger(__name__)


@shared_task
def auto_book_task() -> dict:
    """Every 5 minutes: push to Raid-Helper the upcoming events booked here while it was not
    configured, book next week for events that started 10–20 minutes ago, then retry the
    Raid-Helper sign-ups left pending or failed on upcoming events."""
    later = services.push_booked_here_events()
    run = services.check_and_auto_book()
    signups = services.retry_signups()
    log.info("%s (sign-ups retried: %d sent, %d failed)%s%s", run.summary(), signups.sent, signups.failed,
             "" if run.configured else " — Raid-Helper not configured",
             f"; booked here earlier, now on Raid-Helper: {later.pushed} pushed, {later.failed} failed"
             if later.pushed or later.failed else "")
    return {"configured": run.configured, "booked": run.booked, "skipped": run.skipped, "failed": run.failed,
            "signups_sent": signups.sent, "signups_failed": signups.failed,
            "pushed_later": later.pushed, "push_later_failed": later.failed}


@shared_task
def import_attendance_task() -> dict:
    """Every 30 minutes: import the sign-ups of Raid-Helper events that have ended."""
    counts = services.import_finished_events()
    log.info("Attendance import: %(imported)d imported, %(skipped)d skipped, %(failed)d failed", counts)
    return counts


@shared_task
def sync_signups_task() -> dict:
    """Every 10 minutes: the live sign-up sync of the next 14 days' events and their roster posts."""
    counts = services.sync_upcoming_signups()
    log.info("Sign-up sync: %(synced)d synced, %(failed)d failed (retried next run), %(posted)d posted, "
             "%(edited)d edited", counts)
    return counts


@shared_task
def import_wcl_attendance_task() -> dict:
    """Every 30 minutes, when Warcraft Logs credentials are set: attendance of the raids that
    ended, from the guild's report of the evening (retried while it is not uploaded yet)."""
    counts = services.import_wcl_finished_events()
    if counts["configured"]:
        log.info("Warcraft Logs attendance: %(imported)d imported, %(waiting)d waiting for a report, "
                 "%(gave_up)d given up, %(busy)d busy, %(failed)d failed (retried next run)", counts)
    return counts
