"""The seed's scheduler: the runs that chain sync → match → check → report.

- Blizzard: fetch the roster and profiles (outside any transaction), ``sync_blizzard_roster``,
  then ``post_sync`` (match → check → report).
- Discord: the server's roles and full member list through the REST API →
  ``sync_discord_roles``, ``sync_discord_members``, then the integrity check (which closes the
  rank mismatches Discord's roles now satisfy).
- Addon upload: ``sync_addon_data`` → ``post_sync``.

Each step writes a ``SyncLog``. A long run claims its ``SyncLock`` row first (conditional
update): a second worker finds the claim and records a ``skipped`` log instead of running in
parallel (an addon upload instead waits for the row locks: it is never dropped). No new
issues → no report message.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Exists
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import jobs
from core.claims import claim_lease
from guildsync.models import SyncLock, SyncLog
from guildsync.services import db_sync, discord_sync, identity_engine, integrity_checker, reporter
from guildsync.services.common import (
    GuildSyncError,
    _ensure_lock_row,
    claim,
    finish_log,
    release,
    skipped_log,
    start_log,
)

log = logging.getLogger(__name__)
Status = SyncLog.Status


@dataclass
class PipelineResult:
    source: str
    status: str
    sync_log_id: int | None = None
    stats: dict[str, Any] = field(default_factory=dict)
    steps: list[str] = field(default_factory=list)
    report_messages: int = 0


def _logged(source: str, triggered_by: str, fn: Callable[[], Any], entry: SyncLog | None = None
            ) -> tuple[SyncLog, Any]:
    """Run one step under a SyncLog (``entry``: one started earlier, e.g. when an upload was
    queued); the step's exception is recorded, then re-raised."""
    entry = entry or start_log(source, triggered_by)
    started = time.monotonic()
    try:
        outcome = fn()
    except Exception as exc:
        finish_log(entry, Status.FAILED, {"seconds": round(time.monotonic() - started, 3)}, f"{exc}")
        raise
    stats = outcome.as_dict() if hasattr(outcome, "as_dict") else dict(outcome or {})
    stats["seconds"] = round(time.monotonic() - started, 3)
    status = Status.PARTIAL if stats.get("errors") or stats.get("not_found") else Status.SUCCESS
    finish_log(entry, status, stats)
    return entry, outcome


def post_sync(result: PipelineResult, triggered_by: str) -> PipelineResult:
    """match → check → report, the tail every sync shares."""
    _logged(SyncLog.Source.MATCHING, triggered_by, identity_engine.run_matching)
    result.steps.append("match")
    _entry, check = _logged(SyncLog.Source.INTEGRITY, triggered_by, integrity_checker.run_integrity_check)
    result.steps.append("check")
    if not settings.DISCORD_AUDIT_CHANNEL_ID:
        if check.new:
            log.warning("guildsync: %d new issue(s) but DISCORD_AUDIT_CHANNEL_ID is not set", check.new)
        return result
    # Every issue not yet reported goes out, also those found while no channel was set; with
    # nothing unreported the reporter sends nothing: no new issues, no report.
    result.report_messages = reporter.send_new_issues_report().messages
    if result.report_messages:
        result.steps.append("report")
    return result


def run_blizzard_pipeline(triggered_by: str = "schedule", client: Any = None) -> PipelineResult:
    """Blizzard roster → characters → match → check → report."""
    from guildsync.clients import BlizzardClient, BlizzardError

    token = claim("pipeline_blizzard", lease_seconds=1800)
    if token is None:
        entry = skipped_log(SyncLog.Source.BLIZZARD, triggered_by)
        return PipelineResult(SyncLog.Source.BLIZZARD, Status.SKIPPED, entry.pk)
    try:
        client = client or BlizzardClient()
        fetched: dict[str, Any] = {}

        def sync() -> dict[str, Any]:
            try:
                fetch = client.fetch_guild()
            except BlizzardError as exc:
                raise GuildSyncError(_("Blizzard API: %(error)s") % {"error": exc}) from exc
            if not fetch.characters:
                # an API glitch must not mark the whole guild as departed
                raise GuildSyncError(_("Blizzard returned an empty roster; nothing was changed."))
            stats = db_sync.sync_blizzard_roster(fetch.characters).as_dict()
            stats.update(members=len(fetch.characters), requests=fetch.requests,
                         not_found=fetch.not_found[:100], errors=fetch.errors[:100])
            fetched["stats"] = stats
            return stats

        started = time.monotonic()
        entry, stats = _logged(SyncLog.Source.BLIZZARD, triggered_by, sync)
        result = PipelineResult(SyncLog.Source.BLIZZARD, entry.status, entry.pk, stats, ["sync"])
        post_sync(result, triggered_by)
        if settings.DISCORD_AUDIT_CHANNEL_ID and (stats.get("errors") or stats.get("not_found")
                                                  or stats.get("unknown_classes")):
            reporter.send_sync_summary(gettext_lazy("Blizzard roster"), stats, time.monotonic() - started)
        return result
    finally:
        release("pipeline_blizzard", token)


def ingest_addon_records(records: Iterable[Mapping[str, Any]], triggered_by: str = "upload",
                         log: SyncLog | None = None) -> PipelineResult:
    """An addon export's records → notes on characters → match → check → report.

    Unlike the scheduled runs, an upload is never skipped (that would drop the officer's
    file): concurrent uploads queue on the row locks each step takes. ``log``: the run an
    upload was queued under (``services.addon_upload``), completed here."""
    records = list(records)
    entry, stats = _logged(SyncLog.Source.ADDON, triggered_by, lambda: db_sync.sync_addon_data(records), log)
    result = PipelineResult(SyncLog.Source.ADDON, entry.status, entry.pk, stats.as_dict(), ["sync"])
    result.stats["records"] = len(records)
    return post_sync(result, triggered_by)


