"""The one seam to Blizzard's Battle.net API (World of Warcraft profile data).

- OAuth client credentials: the token is cached per (OAuth URL, client id) until shortly
  before it expires and sent as ``Authorization: Bearer`` (query-string tokens are refused).
- Every request carries ``namespace=profile-{region}`` and ``locale``.
- Throughput is bounded by ``BLIZZARD_REQUESTS_PER_SECOND`` (Blizzard allows 100/s): the
  profile requests run on a few threads that share one pacing clock.
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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests
from django.conf import settings

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
    """At most ``rate`` request starts per second, shared by all threads."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next_at = 0.0
        self.lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self.lock:
            now = time.monotonic()
            start = max(now, self.next_at)
            self.next_at = start + self.interval
        if start > now:
            time.sleep(start - now)


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
                 max_retries: int = 4, backoff: float = 0.5, workers: int = 8) -> None:
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
            self.pacer.wait()
            with self._count_lock:
                self.request_count += 1
            headers = {"Authorization": f"Bearer {self.token()}", "Accept": "application/json"}
            try:
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
