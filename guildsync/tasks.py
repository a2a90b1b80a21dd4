"""Celery tasks of guildsync: thin wrappers over ``services.pipeline`` (the seed's scheduler).

Names match ``CELERY_BEAT_SCHEDULE`` in config/settings.py. Each periodic run logs one line;
a run that finds another in progress records a ``skipped`` SyncLog and returns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery import shared_task

from core.errors import DomainError
from guildsync.services import addon_upload, arrivals, pipeline

log = logging.getLogger(__name__)


def _run(label: str, fn: Callable[[], pipeline.PipelineResult]) -> dict[str, Any]:
    """Run a pipeline and log one line. A failure is already in its SyncLog; it is logged
    here and not raised, so the next scheduled run simply tries again (no retry storm)."""
    try:
        result = fn()
    except Exception as exc:
        log.warning("guildsync.%s: failed: %s", label, exc, exc_info=not isinstance(exc, DomainError))
        return {"status": "failed", "error": str(exc)[:500]}
    log.info("guildsync.%s: %s steps=%s stats=%s", label, result.status, result.steps, result.stats)
    return _summary(result)


def _summary(result: pipeline.PipelineResult) -> dict[str, Any]:
    return {"source": result.source, "status": result.status, "sync_log_id": result.sync_log_id,
            "steps": result.steps, "report_messages": result.report_messages}


@shared_task(name="guildsync.tasks.discord_sync_task")
def discord_sync_task(triggered_by: str = "schedule", trigger_id: str = "") -> dict[str, Any]:
    """Every 15 minutes: the full member list, catching anything the gateway missed. From an
    API trigger (``trigger_id``) the trigger's claim is freed when the run ends."""
    try:
        return _run("discord_sync", lambda: pipeline.run_discord_sync(triggered_by))
    finally:
        pipeline.finish_trigger("discord", trigger_id)


@shared_task(name="guildsync.tasks.blizzard_pipeline_task")
def blizzard_pipeline_task(triggered_by: str = "schedule", trigger_id: str = "") -> dict[str, Any]:
    """01:00, 07:00, 13:00, 19:00 UTC: Blizzard roster → match → check → report."""
    try:
        return _run("blizzard_pipeline", lambda: pipeline.run_blizzard_pipeline(triggered_by))
    finally:
        pipeline.finish_trigger("blizzard", trigger_id)


@shared_task(name="guildsync.tasks.addon_pipeline_task")
def addon_pipeline_task(text: str, triggered_by: str = "upload") -> dict[str, Any]:
    """An addon SavedVariables export → notes → match → check → report."""
    return _run("addon_pipeline", lambda: addon_upload.run_addon_pipeline(text, triggered_by))


@shared_task(name="guildsync.tasks.addon_upload_task")
def addon_upload_task(records: list[dict[str, Any]], triggered_by: str, sync_log_id: int) -> dict[str, Any]:
    """A large upload's records, already parsed and checked by ``addon_upload.submit_upload``:
    notes → match → check → report, completing the upload's waiting SyncLog."""
    return _run("addon_upload", lambda: addon_upload.run_queued_upload(records, triggered_by, sync_log_id))


@shared_task(name="guildsync.tasks.matching_on_arrival_task")
def matching_on_arrival_task() -> dict[str, Any]:
    """Scheduled by the first member arrival of a burst (``arrivals.request_matching``): one
    matching run for the whole burst; a duplicate delivery finds the mark claimed and skips."""
    if not arrivals.claim_due_matching():
        return {"status": "skipped"}
    entry, result = pipeline.run_matching_logged("member arrival")
    log.info("guildsync.matching_on_arrival: %s linked=%s", entry.status, result.as_dict().get("links_created"))
    return {"status": entry.status, "sync_log_id": entry.pk}


@shared_task(name="guildsync.tasks.push_role_connection_task", autoretry_for=(DomainError,), retry_backoff=30,
             max_retries=5)
def push_role_connection_task(discord_user_pk: int) -> str:
    """Push one member's Linked Roles values to Discord (``services.linked_roles.push``); Discord
    failing is retried with backoff, a refused token is recorded and waits for the next sign-in."""
    from guildsync.services import linked_roles

    return linked_roles.push(discord_user_pk)