def run_discord_sync(triggered_by: str = "schedule", guild_id: int | None = None) -> PipelineResult:
    """Every member of the Discord server → ``DiscordUser`` rows."""
    from bot.clients import DiscordRest, run_async

    guild_id = guild_id or settings.DISCORD_GUILD_ID
    token = claim("pipeline_discord", lease_seconds=600)
    if token is None:
        entry = skipped_log(SyncLog.Source.DISCORD, triggered_by)
        return PipelineResult(SyncLog.Source.DISCORD, Status.SKIPPED, entry.pk)
    try:
        async def fetch() -> tuple[list[dict], list[dict]]:
            async with DiscordRest() as api:
                roles = await api.call("GET", "/guilds/{guild_id}/roles", guild_id=guild_id)
                return roles, await api.list_members(guild_id)

        def sync() -> dict[str, Any]:
            if not guild_id:
                raise GuildSyncError(_("DISCORD_GUILD_ID is not set: there is no server to sync."))
            roles, members = run_async(fetch)
            if not members:
                # e.g. the Server Members intent was switched off: do not mark everyone departed
                raise GuildSyncError(_("Discord returned no members (is the Server Members intent enabled?); "
                                       "nothing was changed."))
            names = {int(r["id"]): r["name"] for r in roles}
            role_stats = discord_sync.sync_discord_roles(roles).as_dict()
            stats = discord_sync.sync_discord_members(
                [discord_sync.member_from_api(m, names) for m in members]).as_dict()
            stats.update(members=len(members), roles=role_stats)
            return stats

        entry, stats = _logged(SyncLog.Source.DISCORD, triggered_by, sync)
        result = PipelineResult(SyncLog.Source.DISCORD, entry.status, entry.pk, stats, ["sync"])
        # the roles Discord now shows close the rank mismatches they fix (and plan new ones)
        _logged(SyncLog.Source.INTEGRITY, triggered_by, integrity_checker.run_integrity_check)
        result.steps.append("check")
        return result
    finally:
        release("pipeline_discord", token)


def run_matching_logged(triggered_by: str) -> tuple[SyncLog, identity_engine.MatchResult]:
    """Matching on demand (API, admin), with its SyncLog."""
    return _logged(SyncLog.Source.MATCHING, triggered_by, identity_engine.run_matching)


def run_integrity_logged(triggered_by: str) -> tuple[SyncLog, integrity_checker.IntegrityResult]:
    """The integrity check on demand (admin), with its SyncLog."""
    return _logged(SyncLog.Source.INTEGRITY, triggered_by, integrity_checker.run_integrity_check)


# -- on-demand triggers (API) ----------------------------------------------------------------
@dataclass(frozen=True)
class TriggerJob:
    task_name: str  # the registered Celery name, queued through ``core.jobs``
    run_lock: str  # the SyncLock the run itself claims
    lease_seconds: int  # a queued run lost by the broker stops blocking triggers after this


TRIGGER_JOBS = {
    "blizzard": TriggerJob("guildsync.tasks.blizzard_pipeline_task", "pipeline_blizzard", 1800),
    "discord": TriggerJob("guildsync.tasks.discord_sync_task", "pipeline_discord", 600),
}


@dataclass(frozen=True)
class Trigger:
    task_id: str | None  # the queued run's Celery id (None: a scheduled run is in progress)
    queued: bool  # False: coalesced with the run already queued or running


class TaskQueueUnavailableError(GuildSyncError):
    """The broker could not take the task."""


def trigger_run(job: str, triggered_by: str) -> Trigger:
    """Queue a run of ``job`` unless the same job is already queued or running: then the
    trigger joins it (50 parallel triggers queue one run).

    The claim is one conditional UPDATE of the ``trigger_<job>`` row, taken only when it is
    free *and* the run's own lock is not held; the queued task frees it when it ends
    (``finish_trigger``), and the lease frees it if the broker lost the task."""
    spec = TRIGGER_JOBS[job]
    name = f"trigger_{job}"
    _ensure_lock_row(name)
    _ensure_lock_row(spec.run_lock)
    now = timezone.now()
    task_id = str(uuid.uuid4())
    running = SyncLock.objects.filter(name=spec.run_lock, locked_until__gt=now)
    claimed = claim_lease(SyncLock.objects.filter(~Exists(running), name=name), now=now,
                          until=now + timedelta(seconds=spec.lease_seconds), holder=task_id)
    if not claimed:
        holder = (SyncLock.objects.filter(name=name, locked_until__gt=now).values_list("holder", flat=True)
                  .first())
        return Trigger(holder or None, queued=False)
    try:
        jobs.send(spec.task_name, kwargs={"triggered_by": triggered_by, "trigger_id": task_id}, task_id=task_id)
    except jobs.JobQueueUnavailableError as exc:  # free the claim so the next trigger can try
        release(name, task_id)
        raise TaskQueueUnavailableError(_("The task queue is unreachable; try again shortly.")) from exc
    return Trigger(task_id, queued=True)


def finish_trigger(job: str, trigger_id: str) -> None:
    """The triggered run ended (whatever its outcome): the next trigger queues a new one."""
    if trigger_id:
        release(f"trigger_{job}", trigger_id)
