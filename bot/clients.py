"""The one seam to Discord's REST API: a small aiohttp client that keeps Discord's limits.

Why not discord.py's ``HTTPClient`` (the bot process still uses it for the gateway): its
limiter was measured against a fake that enforces Discord's real limits, and it falls short
for a delivery worker in four ways:

- it has no proactive global limit: it only pauses *after* Discord answered a global 429, so
  many concurrent sends overrun the 50 requests/s;
- the request that empties a bucket sleeps until the bucket resets before it returns, so a
  message that was accepted reports back seconds later (or, under a per-request timeout, is
  taken for a timeout although Discord posted it);
- it retries 500/502/504 five times inside one call (sleeping 1 + 3 + 5 + 7 s), so during an
  outage every row holds a worker for the whole HTTP timeout;
- its bucket state lives in one client object and is not shared between worker processes.

This client therefore does, per request: wait for the route's bucket (``X-RateLimit-*``
headers, keyed by ``X-RateLimit-Bucket`` + the top-level resource as Discord documents), wait
out a global 429 if one was seen, take a slot from the global pacer (shared by every process
through Redis when ``REDIS_URL`` is set), then send with ``DISCORD_HTTP_TIMEOUT``. A per-route
429 is waited out and retried (a few times, briefly); everything else is classified and raised
at once, because the outbox retries rows itself with backoff. Failures are sorted into "never
retry" (400/403/404 and Discord's permanent JSON codes; retrying those earns an IP ban from the
invalid-request limit) and "retry later", and each says whether the request may have reached
Discord (``maybe_delivered``: a timeout, a dropped connection or a 5xx after the body was sent).
"""

from __future__ import annotations

import asyncio
import contextvars
import json as jsonlib
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp
import redis
import redis.asyncio as aioredis
from django.conf import settings

from bot import guard

T = TypeVar("T")
log = logging.getLogger(__name__)

# Discord JSON error codes that mean "this will never work": give up at once.
PERMANENT_CODES = {
    10003: "Unknown Channel",
    10004: "Unknown Guild",
    10007: "Unknown Member",
    10008: "Unknown Message",
    10011: "Unknown Role",
    10013: "Unknown User",
    50001: "Missing Access",
    50007: "Cannot send messages to this user",
    10070: "Unknown Guild Scheduled Event",
    30038: "Maximum number of guild scheduled events reached (100)",
    50013: "Missing Permissions",
    50035: "Invalid Form Body",
}
# A per-route 429 is waited out inside the call when it asks for at most this long, at most
# this many times; longer waits go back to the outbox as a retry_after.
MAX_RATELIMIT_WAIT = 10.0
RATELIMIT_RETRIES = 3
MAJOR_PARAMETERS = ("channel_id", "guild_id", "webhook_id")
LATE_SLOT_SECONDS = 0.03  # waking up later than this after one's pacing slot: take a new slot
LATE_RETRIES = 4


@dataclass
class DiscordFailureError(Exception):
    """A failed Discord call. ``permanent`` failures are never retried; ``maybe_delivered``
    says the request may have been carried out although no success answer arrived."""

    message: str
    code: int | None = None
    status: int | None = None
    permanent: bool = False
    retry_after: float | None = None
    maybe_delivered: bool = False
    held_back: bool = False  # refused before it left this process (guard pause, shutdown, lease lost): not sent

    def __str__(self) -> str:
        return self.message


# Asked right before each request leaves (after its bucket and pacing waits), with whether the
# request changes something in Discord: raises a ``held_back`` failure to keep it from going
# (delivery: the worker is stopping, or its lease on the row is no longer sure), and lets
# delivery know when a row's write has left (an abandoned write's outcome is uncertain).
SEND_GATE: contextvars.ContextVar[Callable[[bool], None] | None] = contextvars.ContextVar("SEND_GATE", default=None)


class DiscordAuthError(Exception):
    """The bot token was refused: nothing can be delivered until an officer fixes it."""


def configure_api_base() -> None:
    """Point discord.py (the bot process) at ``DISCORD_API_BASE`` (tests use a local fake).
    discord.py builds every URL from ``Route.BASE``, so this must run before any route is made."""
    from discord.http import Route

    Route.BASE = settings.DISCORD_API_BASE


def classify(exc: BaseException) -> DiscordFailureError:
    """A transport-level exception as a retryable failure."""
    if isinstance(exc, DiscordFailureError):
        return exc
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return DiscordFailureError("timed out waiting for Discord", maybe_delivered=True)
    if isinstance(exc, aiohttp.ClientConnectorError):  # never connected: nothing was sent
        return DiscordFailureError(f"connection error: {exc.__class__.__name__}: {exc}"[:300])
    if isinstance(exc, aiohttp.ClientError | OSError):
        return DiscordFailureError(f"connection error: {exc.__class__.__name__}: {exc}"[:300], maybe_delivered=True)
    raise exc


