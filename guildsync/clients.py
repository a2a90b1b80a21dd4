"""The one seam to Blizzard's Battle.net API (World of Warcraft profile data).

- OAuth client credentials: the token is cached per (OAuth URL, client id) until shortly
  before it expires and sent as ``Authorization: Bearer`` (query-string tokens are refused).
- Every request carries ``namespace=profile-{region}`` and ``locale``.
- Throughput is bounded by ``BLIZZARD_REQUESTS_PER_SECOND`` (Blizzard allows 100/s): the
  profile requests run on a dozen threads (enough to overlap Blizzard's answer time) that share
  one ``_Pacer``, which keeps any one-second window at Blizzard within the quota by
  construction (see there). Blizzard's other quota, 36,000 requests/hour, slows service
  rather than refusing it; a 1,000-member guild costs 1,001 requests a run, far below it.
- 429 → wait ``Retry-After`` (or back off) and retry; 5xx and connection errors → retry with
  exponential backoff; 404 for one character → recorded in ``not_found`` and the run goes on.
- Realm slugs: the API's own slug is preferred; ``realm_slug()`` is the fallback rule.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
import unicodedata
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests
from django.conf import settings
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter

from core.secrets import get_secret


class BlizzardError(Exception):
    """A Blizzard call failed for good (after the retries it deserved)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class BlizzardAuthError(BlizzardError):
    """The client id/secret were refused, or are not configured."""


class BlizzardNotFoundError(BlizzardError):
    """404: an unknown, long-inactive, renamed or transferred character (or a wrong guild)."""


def realm_slug(realm: str) -> str:
    """Blizzard's slug rule: lowercase, apostrophes removed, spaces to hyphens, accents
    dropped ("Sen'jin" → ``senjin``, "Twisting Nether" → ``twisting-nether``). Some realms
    break the rule ("Azjol-Nerub" → ``azjolnerub``): callers prefer the API's slug."""
    text = unicodedata.normalize("NFKD", realm.strip()).encode("ascii", "ignore").decode()
    text = text.lower().replace("'", "").replace("\u2019", "")
    return "-".join(text.split())


_token_cache: dict[tuple[str, str, str], tuple[str, float]] = {}
_token_lock = threading.Lock()


def clear_token_cache() -> None:
    with _token_lock:
        _token_cache.clear()


