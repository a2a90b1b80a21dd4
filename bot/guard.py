"""The invalid-request guard: keep far away from Discord's IP ban.

Discord restricts an IP address for a while once it made 10,000 invalid requests in 10
minutes, an invalid request being one answered 401, 403 or 429 (a 429 whose
``X-RateLimit-Scope`` is ``shared`` does not count); it asks applications to avoid them
(discord-api-docs, topics/rate-limits.md, "Invalid Request Limit"). A revoked token, a lost
permission or a limiter bug can get there while workers retry, and the ban stops every bot on
the address, the members' slash commands included.

So every answer Discord gives the delivery client is recorded here (``record_answer``): a
cumulative count per status code (for ``/metrics``), and the invalid ones with their time in a
sliding 10-minute window. Once the window holds ``DISCORD_INVALID_REQUEST_LIMIT`` (5,000 by
default, half of Discord's ban) delivery pauses: it claims nothing and sends nothing, says why
in the log and on the admin dashboard, and resumes by itself when enough of the window has
aged out that it holds fewer than the limit again. Rows are never touched by the pause: a row
claimed before it is given back unsent (no attempt counted), so nothing is lost or sent twice.

Where the numbers live: with ``REDIS_URL`` in Redis, shared by every process on the machine
(one sorted set per status code, scored with Redis' own clock, trimmed as it is read; one hash
of cumulative counts). Without Redis (the embedded run command) or while Redis is unreachable,
in this process. Reading is a few Redis commands in one round trip: no table is scanned.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field

import redis
from django.conf import settings
from django.utils.translation import gettext as _

log = logging.getLogger(__name__)

WINDOW_SECONDS = 600  # Discord's window
INVALID_STATUSES = (401, 403, 429)
DISCORD_BAN_AT = 10_000
CACHE_SECONDS = 1.0  # ``paused()`` (asked before every request) reads the shared state at most this often
PREFIX = "bot:discord:guard"  # Redis keys: {PREFIX}:answers (hash), {PREFIX}:invalid:{status} (sorted sets)

# Adds one answer and trims the window, on Redis' clock: KEYS = answers hash, window set (or
# none); ARGV = status, a unique member.
_RECORD = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
if KEYS[2] then
  redis.call('ZADD', KEYS[2], now, ARGV[2])
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[3]))
  redis.call('EXPIRE', KEYS[2], tonumber(ARGV[3]) + 60)
end
return 1
"""
# The window per status: trims, then returns [now, count per key..., oldest score per key...].
_WINDOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local out = {tostring(now)}
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - tonumber(ARGV[1]))
  out[#out + 1] = redis.call('ZCARD', key)
end
return out
"""


@dataclass(frozen=True)
class GuardState:
    """What the guard says now: ``invalid`` answers in the last 10 minutes against ``limit``."""

    invalid: int
    limit: int
    paused: bool
    reason: str  # one sentence for the log and the dashboard; "" while sending
    by_status: dict[int, int] = field(default_factory=dict)  # the window's invalid answers per status
    resumes_in: float | None = None  # seconds until the window holds fewer than the limit (while paused)


class _LocalStore:
    """The window and counts of this process (no Redis, or Redis unreachable)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.answers: Counter[int] = Counter()
        self.window: dict[int, deque[float]] = {s: deque() for s in INVALID_STATUSES}

    def record(self, status: int, invalid: bool) -> None:
        now = time.monotonic()
        with self.lock:
            self.answers[status] += 1
            if invalid:
                self.window[status].append(now)
                self._trim(now)

    def _trim(self, now: float) -> None:
        for times in self.window.values():
            while times and times[0] <= now - WINDOW_SECONDS:
                times.popleft()

    def counts(self) -> dict[int, int]:
        with self.lock:
            return dict(self.answers)

    def in_window(self) -> dict[int, int]:
        with self.lock:
            self._trim(time.monotonic())
            return {s: len(t) for s, t in self.window.items()}

    def resumes_in(self, limit: int) -> float | None:
        with self.lock:
            now = time.monotonic()
            self._trim(now)
            times = sorted(t for q in self.window.values() for t in q)
        excess = len(times) - limit
        return None if excess < 0 else max(times[excess] + WINDOW_SECONDS - now, 0.0)


class _RedisStore:
    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.record_script = self.client.register_script(_RECORD)
        self.window_script = self.client.register_script(_WINDOW)

    @staticmethod
    def key(status: int) -> str:
        return f"{PREFIX}:invalid:{status}"

    def record(self, status: int, invalid: bool) -> None:
        keys = [f"{PREFIX}:answers"] + ([self.key(status)] if invalid else [])
        self.record_script(keys=keys, args=[status, uuid.uuid4().hex, WINDOW_SECONDS])

    def counts(self) -> dict[int, int]:
        return {int(k): int(v) for k, v in self.client.hgetall(f"{PREFIX}:answers").items()}

    def in_window(self) -> dict[int, int]:
        _now, *counts = self.window_script(keys=[self.key(s) for s in INVALID_STATUSES], args=[WINDOW_SECONDS])
        return {s: int(n) for s, n in zip(INVALID_STATUSES, counts, strict=True)}

    def resumes_in(self, limit: int) -> float | None:
        """When the window will hold fewer than ``limit``: the (excess+1)-th oldest entry of
        all statuses leaves it (only asked while paused, so ``excess`` is small)."""
        now_raw, *counts = self.window_script(keys=[self.key(s) for s in INVALID_STATUSES], args=[WINDOW_SECONDS])
        excess = sum(int(n) for n in counts) - limit
        if excess < 0:
            return None
        pipe = self.client.pipeline(transaction=False)
        for status in INVALID_STATUSES:
            pipe.zrange(self.key(status), 0, excess, withscores=True)
        oldest = sorted(score for entries in pipe.execute() for _member, score in entries)
        if len(oldest) <= excess:
            return 0.0
        return max(oldest[excess] + WINDOW_SECONDS - float(now_raw), 0.0)

    def reset(self) -> None:
        self.client.delete(f"{PREFIX}:answers", *(self.key(s) for s in INVALID_STATUSES))


class _Guard:
    """The store in use, the fallback when Redis fails, and the cached verdict."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.local = _LocalStore()
        self.remote: _RedisStore | None = None
        self.remote_url: str | None = None
        self.redis_failed_at = 0.0
        self.cached: tuple[float, GuardState] | None = None
        self.was_paused = False

    def store(self) -> _LocalStore | _RedisStore:
        url = getattr(settings, "REDIS_URL", "") or ""
        if not url or time.monotonic() - self.redis_failed_at < 30:
            return self.local
        with self.lock:
            if self.remote is None or self.remote_url != url:
                self.remote, self.remote_url = _RedisStore(url), url
            return self.remote

    def failed(self, exc: Exception) -> None:
        if time.monotonic() - self.redis_failed_at >= 30:
            log.warning("Discord invalid-request guard: Redis unavailable (%s); counting in this process only "
                        "for 30 s", exc)
        self.redis_failed_at = time.monotonic()

    def call(self, method: str, *args):
        store = self.store()
        try:
            return getattr(store, method)(*args)
        except redis.RedisError as exc:
            self.failed(exc)
            return getattr(self.local, method)(*args)


GUARD = _Guard()


def limit() -> int:
    return int(settings.DISCORD_INVALID_REQUEST_LIMIT)


def record_answer(status: int, *, shared_scope: bool = False) -> None:
    """Count one answer of Discord (every status, for the metrics); a 401, 403 or 429 also
    enters the 10-minute window, unless it is a 429 of a *shared* resource limit, which
    Discord does not count. Never raises: a broken Redis must not stop delivery."""
    invalid = status in INVALID_STATUSES and not (status == 429 and shared_scope)
    GUARD.call("record", int(status), invalid)
    if invalid:
        GUARD.cached = None  # the next ``paused()`` reads the window afresh: stop at the limit, not a second later


def answers_by_status() -> dict[int, int]:
    """Discord's answers by HTTP status code since the counters began (Redis: since Redis
    started or the keys were reset; without Redis: since this process started)."""
    return GUARD.call("counts")


def invalid_in_window() -> int:
    """401, 403 and 429 answers in the last 10 minutes (all processes sharing Redis)."""
    return sum(GUARD.call("in_window").values())


def state() -> GuardState:
    """The guard's verdict now, with the reason an officer reads on the dashboard."""
    by_status = GUARD.call("in_window")
    invalid, cap = sum(by_status.values()), limit()
    paused = invalid >= cap
    resumes_in = GUARD.call("resumes_in", cap) if paused else None
    reason = ""
    if paused:
        minutes = max(round(resumes_in / 60), 1) if resumes_in is not None else None
        reason = pause_reason(invalid, dict(by_status), cap, minutes)
    return GuardState(invalid, cap, paused, reason, by_status, resumes_in)


