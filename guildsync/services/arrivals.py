"""Matching when members arrive (issue #14 point 4): a new Discord member, or one whose name
changed, is matched within a minute instead of waiting for the next Blizzard run (up to 6 h).

Debounced so a burst leads to one run: the first arrival of a burst marks the ``matching_due``
lock row with the moment the run is due (a conditional UPDATE that only succeeds while the row
is unmarked) and schedules one task for that moment; later arrivals find it marked and do
nothing. The task claims the mark atomically (a second conditional UPDATE clearing it), so even
with several workers exactly one runs matching per mark. Arrivals during that run mark the row
again and get a run of their own after it.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core import jobs
from guildsync.models import SyncLock
from guildsync.services.common import _ensure_lock_row

DUE_ROW = "matching_due"
MATCHING_TASK = "guildsync.tasks.matching_on_arrival_task"


def debounce_seconds() -> int:
    return int(getattr(settings, "GUILDSYNC_MATCH_DEBOUNCE_SECONDS", 30))


def request_matching(now: dt.datetime | None = None) -> bool:
    """Ask for a matching run soon. True when this call opened a new burst (and scheduled the
    run, once the caller's transaction commits); False when a run is already due.

    The run is queued with ``core.jobs.send_on_commit``, in the same transaction as the mark:
    if the broker is down, the job waits as a pending row and the periodic sweep queues it once
    the broker is back, so a set mark always has a run coming (never a mark nobody clears)."""
    now = now or timezone.now()
    _ensure_lock_row(DUE_ROW)
    delay = debounce_seconds()
    with transaction.atomic():
        opened = SyncLock.objects.filter(name=DUE_ROW, locked_until__isnull=True).update(
            locked_until=now + dt.timedelta(seconds=delay), holder="")
        if opened:
            jobs.send_on_commit(MATCHING_TASK, countdown=delay)
    return bool(opened)


def claim_due_matching() -> bool:
    """The task's atomic claim: clears the mark; True for exactly one caller per mark."""
    _ensure_lock_row(DUE_ROW)
    with transaction.atomic():
        return bool(SyncLock.objects.filter(Q(locked_until__isnull=False), name=DUE_ROW).update(locked_until=None))
