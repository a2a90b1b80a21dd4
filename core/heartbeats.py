"""Watched clocks: every process kind proves it is alive somewhere the web can read.

Celery beat is known to hang while its process still looks "Up" (celery#7251), a worker can
stop consuming, a bot's gateway connection can die quietly; when they do, reminders,
auto-booking, syncs and deliveries stop and nothing says so. So each one leaves a heartbeat
(one :class:`core.models.Heartbeat` row per component, overwritten in place):

- ``scheduler``: beat's scheduler stamps it on its ticks (``core.beat.HeartbeatScheduler``, at
  most every :data:`SCHEDULER_STAMP_SECONDS`): a hung beat stops stamping.
- ``worker`` and ``delivery``: beat sends ``core.tasks.heartbeat_task`` every
  ``HEARTBEAT_INTERVAL_SECONDS`` through the real broker to each queue ("celery" and
  "discord"); the worker that runs it stamps its component. So the whole beat → broker →
  worker path is proven, not just a process being up.
- ``bot``: ``bot.vitals`` stamps the time of the gateway's last heartbeat acknowledgement
  (not of its own loop), with the gateway latency and the last event seen.

:func:`clock_states` turns the rows into ``ok`` / ``late`` / ``never`` (``disabled`` for the
bot without ``DISCORD_TOKEN``) against the ``HEALTH_*_LATE_SECONDS`` thresholds; the deep
health check, the dashboard's System panel and ``/metrics`` all read it, so they agree.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from core.models import Heartbeat

log = logging.getLogger(__name__)

Component = Heartbeat.Component
COMPONENTS: tuple[str, ...] = tuple(Component.values)
# The queue whose worker stamps each worker component (beat routes the heartbeat task there).
QUEUES: dict[str, str] = {Component.WORKER: "celery", Component.DELIVERY: "discord"}
SCHEDULER_STAMP_SECONDS = 5.0  # beat ticks at least every 5 s (django-celery-beat); one write per ~tick

OK, LATE, NEVER, DISABLED = "ok", "late", "never", "disabled"


def late_after(component: str) -> int:
    """Seconds without a heartbeat after which ``component`` counts as late (a setting)."""
    return int(getattr(settings, f"HEALTH_{component.upper()}_LATE_SECONDS"))


def enabled(component: str) -> bool:
    """The bot runs only with a token; every other component always runs."""
    return component != Component.BOT or bool(settings.DISCORD_TOKEN)


def record(component: str, *, at: dt.datetime | None = None, **details: object) -> None:
    """Stamp ``component`` alive at ``at`` (now): one upsert, safe from any number of processes."""
    if component not in COMPONENTS:
        raise ValueError(f"unknown heartbeat component {component!r}; expected one of {', '.join(COMPONENTS)}")
    Heartbeat.objects.bulk_create(
        [Heartbeat(component=component, beat_at=at or timezone.now(), details=details)],
        update_conflicts=True, unique_fields=["component"], update_fields=["beat_at", "details"])


@dataclass(frozen=True)
class ClockState:
    component: str
    state: str  # ok | late | never | disabled
    age_seconds: int | None = None
    late_after: int = 0
    details: dict = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return self.state in (OK, DISABLED)

    @property
    def label(self) -> str:
        return Component(self.component).label

    def as_json(self) -> dict:
        """What ``/healthz/deep`` shows: the state and its age, plus the bot's gateway figures."""
        body: dict = {"state": self.state, "age_seconds": self.age_seconds}
        if self.component == Component.BOT:
            for key in ("latency_seconds", "last_event", "last_event_age_seconds"):
                if key in self.details:
                    body[key] = self.details[key]
        return body


def clock_states(now: dt.datetime | None = None) -> dict[str, ClockState]:
    """Every component's state, from one query."""
    now = now or timezone.now()
    rows = {row.component: row for row in Heartbeat.objects.all()}
    states = {}
    for component in COMPONENTS:
        threshold = late_after(component)
        row = rows.get(component)
        if not enabled(component):
            states[component] = ClockState(component, DISABLED, late_after=threshold)
            continue
        if row is None:
            states[component] = ClockState(component, NEVER, late_after=threshold)
            continue
        age = max(0, int((now - row.beat_at).total_seconds()))
        details = dict(row.details or {})
        if component == Component.BOT and details.get("last_event_at"):
            try:
                seen = dt.datetime.fromisoformat(details["last_event_at"])
                details["last_event_age_seconds"] = max(0, int((now - seen).total_seconds()))
            except (TypeError, ValueError):
                pass
        states[component] = ClockState(component, OK if age <= threshold else LATE, age, threshold, details)
    return states