def pause_reason(invalid: int, by_status: dict[int, int], cap: int, minutes: int | None) -> str:
    """Why delivery stopped, in the active language: an officer reads it on the dashboard (and,
    stored as a held-back row's ``last_error`` in the worker's English, on the outbox admin, where
    ``bot.failures`` renders it again in the reader's language)."""
    from core.i18n import number

    values = {"invalid": number(invalid), "limit": number(cap), "ban": number(DISCORD_BAN_AT), "minutes": minutes,
              "detail": ", ".join(f"{number(n)} × {s}" for s, n in sorted(by_status.items()) if n)}
    if minutes is None:
        return _("Delivery to Discord is paused: %(invalid)s invalid requests (%(detail)s) in the last 10 minutes "
                 "reached the guard's limit of %(limit)s (Discord bans the server's IP address at %(ban)s). It "
                 "resumes by itself; nothing is lost. 401: check DISCORD_TOKEN; 403: the bot's permissions; "
                 "429: rate limits.") % values
    return _("Delivery to Discord is paused: %(invalid)s invalid requests (%(detail)s) in the last 10 minutes "
             "reached the guard's limit of %(limit)s (Discord bans the server's IP address at %(ban)s). It "
             "resumes by itself in about %(minutes)s min; nothing is lost. 401: check DISCORD_TOKEN; 403: the "
             "bot's permissions; 429: rate limits.") % values