def failure_from_answer(status: int, data: Any) -> DiscordFailureError:
    """Discord's error answer (JSON ``{"code", "message"}``) as a failure."""
    code = data.get("code") if isinstance(data, dict) else None
    text = (data.get("message") if isinstance(data, dict) else str(data or "")) or PERMANENT_CODES.get(code or 0, "")
    if status >= 500:
        return DiscordFailureError(f"Discord server error {status}: {str(text)[:200]}".strip(), code=code or None,
                              status=status, maybe_delivered=True)
    permanent = status in (400, 403, 404) or code in PERMANENT_CODES
    label = f"{code} {text}" if code else f"HTTP {status} {text}"
    if isinstance(data, dict) and isinstance(data.get("errors"), dict):  # 50035: which field and why
        label += "".join(f"; {where}: {why}" for where, why in form_errors(data["errors"]))
    return DiscordFailureError(label.strip()[:2000], code=code or None, status=status, permanent=permanent)


# -- the global limit ---------------------------------------------------------------------------
def form_errors(errors: dict, path: str = "") -> list[tuple[str, str]]:
    """Discord's "Invalid Form Body" tree (``{"name": {"_errors": [{"code", "message"}]}}``,
    nested per field and index) as (field path, message) pairs."""
    found: list[tuple[str, str]] = []
    for key, value in errors.items():
        if key == "_errors" and isinstance(value, list):
            found += [(path or "body", str(e.get("message", e))) for e in value if isinstance(e, dict)]
        elif isinstance(value, dict):
            found += form_errors(value, f"{path}.{key}" if path else str(key))
    return found[:10]


