"""The bot's vital signs: its heartbeat for ``/healthz/deep`` and its own metrics port.

Heartbeat (``core.heartbeats``, component ``bot``): every :func:`stamp_seconds` the bot
records *when Discord last acknowledged its gateway heartbeat* (discord.py's keep-alive
thread), not when this loop ran: a gateway connection that died while the process and its
event loop live on makes the heartbeat age, and ``/healthz/deep`` says ``late``. With it go
the gateway latency and the last gateway event seen (``on_socket_event_type``, which
discord.py dispatches for every event).

Metrics (prometheus-client, ``BOT_METRICS_PORT``, off when 0): how fast members are answered
(acknowledgement and final answer of every interaction answered through
``bot.interactions.respond``, from the moment the bot starts on it), the gateway latency, and
the gateway-event lane's depth and skips. The bot is the only process that sees these, so it
serves them itself; the web's ``/metrics`` serves the rest (README, "Metrics").
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import time
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone
from prometheus_client import CollectorRegistry, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

log = logging.getLogger(__name__)



def stamp_seconds() -> float:
    """How often the heartbeat row is written: 15 s, or a quarter of the late threshold."""
    return max(1.0, min(15.0, settings.HEALTH_BOT_LATE_SECONDS / 4))


REGISTRY = CollectorRegistry()
# Discord's deadlines: 3 s to acknowledge, 15 min to answer; buckets around the 0.4 s deferral.
_BUCKETS = (0.05, 0.1, 0.25, 0.4, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0)
ACK_SECONDS = Histogram(
    "guildops_bot_interaction_ack_seconds",
    "Seconds from the bot starting on an interaction to Discord accepting its acknowledgement "
    "(the answer itself, or the deferral).", buckets=_BUCKETS, registry=REGISTRY)
ANSWER_SECONDS = Histogram(
    "guildops_bot_interaction_answer_seconds",
    "Seconds from the bot starting on an interaction to its final answer being sent.",
    buckets=_BUCKETS, registry=REGISTRY)

_bot: Any = None  # the running bot, read by the collector below
_lane: Any = None  # the gateway event lane, registered by bot.interactions (which imports this module)


def watch_event_lane(lane: Any) -> None:
    """``bot.interactions`` hands over its event lane, so the collector reads it without importing it."""
    global _lane
    _lane = lane


def observe_interaction(started: float, acked_at: float | None, answered_at: float | None) -> None:
    """Called by ``respond`` with ``time.monotonic()`` values; ``None`` when that step failed."""
    if acked_at is not None:
        ACK_SECONDS.observe(acked_at - started)
    if answered_at is not None:
        ANSWER_SECONDS.observe(answered_at - started)


def gateway_latency(bot: Any) -> float | None:
    latency = getattr(bot, "latency", None) if bot is not None else None
    return latency if isinstance(latency, float) and math.isfinite(latency) else None


class _BotCollector:
    """Read at each scrape: gateway latency, the event lane's depth and per-kind counts."""

    def collect(self):
        lane = _lane
        depth, stats = (lane.depth, dict(lane.stats)) if lane is not None else (0, {})
        latency = GaugeMetricFamily("guildops_bot_gateway_latency_seconds",
                                    "Seconds between the last gateway heartbeat and Discord's acknowledgement.")
        value = gateway_latency(_bot)
        if value is not None:
            latency.add_metric([], value)
        yield latency
        yield GaugeMetricFamily("guildops_bot_event_lane_depth",
                                "Gateway events queued for the event threads, not started yet.",
                                value=depth)
        skipped = CounterMetricFamily("guildops_bot_event_lane_skipped",
                                      "Gateway events skipped because the lane's queue was full, by kind.",
                                      labels=["kind"])
        handled = CounterMetricFamily("guildops_bot_event_lane_events",
                                      "Gateway events by kind and outcome (queued, done, failed).",
                                      labels=["kind", "outcome"])
        for key, count in sorted(stats.items()):
            kind, _, outcome = key.rpartition(":")
            if not kind:
                continue
            if outcome == "skipped":
                skipped.add_metric([kind], count)
            else:
                handled.add_metric([kind, outcome], count)
        yield skipped
        yield handled


REGISTRY.register(_BotCollector())


def serve_metrics() -> bool:
    """Start the metrics port (``BOT_METRICS_PORT`` on ``BOT_METRICS_ADDR``) when configured."""
    port = settings.BOT_METRICS_PORT
    if not port:
        return False
    try:
        start_http_server(port, addr=settings.BOT_METRICS_ADDR, registry=REGISTRY)
    except OSError as exc:  # port taken: the bot matters more than its metrics
        log.error("runbot: metrics port %s:%s unavailable (%s); serving no metrics",
                  settings.BOT_METRICS_ADDR, port, exc)
        return False
    log.info("runbot: metrics on http://%s:%s/metrics", settings.BOT_METRICS_ADDR, port)
    return True


class Vitals:
    """Attached to the bot (``bot.vitals``): remembers the last gateway event and stamps the
    heartbeat from the gateway's keep-alive state."""

    def __init__(self, bot: Any) -> None:
        self.bot = bot
        self.last_event: str | None = None
        self.last_event_at: dt.datetime | None = None
        self._task: asyncio.Task | None = None

    async def on_socket_event_type(self, event_type: str) -> None:
        self.last_event, self.last_event_at = event_type, timezone.now()

    def last_ack_at(self) -> dt.datetime | None:
        """Wall-clock time of the gateway's last heartbeat acknowledgement, or ``None`` when
        no gateway connection is up. discord.py keeps it as ``perf_counter`` time on the
        connection's keep-alive thread (``_keep_alive._last_ack``)."""
        keep_alive = getattr(getattr(self.bot, "ws", None), "_keep_alive", None)
        last_ack = getattr(keep_alive, "_last_ack", None)
        if keep_alive is None or not isinstance(last_ack, float) or self.bot.is_closed():
            return None
        return timezone.now() - dt.timedelta(seconds=max(0.0, time.perf_counter() - last_ack))

    def details(self) -> dict:
        found: dict = {}
        latency = gateway_latency(self.bot)
        if latency is not None:
            found["latency_seconds"] = round(latency, 4)
        if self.last_event is not None and self.last_event_at is not None:
            found["last_event"] = self.last_event
            found["last_event_at"] = self.last_event_at.isoformat()
        return found

    async def stamp(self) -> bool:
        at = self.last_ack_at()
        if at is None:
            return False
        await asyncio.to_thread(_record, at, self.details())
        return True

    def start(self) -> None:
        """Start stamping (and the metrics port); called once the bot has logged in."""
        global _bot
        _bot = self.bot
        serve_metrics()
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="bot-heartbeat")

    async def _run(self) -> None:
        while True:
            stamped = False
            try:
                stamped = await self.stamp()
            except Exception as exc:  # the database is away: the heartbeat ages, health says so
                log.warning("runbot: could not record the heartbeat (%s: %s)", exc.__class__.__name__, exc)
            await asyncio.sleep(stamp_seconds() if stamped else 1.0)  # not connected yet: look again soon

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None


def _record(at: dt.datetime, details: dict) -> None:
    from core import heartbeats

    try:
        heartbeats.record(heartbeats.Component.BOT, at=at, **details)
    finally:
        connection.close()  # a pool thread of asyncio's: keep no connection between stamps
