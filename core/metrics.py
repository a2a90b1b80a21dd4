"""Prometheus metrics of the whole service, served by the web at ``GET /metrics``.

Everything is read at scrape time from where it already lives, with indexed queries on small
sets (never a count of a whole table), so a scrape stays cheap however large the outbox and the
bytes ledger grow (``bench/metrics_scrape.py``: ≤ 200 ms with 1,000,000 of each):

- the outbox: pending messages by kind and the age of the oldest, messages given up in the last
  hour: index-only scans of two partial indexes (``outbox_pending_kind_idx``,
  ``outbox_failed_at_idx``) that hold only the waiting and the failed rows;
- Discord's answers by status code and the invalid ones (401/403/429) in the current 10-minute
  window, from ``bot.guard`` (Redis: shared by every process; without Redis only this process's);
- Celery task outcomes and durations by task (:class:`core.models.TaskRunStat`, counted by the
  worker that ran each task: :func:`record_task_run` on ``task_postrun``), and the last success of
  each periodic job (django-celery-beat's entries joined with those counts);
- every watched clock's heartbeat age (``core.heartbeats``).

The bot's own figures (interaction latency, gateway, event lane) are on its own port
(``bot.vitals``), since only the bot process sees them.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Min
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily

from core.models import TaskRunStat

log = logging.getLogger(__name__)

# -- counting task runs (in the worker) ------------------------------------------------------------
_started: dict[str, float] = {}


def task_started(task_id: str | None = None, **_: object) -> None:
    """``task_prerun``: remember when the run began (per worker process)."""
    if task_id:
        _started[task_id] = time.monotonic()


def task_finished(task_id: str | None = None, task=None, state: str | None = None, **_: object) -> None:
    """``task_postrun``: count the run's outcome and duration. Eager runs (``task.apply()`` in
    tests and shells) are not worker runs and are not counted."""
    began = _started.pop(task_id, None) if task_id else None
    if task is None or began is None or getattr(task.request, "is_eager", False):
        return
    outcome = {"SUCCESS": TaskRunStat.Outcome.SUCCESS, "RETRY": TaskRunStat.Outcome.RETRY}.get(
        state or "", TaskRunStat.Outcome.FAILURE)
    try:
        record_task_run(task.name, outcome, time.monotonic() - began)
    except Exception as exc:  # the database is away: a lost count must not fail the task
        log.warning("metrics: could not count %s (%s: %s)", task.name, exc.__class__.__name__, exc)


def record_task_run(task: str, outcome: str, seconds: float) -> None:
    """Add one run to the task's counters: one conditional UPDATE (the row exists after the
    first run), an INSERT the first time (a racing first insert retries the UPDATE)."""
    now = timezone.now()
    rows = TaskRunStat.objects.filter(task=task, outcome=outcome)
    changes = {"runs": F("runs") + 1, "seconds_total": F("seconds_total") + seconds, "last_at": now}
    if rows.update(**changes):
        return
    try:
        with transaction.atomic():
            TaskRunStat.objects.create(task=task, outcome=outcome, runs=1, seconds_total=seconds, last_at=now)
    except IntegrityError:
        rows.update(**changes)


# -- reading them (in the web) ----------------------------------------------------------------------
def _outbox(now: dt.datetime):
    from bot.models import OutboxMessage

    status = OutboxMessage.Status
    pending = GaugeMetricFamily("guildops_outbox_pending", "Outbox messages waiting to be delivered, by kind.",
                                labels=["kind"])
    oldest = GaugeMetricFamily("guildops_outbox_oldest_pending_age_seconds",
                               "Age of the oldest outbox message still waiting (0 when none waits).")
    by_kind = {row["kind"]: row for row in OutboxMessage.objects.filter(status=status.PENDING).order_by()
               .values("kind").annotate(n=Count("*"), oldest=Min("created_at"))}
    for kind in OutboxMessage.Kind.values:
        pending.add_metric([kind], by_kind[kind]["n"] if kind in by_kind else 0)
    first = min((row["oldest"] for row in by_kind.values()), default=None)
    oldest.add_metric([], max(0.0, (now - first).total_seconds()) if first else 0.0)
    failed = GaugeMetricFamily("guildops_outbox_failed_last_hour",
                               "Outbox messages given up (failed for good) in the last hour.")
    failed.add_metric([], OutboxMessage.objects.filter(status=status.FAILED,
                                                       failed_at__gte=now - dt.timedelta(hours=1)).count())
    return [pending, oldest, failed]


def _discord():
    from bot import guard

    answers = CounterMetricFamily("guildops_discord_answers", "Discord's answers to delivery by HTTP status code.",
                                  labels=["status"])
    for status, count in sorted(guard.answers_by_status().items()):
        answers.add_metric([str(status)], count)
    state = guard.state()
    invalid = GaugeMetricFamily("guildops_discord_invalid_requests_window",
                                "Invalid Discord requests (401, 403, 429) in the current 10-minute window, by status.",
                                labels=["status"])
    for status in guard.INVALID_STATUSES:
        invalid.add_metric([str(status)], state.by_status.get(status, 0))
    limit = GaugeMetricFamily("guildops_discord_invalid_request_limit",
                              "The guard pauses delivery when the window holds this many invalid requests.",
                              value=state.limit)
    paused = GaugeMetricFamily("guildops_discord_delivery_paused", "1 while the guard holds delivery back.",
                               value=1 if state.paused else 0)
    return [answers, invalid, limit, paused]


def _tasks(now: dt.datetime):
    from django_celery_beat.models import PeriodicTask

    runs = CounterMetricFamily("guildops_celery_task_runs", "Celery task runs by task and outcome.",
                               labels=["task", "outcome"])
    seconds = CounterMetricFamily("guildops_celery_task_seconds",
                                  "Seconds spent in Celery task runs, by task and outcome (÷ runs = mean duration).",
                                  labels=["task", "outcome"])
    last_success: dict[str, dt.datetime] = {}
    for row in TaskRunStat.objects.order_by("task", "outcome"):
        runs.add_metric([row.task, row.outcome], row.runs)
        seconds.add_metric([row.task, row.outcome], row.seconds_total)
        if row.outcome == TaskRunStat.Outcome.SUCCESS:
            last_success[row.task] = row.last_at
    periodic = GaugeMetricFamily(
        "guildops_periodic_job_last_success_timestamp_seconds",
        "When each enabled periodic job's task last succeeded (Unix time; absent: never since counting began).",
        labels=["job", "task"])
    for name, task in (PeriodicTask.objects.filter(enabled=True).exclude(task="core.tasks.heartbeat_task")
                       .order_by("name").values_list("name", "task")):
        if task in last_success:
            periodic.add_metric([name, task], last_success[task].timestamp())
    return [runs, seconds, periodic]


def _clocks(now: dt.datetime):
    from core import heartbeats

    age = GaugeMetricFamily("guildops_heartbeat_age_seconds", "Seconds since each component's last heartbeat.",
                            labels=["component"])
    late = GaugeMetricFamily("guildops_heartbeat_late",
                             "1 when an enabled component is late or was never seen (as /healthz/deep), else 0.",
                             labels=["component"])
    for name, clock in heartbeats.clock_states(now).items():
        if clock.age_seconds is not None:
            age.add_metric([name], clock.age_seconds)
        if clock.state != heartbeats.DISABLED:
            late.add_metric([name], 0 if clock.healthy else 1)
    return [age, late]


class ServiceCollector:
    def collect(self):
        from django.conf import settings

        now = timezone.now()
        yield InfoMetricFamily("guildops_build", "The running version.", value={"version": settings.GUILDOPS_VERSION})
        yield from _outbox(now)
        yield from _discord()
        yield from _tasks(now)
        yield from _clocks(now)


REGISTRY = CollectorRegistry()
REGISTRY.register(ServiceCollector())


def render() -> bytes:
    """The Prometheus text exposition of every series above."""
    return generate_latest(REGISTRY)