def paused() -> GuardState | None:
    """Asked before every request and every claim: the state when sending must stop, else
    None. Reads the shared state at most once per ``CACHE_SECONDS`` per process, and logs each
    change between paused and sending once per process."""
    now = time.monotonic()
    cached = GUARD.cached
    if cached is None or now - cached[0] >= CACHE_SECONDS:
        current = state()
        GUARD.cached = cached = (now, current)
        if current.paused and not GUARD.was_paused:
            log.error("%s", current.reason)
        elif GUARD.was_paused and not current.paused:
            log.warning("Delivery to Discord resumes: %s invalid requests in the last 10 minutes, under the "
                        "guard's limit of %s.", f"{current.invalid:,}", f"{current.limit:,}")
        GUARD.was_paused = current.paused
    return cached[1] if cached[1].paused else None


def reset() -> None:
    """Forget every count (tests; an operator after fixing the cause may call it from a shell)."""
    with GUARD.local.lock:
        GUARD.local.answers.clear()
        for times in GUARD.local.window.values():
            times.clear()
    GUARD.cached, GUARD.was_paused = None, False
    if GUARD.store() is not GUARD.local:
        try:
            GUARD.remote.reset()  # type: ignore[union-attr]
        except redis.RedisError as exc:
            GUARD.failed(exc)


__all__ = ["GuardState", "answers_by_status", "invalid_in_window", "paused", "record_answer", "reset", "state"]
