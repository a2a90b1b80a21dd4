"""The one seam to Raid-Helper's v4 API (https://raid-helper.dev/api/v4).

Why it looks like this:
- Auth is the server's API key as is in ``Authorization`` (no "Bearer").
- Raid-Helper sometimes accepts a connection and never answers, so every call has a timeout
  (15 s unless ``RAID_HELPER_HTTP_TIMEOUT`` says otherwise).
- POSTs are not idempotent (a retried create makes a second event), so they are NEVER retried
  here; the booking service looks for an event it may already have created instead. GETs
  are retried on connection errors and 5xx.
- Sign-ups, event creates, event reads and server listings are paced to at most 10 requests
  per 5 s, the rate Raid-Helper tolerates (a run pushing several events booked here while
  Raid-Helper was not configured stays under it). With
  ``REDIS_URL`` set (production: several workers and the web server) the window is shared
  through Redis, so all processes together stay under it; without Redis (the embedded
  setup, one worker) it is per process. Going over anyway is not harmful: Raid-Helper answers
  429, the sign-up stays pending and the next poll sends it.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
import threading
import time
import uuid
import zoneinfo
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis
import requests
from django.conf import settings
from django.utils.translation import gettext as _

from core.http_errors import response_reason
from core.secrets import get_secret

log = logging.getLogger(__name__)

EVENT_URL = "https://raid-helper.dev/event/{id}"
GET_RETRIES = 2
GET_RETRY_DELAY = 0.5  # seconds, times the attempt number
ROLE_SLOTS = {"Tank": "Tank", "Healer": "Healer", "Melee DPS": "Melee", "Ranged DPS": "Ranged"}
STATUS_SLOTS = {"tentative": "Tentative", "bench": "Bench", "absence": "Absence"}


class RaidHelperError(Exception):
    """Raid-Helper refused or did not answer. ``status`` is the HTTP status (None when no
    answer came: refused connection or timeout); ``reason`` is Raid-Helper's own words, or
    ours (translated: officers read it in the admin's messages and on the sign-up rows; in the
    language active when it was raised, English in a Celery job)."""

    def __init__(self, status: int | None, reason: str, *, retry_after: float | None = None) -> None:
        self.status = status
        self.reason = reason
        self.retry_after = retry_after
        if status:
            text = _("Raid-Helper %(status)s: %(reason)s") % {"status": status, "reason": reason}
        else:
            text = _("Raid-Helper unreachable: %(reason)s") % {"reason": reason}
        super().__init__(text)

    @property
    def no_answer(self) -> bool:
        """True when a write may have happened without us hearing about it."""
        return self.status is None


@dataclass(frozen=True)
class CreatedEvent:
    id: str
    url: str
    payload: dict[str, Any]


class Pacer:
    """Sliding-window limiter: at most ``max_calls`` in any ``period`` seconds (thread-safe)."""

    def __init__(self, max_calls: int = 10, period: float = 5.0, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.max_calls, self.period, self.clock, self.sleep = max_calls, period, clock, sleep
        self.calls: deque[float] = deque()
        self.lock = threading.Lock()

    def wait(self) -> None:
        with self.lock:
            while True:
                now = self.clock()
                while self.calls and now - self.calls[0] >= self.period:
                    self.calls.popleft()
                if len(self.calls) < self.max_calls:
                    self.calls.append(now)
                    return
                self.sleep(max(self.period - (now - self.calls[0]), 0.01))


SIGNUP_PACER = Pacer()
PACE_KEY = "raids:raid-helper:signups"


class RedisPacer:
    """The same sliding window, shared by every process through one Redis sorted set: each
    call adds its moment (Redis' own clock, so machines agree), a call finding ``max_calls``
    moments in the last ``period`` waits until the oldest leaves. One Lua script, so two
    processes never both take the last place. If Redis cannot be reached the process-local
    pacer takes over (a booking never waits on the limiter's own outage)."""

    SCRIPT = """
    local t = redis.call('TIME')
    local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
    local period = tonumber(ARGV[2])
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - period)
    if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
        redis.call('ZADD', KEYS[1], now, ARGV[3])
        redis.call('PEXPIRE', KEYS[1], math.ceil(period / 1000) + 1000)
        return 0
    end
    local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    return math.max(tonumber(oldest[2]) + period - now, 1)
    """

    def __init__(self, url: str, *, key: str | None = None, max_calls: int = 10, period: float = 5.0,
                 fallback: Pacer | None = None) -> None:
        self.redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.script = self.redis.register_script(self.SCRIPT)
        self.key, self.max_calls, self.period = key, max_calls, period
        self.fallback = fallback

    def try_acquire(self) -> float:
        """Take a place in the window if there is one: 0.0 when taken, else the seconds until
        the oldest place frees. Raises ``redis.RedisError`` when Redis cannot be reached."""
        wait_us = int(self.script(keys=[self.key or PACE_KEY],
                                  args=[self.max_calls, int(self.period * 1_000_000), uuid.uuid4().hex]))
        return max(wait_us, 0) / 1_000_000

    def wait(self) -> None:
        while True:
            try:
                wait_s = self.try_acquire()
            except redis.RedisError as exc:
                log.warning("Raid-Helper sign-up pacing: Redis unavailable (%s), pacing in this process only", exc)
                (self.fallback or SIGNUP_PACER).wait()
                return
            if wait_s <= 0:
                return
            time.sleep(max(wait_s, 0.01))


@functools.lru_cache(maxsize=4)
def _redis_pacer(url: str) -> RedisPacer:
    return RedisPacer(url)


def default_pacer() -> Pacer | RedisPacer:
    """Shared through Redis when there is one (``REDIS_URL``), else this process's pacer."""
    url = getattr(settings, "REDIS_URL", "")
    return _redis_pacer(url) if url else SIGNUP_PACER


def slot_for(status: str, role_name: str | None, spec_name: str | None) -> tuple[str, str | None]:
    """Raid-Helper has no status field: an accepted player takes a role slot (with the spec
    name), the others go to the Tentative/Bench/Absence columns without a spec."""
    if status in STATUS_SLOTS:
        return STATUS_SLOTS[status], None
    if status != "accepted":
        raise ValueError(f"unknown sign-up status {status!r}")
    if role_name not in ROLE_SLOTS or not spec_name:
        raise ValueError("an accepted sign-up needs a spec with a role")
    return ROLE_SLOTS[role_name], spec_name


def _reason(response: requests.Response) -> str:
    return response_reason(response, ("reason", "message", "error"))


def _retry_after(response: requests.Response) -> float | None:
    """Seconds to wait after a 429: JSON ``retry_after``, "Try again in X s", or Retry-After."""
    try:
        body = response.json()
        if isinstance(body, dict) and body.get("retry_after") is not None:
            return float(body["retry_after"])
    except ValueError:
        pass
    match = re.search(r"try again in ([0-9.]+)", response.text or "", re.IGNORECASE)
    if match:
        return float(match.group(1).rstrip("."))
    header = response.headers.get("Retry-After")
    try:
        return float(header) if header else None
    except ValueError:
        return None


class RaidHelperClient:
    def __init__(self, *, api_key: str | None = None, server_id: str, timezone: str = "UTC",
                 base_url: str | None = None, timeout: float | None = None,
                 pacer: Pacer | RedisPacer | None = None) -> None:
        # None = the current key (environment, else the admin's encrypted setting), read per request
        self._api_key = api_key
        self.server_id = server_id
        self.tz = zoneinfo.ZoneInfo(timezone)
        self.base_url = (base_url or settings.RAID_HELPER_API_BASE).rstrip("/")
        self.timeout = timeout if timeout is not None else getattr(settings, "RAID_HELPER_HTTP_TIMEOUT", 15.0)
        self.pacer = pacer or default_pacer()
        self.session = requests.Session()
        self.session.headers.update({"User-Agent": "guildops-raids"})

    @property
    def api_key(self) -> str:
        return self._api_key if self._api_key is not None else get_secret("RAID_HELPER_API_KEY")

    # -- plumbing -----------------------------------------------------------------------
    def _request(self, method: str, path: str, *, json: Any = None, headers: dict[str, str] | None = None) -> Any:
        attempts = 1 + (GET_RETRIES if method == "GET" else 0)
        for attempt in range(attempts):
            try:
                response = self.session.request(method, self.base_url + path, json=json,
                                                headers={"Authorization": self.api_key, **(headers or {})},
                                                timeout=self.timeout)
            except requests.Timeout:
                error = RaidHelperError(None, _("no answer within %(seconds)s s") % {"seconds": f"{self.timeout:g}"})
            except requests.ConnectionError as exc:
                error = RaidHelperError(None, _("connection failed (%(error)s)") % {"error": exc.__class__.__name__})
            else:
                if response.status_code < 400:
                    try:
                        return response.json() if response.content else {}
                    except ValueError:
                        raise RaidHelperError(response.status_code, _("answer was not JSON")) from None
                error = RaidHelperError(response.status_code, _reason(response), retry_after=_retry_after(response))
                if response.status_code < 500:
                    raise error
            if attempt + 1 < attempts:
                time.sleep(GET_RETRY_DELAY * (attempt + 1))
        raise error

    # -- the API ------------------------------------------------------------------------
    def create_event(self, *, channel_id: int, leader_id: int, template_id: str, title: str, description: str,
                     start: dt.datetime, duration_minutes: int) -> CreatedEvent:
        """POST /servers/{serverId}/channels/{channelId}/event; date and time are sent in the
        time zone Raid-Helper is configured with (it reads them as local). Paced like the sign-ups."""
        local = start.astimezone(self.tz)
        body = {
            "leaderId": str(leader_id),
            "templateId": template_id,
            "title": title,
            "description": description,
            "date": local.strftime("%Y-%m-%d"),
            "time": local.strftime("%H:%M"),
            "advancedSettings": {"duration": int(duration_minutes)},
        }
        self.pacer.wait()
        payload = self._request("POST", f"/servers/{self.server_id}/channels/{channel_id}/event", json=body)
        event_id = None
        if isinstance(payload, dict):
            event_id = payload.get("id") or (payload.get("event") or {}).get("id")
        if not event_id:
            raise RaidHelperError(200, _("the answer carried no event id"))
        return CreatedEvent(id=str(event_id), url=EVENT_URL.format(id=event_id), payload=payload)

    def add_signup(self, event_id: str, user_id: int, class_name: str, spec_name: str | None = None) -> dict:
        """POST /events/{id}/signups, paced (≤10 per 5 s). Never retried: a lost answer may
        still have signed the player up."""
        body: dict[str, Any] = {"userId": str(user_id), "className": class_name}
        if spec_name:
            body["specName"] = spec_name
        self.pacer.wait()
        return self._request("POST", f"/events/{event_id}/signups", json=body)

    def list_server_events(self, start_after: dt.datetime | None = None, *, max_pages: int = 20) -> list[dict]:
        """GET /servers/{serverId}/events, every page (StartTimeFilter = unix seconds), each paced."""
        headers = {}
        if start_after is not None:
            headers["StartTimeFilter"] = str(int(start_after.timestamp()))
        events: list[dict] = []
        page = 1
        while page <= max_pages:
            self.pacer.wait()
            payload = self._request("GET", f"/servers/{self.server_id}/events", headers={**headers, "Page": str(page)})
            events.extend(payload.get("postedEvents") or [])
            if page >= int(payload.get("pages") or 1):
                break
            page += 1
        return events

    def get_event(self, event_id: str) -> dict:
        """GET /events/{id}: the event with its ``signUps``. Paced in the same window as the
        sign-up pushes (the live sync reads every upcoming event every 10 minutes)."""
        self.pacer.wait()
        return self._request("GET", f"/events/{event_id}")