class LocalPacer:
    """Spaces requests evenly at ``rate`` per second within this process (a slot every
    1/rate s, reserved under a lock, so it works from any event loop or thread)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self.next_free = 0.0
        self.lock = threading.Lock()

    def reserve(self) -> float:
        with self.lock:
            now = time.monotonic()
            slot = max(now, self.next_free)
            self.next_free = slot + self.interval
            return slot - now

    async def wait(self) -> None:
        await _wait_for_slot(self.reserve_async)

    async def reserve_async(self) -> float:
        return self.reserve()


async def _wait_for_slot(reserve: Callable[[], Coroutine[Any, Any, float]]) -> None:
    """Reserve the next slot and sleep until it. A caller that wakes up late (the process was
    busy) gives its slot up and takes a new one instead of sending at once: otherwise every
    late caller would go out together and Discord would see a burst above the rate."""
    for _ in range(LATE_RETRIES):
        delay = await reserve()
        woke = time.monotonic() + delay
        if delay > 0:
            await asyncio.sleep(delay)
        if time.monotonic() - woke <= LATE_SLOT_SECONDS:
            return


class RedisPacer:
    """The same even spacing shared by every process through one Redis key: each request
    reserves the next free slot (Redis' clock, one Lua script, so two processes never take the
    same slot) and sleeps until it. Without Redis (it went away) the process paces alone."""

    SCRIPT = """
    local t = redis.call('TIME')
    local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
    local slot = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
    redis.call('SET', KEYS[1], slot + tonumber(ARGV[1]), 'PX', 60000)
    return slot - now
    """
    KEY = "bot:discord:global-pacing"

    def __init__(self, url: str, rate: float, fallback: LocalPacer) -> None:
        self.client = aioredis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.script = self.client.register_script(self.SCRIPT)
        self.interval_us = int(1_000_000 / rate)
        self.fallback = fallback
        self.lock = asyncio.Lock()  # one reservation at a time: one connection, not one per lane

    async def wait(self) -> None:
        await _wait_for_slot(self.reserve)

    async def reserve(self) -> float:
        try:
            async with self.lock:
                return int(await self.script(keys=[self.KEY], args=[self.interval_us])) / 1_000_000
        except redis.RedisError as exc:
            log.warning("Discord global pacing: Redis unavailable (%s), pacing in this process only", exc)
            return self.fallback.reserve()

    async def close(self) -> None:
        await self.client.aclose()


_LOCAL_PACERS: dict[float, LocalPacer] = {}


def local_pacer(rate: float) -> LocalPacer:
    return _LOCAL_PACERS.setdefault(rate, LocalPacer(rate))


# -- per-route buckets ---------------------------------------------------------------------------
class Bucket:
    """One rate-limit bucket as Discord's headers describe it. Until the first answer the
    limit is unknown, so one request at a time goes out; a route whose answers carry no
    headers has only the global limit."""

    def __init__(self) -> None:
        self.limit: int | None = 1
        self.remaining = 1
        self.reset_at: float | None = None
        self.in_flight = 0

    async def acquire(self, max_wait: float) -> None:
        while True:
            now = time.monotonic()
            if self.reset_at is not None and now >= self.reset_at:
                self.remaining, self.reset_at = (self.limit or 1) - self.in_flight, None
            if self.limit is None or self.remaining > 0:
                self.remaining -= 1
                self.in_flight += 1
                return
            wait = (self.reset_at - now) if self.reset_at is not None else 0.05
            if wait > max_wait:
                raise DiscordFailureError(f"rate limited for {wait:.1f}s", status=429, retry_after=wait)
            await asyncio.sleep(wait)

    def release(self, headers: Any | None) -> None:
        self.in_flight -= 1
        if headers is None:
            if self.limit is not None and self.reset_at is None:
                self.remaining += 1  # no answer: the slot was not used as far as we know
            return
        if "X-RateLimit-Remaining" not in headers:
            self.limit = None  # only the global limit applies
            return
        self.limit = int(headers.get("X-RateLimit-Limit", 1))
        self.remaining = max(int(headers["X-RateLimit-Remaining"]) - self.in_flight, 0)
        reset_after = float(headers.get("X-RateLimit-Reset-After") or 0)
        self.reset_at = time.monotonic() + reset_after


class DiscordRest:
    """An async Discord REST session: ``async with DiscordRest() as api: await api.send_dm(...)``.
    Bucket state lives as long as the session, so a delivery run keeps one session open."""

    def __init__(self, token: str | None = None, timeout: float | None = None) -> None:
        self.token = token if token is not None else settings.DISCORD_TOKEN
        self.timeout = timeout if timeout is not None else settings.DISCORD_HTTP_TIMEOUT
        self.base = settings.DISCORD_API_BASE.rstrip("/")
        self.session: aiohttp.ClientSession | None = None
        self.pacer: LocalPacer | RedisPacer | None = None
        self.user_id: int | None = None
        self._dm_channels: dict[int, int] = {}
        self._buckets: dict[str, Bucket] = {}
        self._bucket_hashes: dict[str, str] = {}
        self._global_until = 0.0
        self.stats = {"requests": 0, "route_429": 0, "global_429": 0}
        self._counting: set[asyncio.Future] = set()

    async def __aenter__(self) -> DiscordRest:
        if not self.token:
            raise DiscordAuthError("DISCORD_TOKEN is not set.")
        rate = float(settings.DISCORD_GLOBAL_RATE)
        local = local_pacer(rate)
        self.pacer = RedisPacer(settings.REDIS_URL, rate, local) if getattr(settings, "REDIS_URL", "") else local
        self.session = aiohttp.ClientSession(
            headers={"Authorization": f"Bot {self.token}", "User-Agent": "DiscordBot (guild-ops, 1.0)"},
            connector=aiohttp.TCPConnector(limit=0),
        )
        try:
            me = await self.call("GET", "/users/@me")
        except DiscordFailureError as failure:
            await self.__aexit__()
            if failure.status == 401:
                raise DiscordAuthError("Discord refused the bot token (401): check DISCORD_TOKEN.") from failure
            raise
        except BaseException:
            await self.__aexit__()
            raise
        self.user_id = int(me["id"])
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._counting:
            await asyncio.gather(*self._counting, return_exceptions=True)
        if self.session is not None:
            await self.session.close()
            self.session = None
        if isinstance(self.pacer, RedisPacer):
            await self.pacer.close()
        self.pacer = None

    def _count(self, status: int, headers: Any) -> None:
        """Hand the answer to ``bot.guard``: an invalid one (401/403/429, rare) at once, so the
        very next request sees a pause; the others on a thread (a Redis round trip must not hold
        the event loop, whose other lanes are waiting for their pacing slots), awaited on close."""
        shared = headers.get("X-RateLimit-Scope") == "shared"
        if status in guard.INVALID_STATUSES:
            guard.record_answer(status, shared_scope=shared)
            return
        future = asyncio.get_running_loop().run_in_executor(None, lambda: guard.record_answer(status, shared_scope=shared))
        self._counting.add(future)
        future.add_done_callback(self._counting.discard)

    def _bucket(self, method: str, path: str, params: dict[str, Any]) -> tuple[str, Bucket]:
        route = f"{method} {path.split('?')[0]}"
        major = "+".join(str(params[k]) for k in MAJOR_PARAMETERS if k in params)
        key = f"{self._bucket_hashes.get(route, route)}:{major}"
        return route, self._buckets.setdefault(key, Bucket())

    def _learn_hash(self, route: str, params: dict[str, Any], bucket: Bucket, headers: Any) -> None:
        """Routes that share a limit answer with the same ``X-RateLimit-Bucket``: file the
        bucket under that hash so they share it from now on."""
        bucket_hash = headers.get("X-RateLimit-Bucket")
        if bucket_hash and self._bucket_hashes.get(route) != bucket_hash:
            self._bucket_hashes[route] = bucket_hash
            major = "+".join(str(params[k]) for k in MAJOR_PARAMETERS if k in params)
            self._buckets.setdefault(f"{bucket_hash}:{major}", bucket)

    async def call(self, method: str, path: str, *, json: Any = None, reason: str | None = None,
                   idempotent: bool = False, **params: Any) -> Any:
        """One request on ``path`` (a template: ``/channels/{channel_id}/messages``). Every
        answer is counted by ``bot.guard``; while the guard pauses, nothing is sent (a
        ``held_back`` failure). ``idempotent``: a write that changes nothing visible when
        repeated (opening a DM channel)."""
        assert self.session is not None and self.pacer is not None, "use DiscordRest as an async context manager"
        url = self.base + path.format_map({k: quote(str(v), safe="") for k, v in params.items()})
        headers = {"X-Audit-Log-Reason": quote(reason, safe="/ ")} if reason else {}
        route, bucket = self._bucket(method, path, params)
        for attempt in range(RATELIMIT_RETRIES + 1):
            await bucket.acquire(MAX_RATELIMIT_WAIT)
            answer_headers = None
            try:
                while (pause := self._global_until - time.monotonic()) > 0:
                    await asyncio.sleep(pause)
                await self.pacer.wait()
                if (stop := guard.paused()) is not None:
                    raise DiscordFailureError(stop.reason, held_back=True)
                if (gate := SEND_GATE.get()) is not None:
                    gate(method != "GET" and not idempotent)
                self.stats["requests"] += 1
                try:
                    async with asyncio.timeout(self.timeout):
                        async with self.session.request(method, url, json=json, headers=headers) as response:
                            raw = await response.read()
                            answer_headers = response.headers
                            status = response.status
                except Exception as exc:
                    raise classify(exc) from exc
            finally:
                bucket.release(answer_headers if answer_headers is not None and status != 429 else None)
            self._learn_hash(route, params, bucket, answer_headers)
            self._count(status, answer_headers)
            data = _json_or_text(raw, answer_headers)
            if 200 <= status < 300:
                return data
            if status != 429:
                raise failure_from_answer(status, data)
            retry_after, is_global = _retry_after(data, answer_headers)
            self.stats["global_429" if is_global else "route_429"] += 1
            if is_global:
                self._global_until = max(self._global_until, time.monotonic() + retry_after)
            elif "X-RateLimit-Reset-After" in answer_headers:
                bucket.remaining, bucket.reset_at = 0, time.monotonic() + retry_after
            log.warning("Discord rate limit (%s) on %s: retry after %.2fs", "global" if is_global else "route",
                        route, retry_after)
            if retry_after > MAX_RATELIMIT_WAIT or attempt == RATELIMIT_RETRIES:
                raise DiscordFailureError(f"rate limited for {retry_after:.1f}s", status=429, retry_after=retry_after)
            if not is_global and "X-RateLimit-Reset-After" not in answer_headers:
                await asyncio.sleep(retry_after)
        raise AssertionError("unreachable")

    async def create_message(self, channel_id: int, body: dict[str, Any], nonce: str | None = None) -> dict:
        payload = dict(body)
        if nonce:
            payload.update(nonce=nonce, enforce_nonce=True)
        return await self.call("POST", "/channels/{channel_id}/messages", json=payload, channel_id=channel_id)

    async def recent_messages(self, channel_id: int, *, after: int, limit: int = 100) -> list[dict]:
        """Up to ``limit`` messages of a channel posted after the snowflake ``after``."""
        return await self.call("GET", f"/channels/{{channel_id}}/messages?after={int(after)}&limit={int(limit)}",
                               channel_id=channel_id)

    async def dm_channel(self, user_id: int) -> int:
        if user_id not in self._dm_channels:
            data = await self.call("POST", "/users/@me/channels", json={"recipient_id": str(user_id)},
                                   idempotent=True)
            self._dm_channels[user_id] = int(data["id"])
        return self._dm_channels[user_id]

    async def send_dm(self, user_id: int, body: dict[str, Any], nonce: str | None = None) -> dict:
        return await self.create_message(await self.dm_channel(user_id), body, nonce)

    async def edit_message(self, channel_id: int, message_id: int, body: dict[str, Any]) -> dict:
        return await self.call("PATCH", "/channels/{channel_id}/messages/{message_id}", json=body,
                               channel_id=channel_id, message_id=message_id)

    async def delete_message(self, channel_id: int, message_id: int, reason: str = "") -> None:
        await self.call("DELETE", "/channels/{channel_id}/messages/{message_id}", reason=reason,
                        channel_id=channel_id, message_id=message_id)

    async def set_role(self, guild_id: int, user_id: int, role_id: int, *, add: bool, reason: str = "") -> None:
        await self.call("PUT" if add else "DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}",
                        reason=reason, guild_id=guild_id, user_id=user_id, role_id=role_id)

    async def timeout_member(self, guild_id: int, user_id: int, until_iso: str | None, reason: str = "") -> None:
        await self.call("PATCH", "/guilds/{guild_id}/members/{user_id}",
                        json={"communication_disabled_until": until_iso}, reason=reason,
                        guild_id=guild_id, user_id=user_id)

    async def kick_member(self, guild_id: int, user_id: int, reason: str = "") -> None:
        await self.call("DELETE", "/guilds/{guild_id}/members/{user_id}", reason=reason,
                        guild_id=guild_id, user_id=user_id)

    async def ban_member(self, guild_id: int, user_id: int, reason: str = "", delete_message_seconds: int = 0) -> None:
        await self.call("PUT", "/guilds/{guild_id}/bans/{user_id}",
                        json={"delete_message_seconds": delete_message_seconds}, reason=reason,
                        guild_id=guild_id, user_id=user_id)

    # Guild scheduled events (discord-api-docs resources/Guild_Scheduled_Event.md); the bot needs
    # Manage Events at the guild level for EXTERNAL events.
    async def create_scheduled_event(self, guild_id: int, body: dict[str, Any], reason: str = "") -> dict:
        return await self.call("POST", "/guilds/{guild_id}/scheduled-events", json=body, reason=reason or None,
                               guild_id=guild_id)

    async def list_scheduled_events(self, guild_id: int) -> list[dict]:
        """Every SCHEDULED or ACTIVE event of the guild (at most 100: Discord's limit)."""
        return await self.call("GET", "/guilds/{guild_id}/scheduled-events", guild_id=guild_id)

    async def modify_scheduled_event(self, guild_id: int, event_id: int, body: dict[str, Any], reason: str = "") -> dict:
        return await self.call("PATCH", "/guilds/{guild_id}/scheduled-events/{event_id}", json=body,
                               reason=reason or None, guild_id=guild_id, event_id=event_id)

    async def delete_scheduled_event(self, guild_id: int, event_id: int, reason: str = "") -> None:
        await self.call("DELETE", "/guilds/{guild_id}/scheduled-events/{event_id}", reason=reason or None,
                        guild_id=guild_id, event_id=event_id)

    async def list_members(self, guild_id: int, limit: int = 1000) -> list[dict]:
        """Every member of a guild, page by page (needs the Server Members intent)."""
        members: list[dict] = []
        after = 0
        while True:
            page = await self.call("GET", f"/guilds/{{guild_id}}/members?limit={limit}&after={after}",
                                   guild_id=guild_id)
            members.extend(page)
            if len(page) < limit:
                return members
            after = max(int(m["user"]["id"]) for m in page)


def _json_or_text(raw: bytes, headers: Any) -> Any:
    if not raw:
        return None
    if "application/json" in (headers.get("Content-Type") or ""):
        try:
            return jsonlib.loads(raw)
        except ValueError:
            pass
    return raw.decode("utf-8", "replace")


def _retry_after(data: Any, headers: Any) -> tuple[float, bool]:
    """Discord's 429: ``retry_after`` (seconds) and ``global`` in the JSON body; a 429 without
    a JSON body (Cloudflare) falls back to the ``Retry-After`` header."""
    if isinstance(data, dict) and "retry_after" in data:
        return float(data["retry_after"]), bool(data.get("global")) or headers.get("X-RateLimit-Global") == "true"
    return float(headers.get("Retry-After") or 5), headers.get("X-RateLimit-Global") == "true"


def run_async(coro_factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run one async Discord session from sync code (Celery tasks, management commands).

    When the calling thread already runs an event loop (the bot process, a Playwright test),
    ``asyncio.run`` is refused, so the session runs on a short-lived thread of its own.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro_factory())
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(coro_factory())).result()