class _Pacer:
    """Blizzard's per-second quota, kept whatever the machine's load (issue 14, point 7).

    Blizzard counts a request when it reaches its servers: some moment between our send and
    its answer, which thread scheduling and the network move about. Sends spaced evenly at
    exactly the quota therefore still arrive bunched now and then, and the quota answers 429
    (the benchmark saw 4 to 9 per 1,000 requests, loaded or not). So a request holds a place
    from its send until one second after its answer (or its failure), and a send waits until
    fewer than ``limit`` places are held. No one-second window at Blizzard can then see more
    than ``limit`` arrivals: take the last request sent among those arriving in the window;
    every other one was sent before it and answered after the window opened, which is less
    than a second before that last send, so each still held its place when it went out.

    The price is the answer time: about ``limit`` requests per (1 s + answer time), ~94/s at
    Blizzard's usual 50 ms, a margin that grows by itself when answers slow down. Sends are
    also spaced at least ``1/(2 × rate)`` apart, so the first second is not one burst; not the
    full ``1/rate``, because answers come back bunched and the places they free would then
    queue behind the spacing (measured at load 7 on 2 cores: a mean wait of 16–37 ms after a
    place freed with ``1/rate``, 10 ms with half of it; 1,001 requests fetched in 10.9–11.2 s
    vs 10.7 s). A sender that wakes late sends at once and the next one keeps the spacing from
    there (no catch-up burst). One sender at a time waits for its turn (``turn``), so the
    threads don't all wake up for each slot.
    ``clock`` and ``sleep`` are injectable so tests can check the schedule without waiting.
    """

    def __init__(self, rate: float, *, window: float = 1.0, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if 0 < rate * window < 1:
            window = 1.0 / rate  # under one request per window: one per 1/rate seconds
        self.limit = int(rate * window + 1e-9) if rate > 0 else 0
        self.interval = 0.5 / rate if rate > 0 else 0.0  # the spacing between two sends
        self.window, self.clock, self.sleep = window, clock, sleep
        self.next_at = float("-inf")
        self.in_flight = 0
        self.answered: deque[float] = deque()  # answer times of the last window, oldest first
        self.lock = threading.Lock()  # the state, shared with the answers coming back
        self.turn = threading.Lock()  # the one sender waiting for the next slot

    def _delay(self, now: float) -> float:
        """Seconds until a send may go out (0: now). Called under ``lock``."""
        while self.answered and self.answered[0] + self.window <= now:
            self.answered.popleft()
        if self.in_flight + len(self.answered) >= self.limit:
            if self.answered:  # the oldest answer's place frees first (> 0: it was not purged)
                return self.answered[0] + self.window - now
            return self.interval  # every place is still waiting for its answer: look again soon
        return max(self.next_at - now, 0.0)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Wait for a place, send inside the block; the place is held until 1 s after it ends."""
        if not self.limit:
            yield
            return
        with self.turn:
            while True:
                with self.lock:
                    now = self.clock()
                    delay = self._delay(now)
                    if delay <= 0:
                        self.in_flight += 1
                        self.next_at = now + self.interval
                        break
                self.sleep(delay)
        try:
            yield
        finally:
            with self.lock:
                self.in_flight -= 1
                self.answered.append(self.clock())


@dataclass
class RosterFetch:
    """What one guild fetch produced: characters ready for ``sync_blizzard_roster``."""

    guild: dict[str, Any]
    characters: list[dict[str, Any]] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: int = 0


class BlizzardClient:
    def __init__(self, *, client_id: str | None = None, client_secret: str | None = None,
                 api_base: str | None = None, oauth_url: str | None = None, region: str | None = None,
                 locale: str | None = None, requests_per_second: float | None = None, timeout: float = 15.0,
                 max_retries: int = 4, backoff: float = 0.5, workers: int = 12) -> None:
        # the current credentials (environment, else the admin's encrypted settings), read now:
        # each run builds its own client, so a rotated secret is used by the next run
        self.client_id = client_id if client_id is not None else get_secret("BLIZZARD_CLIENT_ID")
        self.client_secret = client_secret if client_secret is not None else get_secret("BLIZZARD_CLIENT_SECRET")
        self.api_base = (api_base or settings.BLIZZARD_API_BASE).rstrip("/")
        self.oauth_url = oauth_url or settings.BLIZZARD_OAUTH_URL
        self.region = (region or settings.BLIZZARD_REGION).lower()
        self.locale = locale or settings.BLIZZARD_LOCALE
        rate = requests_per_second if requests_per_second is not None else settings.BLIZZARD_REQUESTS_PER_SECOND
        self.pacer = _Pacer(rate)
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.workers = workers
        self.session = requests.Session()
        # one kept-alive connection per thread (requests keeps 10 by default and drops the rest)
        adapter = HTTPAdapter(pool_maxsize=max(10, workers))
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self._count_lock = threading.Lock()
        self.request_count = 0

    # -- auth ---------------------------------------------------------------------------
    def token(self, *, refresh: bool = False) -> str:
        if not self.client_id or not self.client_secret:
            raise BlizzardAuthError("BLIZZARD_CLIENT_ID and BLIZZARD_CLIENT_SECRET are not set.")
        key = (self.oauth_url, self.client_id, hashlib.sha256(self.client_secret.encode()).hexdigest())
        with _token_lock:
            cached = _token_cache.get(key)
            if cached and not refresh and cached[1] > time.monotonic():
                return cached[0]
            try:
                response = self.session.post(self.oauth_url, data={"grant_type": "client_credentials"},
                                             auth=(self.client_id, self.client_secret), timeout=self.timeout)
            except requests.RequestException as exc:
                raise BlizzardError(f"Battle.net OAuth unreachable: {exc}") from exc
            if response.status_code in (400, 401, 403):
                raise BlizzardAuthError(f"Battle.net refused the client credentials ({response.status_code}).",
                                        response.status_code)
            if response.status_code != 200:
                raise BlizzardError(f"Battle.net OAuth answered {response.status_code}.", response.status_code)
            data = response.json()
            lifetime = float(data.get("expires_in", 3600))
            # renew a minute early so a token never expires between check and use
            _token_cache[key] = (data["access_token"], time.monotonic() + max(lifetime - 60, lifetime / 2))
            return data["access_token"]

    # -- requests -----------------------------------------------------------------------
    def get(self, path: str, **params: Any) -> Any:
        """GET with namespace/locale, pacing, and the retries each failure deserves."""
        query = {"namespace": f"profile-{self.region}", "locale": self.locale, **params}
        url = f"{self.api_base}{path}"
        refreshed = False
        attempt = 0
        while True:
            # the token first: Battle.net's OAuth host is not counted against the API's quota
            headers = {"Authorization": f"Bearer {self.token()}", "Accept": "application/json"}
            with self._count_lock:
                self.request_count += 1
            try:
                with self.pacer.slot():
                    response = self.session.get(url, params=query, headers=headers, timeout=self.timeout)
            except requests.RequestException as exc:
                if attempt >= self.max_retries:
                    raise BlizzardError(f"GET {path}: {exc.__class__.__name__} after {attempt + 1} attempts") from exc
                self._sleep_backoff(attempt)
                attempt += 1
                continue
            status = response.status_code
            if status == 200:
                return response.json()
            if status == 404:
                raise BlizzardNotFoundError(f"GET {path}: not found", 404)
            if status == 401 and not refreshed:
                refreshed = True  # token revoked early: fetch a new one once
                self.token(refresh=True)
                continue
            if status in (401, 403):
                raise BlizzardAuthError(f"GET {path}: Blizzard answered {status}.", status)
            if (status == 429 or status >= 500) and attempt < self.max_retries:
                retry_after = response.headers.get("Retry-After")
                if status == 429 and retry_after:
                    try:
                        time.sleep(min(float(retry_after), 30.0))
                    except ValueError:
                        self._sleep_backoff(attempt)
                else:
                    self._sleep_backoff(attempt)
                attempt += 1
                continue
            raise BlizzardError(f"GET {path}: Blizzard answered {status} after {attempt + 1} attempts.", status)

    def _sleep_backoff(self, attempt: int) -> None:
        time.sleep(min(self.backoff * (2 ** attempt), 30.0))

    def guild_roster(self, realm: str, guild: str) -> dict[str, Any]:
        return self.get(f"/data/wow/guild/{quote(realm_slug(realm))}/{quote(realm_slug(guild))}/roster")

    def character_profile(self, realm: str, name: str) -> dict[str, Any]:
        return self.get(f"/profile/wow/character/{quote(realm)}/{quote(name.lower())}")

    # -- the whole guild ----------------------------------------------------------------
    def fetch_guild(self, realm: str | None = None, guild: str | None = None) -> RosterFetch:
        """The roster plus a profile summary per member, as ``sync_blizzard_roster`` wants it."""
        realm = realm or settings.BLIZZARD_REALM_SLUG
        guild = guild or settings.BLIZZARD_GUILD_SLUG
        if not realm or not guild:
            raise BlizzardError("BLIZZARD_REALM_SLUG and BLIZZARD_GUILD_SLUG are not set.")
        roster = self.guild_roster(realm, guild)
        result = RosterFetch(guild=roster.get("guild", {}))
        members = roster.get("members", [])

        def one(member: dict[str, Any]) -> tuple[str, dict[str, Any] | None, str | None]:
            char = member["character"]
            slug = (char.get("realm") or {}).get("slug") or realm_slug(realm)
            label = f"{char['name']}-{slug}"
            try:
                return label, self.character_profile(slug, char["name"]), None
            except BlizzardNotFoundError:
                return label, None, "not_found"
            except BlizzardAuthError:
                raise
            except BlizzardError as exc:
                return label, None, str(exc)

        with ThreadPoolExecutor(max_workers=max(1, self.workers)) as pool:
            outcomes = list(pool.map(one, members))
        for member, (label, profile, problem) in zip(members, outcomes, strict=True):
            if problem == "not_found":
                result.not_found.append(label)
            elif problem:
                result.errors.append(f"{label}: {problem}")
            result.characters.append(character_record(member, profile))
        result.requests = self.request_count
        return result


def character_record(member: dict[str, Any], profile: dict[str, Any] | None) -> dict[str, Any]:
    """One roster member (+ its profile when it could be read) → the dict db_sync takes.

    Without a profile the roster's own facts (name, realm, class id, level, rank) still
    count: the character is in the guild even when its profile 404s."""
    char = member["character"]
    realm = char.get("realm") or {}
    record: dict[str, Any] = {
        "character_name": char["name"],
        "realm_slug": realm.get("slug") or "",
        "realm_name": realm.get("name") or "",
        "blizzard_id": char.get("id"),
        "class_id": (char.get("playable_class") or {}).get("id"),
        "class_name": None,
        "spec_id": None,
        "spec_name": None,
        "level": char.get("level"),
        "rank_index": member.get("rank"),
        "profile_json": None,
    }
    if profile:
        preal = profile.get("realm") or {}
        login_ms = profile.get("last_login_timestamp")
        record.update(
            realm_slug=preal.get("slug") or record["realm_slug"],
            realm_name=preal.get("name") or record["realm_name"],
            blizzard_id=profile.get("id", record["blizzard_id"]),
            class_id=(profile.get("character_class") or {}).get("id", record["class_id"]),
            class_name=(profile.get("character_class") or {}).get("name"),
            spec_id=(profile.get("active_spec") or {}).get("id"),
            spec_name=(profile.get("active_spec") or {}).get("name"),
            level=profile.get("level", record["level"]),
            item_level=profile.get("equipped_item_level") or profile.get("average_item_level"),
            achievement_points=profile.get("achievement_points"),
            last_login_at=dt.datetime.fromtimestamp(login_ms / 1000, tz=dt.UTC) if login_ms else None,
            profile_json=profile,
        )
    return record


def account_characters(user_token: str, *, api_base: str | None = None, region: str | None = None,
                       locale: str | None = None, timeout: float = 15.0) -> list[dict[str, Any]]:
    """The characters of the member's own Battle.net account: ``GET /profile/user/wow`` with
    *their* OAuth token (scope ``wow.profile``, from their Battle.net connection), namespace
    ``profile-{region}``. Every WoW licence of the account (``wow_accounts``) counts. Returns
    ``[{"id", "name", "realm_slug", "realm_name", "level"}]``; a refused token (401/403) is a
    ``BlizzardAuthError``, anything else unexpected a ``BlizzardError`` (the page says which)."""
    region = (region or settings.BLIZZARD_REGION).lower()
    url = f"{(api_base or settings.BLIZZARD_API_BASE).rstrip('/')}/profile/user/wow"
    try:
        response = requests.get(url, headers={"Authorization": f"Bearer {user_token}"}, timeout=timeout,
                                params={"namespace": f"profile-{region}", "locale": locale or settings.BLIZZARD_LOCALE})
    except requests.RequestException as exc:
        raise BlizzardError(_("Battle.net did not answer (%(error)s).") % {"error": exc.__class__.__name__}) from None
    if response.status_code in (401, 403):
        raise BlizzardAuthError(_("Battle.net refused the account's token; connect Battle.net again."),
                                response.status_code)
    if response.status_code == 404:
        return []  # an account without a WoW licence has no WoW profile
    if response.status_code != 200:
        raise BlizzardError(_("Battle.net answered %(status)s to the account's character list.")
                            % {"status": response.status_code}, response.status_code)
    try:
        data = response.json()
    except ValueError:
        raise BlizzardError(_("Battle.net's answer was not JSON.")) from None
    return parse_account_profile(data)


def parse_account_profile(data: Any) -> list[dict[str, Any]]:
    """The characters of an Account Profile Summary (``wow_accounts[].characters[]``), each as
    ``{"id", "name", "realm_slug", "realm_name", "level"}``; anything that is not that shape is a
    ``BlizzardError`` (fuzzed: tests/members/test_battlenet_parse.py)."""
    try:
        accounts = data.get("wow_accounts") or []
        found = []
        for account in accounts:
            for char in account.get("characters") or []:
                realm = char.get("realm") or {}
                name, slug, level = realm.get("name"), realm["slug"], char.get("level")
                if not isinstance(slug, str) or not isinstance(char["name"], str) or not slug or not char["name"]:
                    raise TypeError("name and realm slug are text")
                found.append({"id": int(char["id"]), "name": char["name"][:24], "realm_slug": slug[:64],
                              "realm_name": name[:64] if isinstance(name, str) else "",
                              "level": level if isinstance(level, int) and not isinstance(level, bool) else None})
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError):
        raise BlizzardError(_("Battle.net's answer was not an account profile.")) from None
    return found
