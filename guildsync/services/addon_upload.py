"""The one path every addon upload takes: the API (which the companion calls), the admin's
upload page and the Celery worker.

Why it looks like this (issue 12, defect 9):

* The file is parsed in a **separate, bounded process** (``RLIMIT_CPU`` =
  ``ADDON_PARSE_CPU_SECONDS``, ``RLIMIT_AS`` = ``ADDON_PARSE_MAX_MEMORY_MB``, plus a wall-clock
  timeout): whatever the input, a web or worker process never spends more than that budget on
  it, and the memory a hostile file claims is returned to the system when the child exits
  (gunicorn workers used to keep it). Over the budget → :class:`ParseBudgetExceededError` (422).
* The parser itself is linear and refuses files over ``ADDON_UPLOAD_MAX_BYTES`` (413),
  with more than ``ADDON_UPLOAD_MAX_TABLES`` tables (413) or more than
  ``ADDON_UPLOAD_MAX_MEMBERS`` members (413); every refusal happens before anything is written.
* Every file is parsed at once (in that bounded child), so a refusal is always immediate.
  The records of a file up to ``ADDON_UPLOAD_SYNC_MAX_BYTES`` are then written while the
  officer waits (the answer says what was done); a bigger file's records go to the worker,
  and the upload answers with the ``SyncLog`` the worker will complete: the status is
  honest and can be polled.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from core import i18n, jobs
from core.deferred_text import render_message
from guildsync.models import SyncLog
from guildsync.services import pipeline
from guildsync.services.addon_processor import (
    AddonFormatError,
    SavedVariablesError,
    SavedVariablesTooLargeError,
    UploadTooLargeError,
)
from guildsync.services.common import GuildSyncError, finish_log, start_log

__all__ = ["ParseBudgetExceededError", "QueueUnavailableError", "UploadOutcome", "parse_upload", "process_upload", "run_addon_pipeline", "run_queued_upload",
           "submit_upload"]

_CHILD = "guildsync.services.addon_parse_child"
_ERRORS: dict[str, type[AddonFormatError]] = {
    "SavedVariablesTooLargeError": SavedVariablesTooLargeError, "SavedVariablesError": SavedVariablesError,
    "UploadTooLargeError": UploadTooLargeError, "AddonFormatError": AddonFormatError,
}


class ParseBudgetExceededError(AddonFormatError):
    """Parsing the file needed more CPU time or memory than an upload may use (422)."""


class QueueUnavailableError(GuildSyncError):
    """A large upload could not be queued: the broker is unreachable (503)."""


@dataclass
class UploadOutcome:
    """``done``: processed now, ``result`` says what changed. ``queued``: the worker will do
    it; ``sync_log_id`` is the run to watch (status ``running`` until it is finished)."""

    status: str
    sync_log_id: int | None
    result: pipeline.PipelineResult | None = None
    task_id: str | None = None


def _limit_child() -> None:  # pragma: no cover - runs in the child between fork and exec
    """CPU: a profiling timer (CPU time, fractions of a second; it survives exec and its
    SIGPROF ends the process) and RLIMIT_CPU as the backstop. Memory: RLIMIT_AS."""
    import math
    import resource
    import signal

    cpu = float(settings.ADDON_PARSE_CPU_SECONDS)
    signal.setitimer(signal.ITIMER_PROF, cpu)
    hard = math.ceil(cpu) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (hard, hard))
    memory = int(settings.ADDON_PARSE_MAX_MEMORY_MB) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))


def parse_upload(data: bytes) -> list[dict[str, Any]]:
    """The file's bytes → roster records, parsed in a bounded child process. Raises the
    parser's own errors (``SavedVariablesError`` with line and column, ``AddonFormatError``,
    ``UploadTooLargeError``) or :class:`ParseBudgetExceededError`."""
    limit = settings.ADDON_UPLOAD_MAX_BYTES
    if len(data) > limit:
        raise SavedVariablesTooLargeError(_("file is %(size)s bytes, over the %(limit)s-byte limit")
                                          % {"size": i18n.number(len(data)), "limit": i18n.number(limit)})
    limits = {"max_bytes": limit, "max_tables": settings.ADDON_UPLOAD_MAX_TABLES,
              "max_members": settings.ADDON_UPLOAD_MAX_MEMBERS}
    cpu = settings.ADDON_PARSE_CPU_SECONDS
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "PYTHONPATH")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(settings.BASE_DIR), env.get("PYTHONPATH", "")]))
    budget_message = _("Reading this file needed more than the %(cpu)s s of CPU time or %(memory)s MB of memory "
                       "an upload may use (ADDON_PARSE_CPU_SECONDS, ADDON_PARSE_MAX_MEMORY_MB). Nothing was "
                       "changed.") % {"cpu": f"{cpu:g}", "memory": settings.ADDON_PARSE_MAX_MEMORY_MB}
    try:
        child = subprocess.run(
            [sys.executable, "-m", _CHILD, json.dumps(limits)],
            input=data, capture_output=True, timeout=max(30.0, cpu * 3), env=env, cwd=str(settings.BASE_DIR),
            preexec_fn=_limit_child, check=False)
    except subprocess.TimeoutExpired:
        raise ParseBudgetExceededError(budget_message) from None
    try:
        answer = json.loads(child.stdout.decode("utf-8"))
    except ValueError:
        answer = None
    if child.returncode != 0 or not isinstance(answer, dict):
        # killed by SIGXCPU/SIGKILL (CPU limit) or MemoryError under RLIMIT_AS
        if child.returncode < 0 or b"MemoryError" in child.stderr or answer == {"error": "MemoryError"}:
            raise ParseBudgetExceededError(budget_message)
        raise RuntimeError(f"the parser process failed ({child.returncode}): {child.stderr[-2000:]!r}")
    if "records" in answer:
        return answer["records"]
    if answer.get("error") == "MemoryError":
        raise ParseBudgetExceededError(budget_message)
    cls = _ERRORS.get(answer.get("error"), AddonFormatError)
    # the child's message in the officer's language (its template and values, ``addon_parser.Message``)
    message = render_message(answer["text"], _) if answer.get("text") else answer["message"]
    if issubclass(cls, SavedVariablesError):
        raise cls(message, answer.get("line"), answer.get("column"), translate=_)
    raise cls(message)


def run_addon_pipeline(data: str | bytes, triggered_by: str = "upload") -> pipeline.PipelineResult:
    """The SavedVariables file → parse (in the bounded process) → ``ingest_addon_records``. A
    parse error raises ``SavedVariablesError`` before anything is written."""
    return process_upload(data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data, triggered_by)


def process_upload(data: bytes, triggered_by: str) -> pipeline.PipelineResult:
    """Parse (bounded) and ingest now, whatever the size (the worker's task for a raw file)."""
    return pipeline.ingest_addon_records(parse_upload(data), triggered_by)


def submit_upload(data: bytes, triggered_by: str, *, api_key_id: str | None = None) -> UploadOutcome:
    """Parse now (bounded, so every refusal is immediate and nothing is written), then ingest
    a small file's records now and queue a big file's records for the worker. ``api_key_id``:
    the uploading API key, recorded on the run so it may read the run's status."""
    records = parse_upload(data)
    log = start_log(SyncLog.Source.ADDON, triggered_by, api_key_id=api_key_id)
    if len(data) <= settings.ADDON_UPLOAD_SYNC_MAX_BYTES:
        result = pipeline.ingest_addon_records(records, triggered_by, log=log)
        return UploadOutcome("done", result.sync_log_id, result)
    log.stats = {"queued": True, "records": len(records)}
    log.save(update_fields=["stats"])
    try:
        task_id = jobs.send("guildsync.tasks.addon_upload_task", args=(records, triggered_by, log.pk))
    except jobs.JobQueueUnavailableError as exc:  # say so, and close the run
        finish_log(log, SyncLog.Status.FAILED, {"records": len(records)}, _("The task queue is unreachable."))
        raise QueueUnavailableError(_("The task queue is unreachable; try again shortly. Nothing was changed.")) from exc
    return UploadOutcome("queued", log.pk, task_id=task_id)


def run_queued_upload(records: list[dict[str, Any]], triggered_by: str, sync_log_id: int) -> pipeline.PipelineResult:
    """The worker's half of :func:`submit_upload`: ingests the records and completes the
    upload's waiting ``SyncLog`` (failed, with the reason, if the ingest is refused)."""
    return pipeline.ingest_addon_records(records, triggered_by, log=SyncLog.objects.get(pk=sync_log_id))
