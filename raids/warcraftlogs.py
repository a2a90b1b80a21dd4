"""The one seam to the Warcraft Logs v2 API (OAuth2 client credentials + GraphQL).

Why it looks like this:
- Auth: ``POST WCL_TOKEN_URL`` (``https://www.warcraftlogs.com/oauth/token``, a Laravel Passport
  endpoint) with ``grant_type=client_credentials`` and the client id/secret as HTTP Basic auth
  answers ``{"token_type": "Bearer", "expires_in": …, "access_token": …}``; a refused client is
  ``{"error": "invalid_client", "error_description": …}``. Shapes as read by the public clients
  aikaterna/aikaterna-cogs ``warcraftlogs/http.py`` (Basic auth, ``expires_in``, ``error`` /
  ``error_description``) and the OAuth 2 spec (RFC 6749 §4.4, §5.2).
- The token is cached per (token URL, client id, secret) until it expires (minus a minute), so
  a credential rotated in the admin gets its own token on the very next task. A 401 from the
  GraphQL endpoint (the token was revoked or expired early: ``{"error": "Unauthenticated."}``,
  the answer reported in aikaterna/aikaterna-cogs issue #235) drops the cached token and the
  query is retried once with a fresh one.
- Queries: ``POST WCL_API_URL`` (``https://www.warcraftlogs.com/api/v2/client``) with
  ``{"query", "variables"}`` and ``Authorization: Bearer …``. Field and argument names are the
  published v2 schema's (vendored in ToppleTheNun/mchammer ``packages/wcl/src/gql/schema.graphql``:
  ``ReportData.reports(guildID, guildName, guildServerSlug, guildServerRegion, startTime,
  endTime, limit, page)`` → ``ReportPagination {data, has_more_pages}``; ``Report {code, title,
  startTime, endTime, fights, masterData}``; ``ReportFight.friendlyPlayers: [Int]`` (actor ids);
  ``ReportMasterData.actors(type: "Player")`` → ``ReportActor {id, name, server, subType}``).
  Report times are UNIX milliseconds; fight times are relative to the report.
- A GraphQL refusal comes back as ``{"errors": [{"message", "locations", "path"}], "data": …}``
  (GraphQL spec §7.1.2; read as ``errors[].message`` by the clients above): it is an error here,
  never a partial answer.
- 429 (the hourly points budget is spent): the answer's ``Retry-After`` is honoured (go-wcl,
  pkg.go.dev/github.com/math280h/go-wcl: "honoring Retry-After") when it is short
  (≤ ``MAX_RETRY_AFTER``), at most ``RATE_LIMIT_RETRIES`` times; a longer wait is an error and
  the next run tries again. 5xx, timeouts and refused connections are errors at once (the
  periodic task retries on its next run): nothing is written on any error.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import requests
from django.conf import settings
from django.utils.translation import gettext as _

from core.http_errors import response_reason
from core.secrets import get_secret

MAX_RETRY_AFTER = 30.0  # seconds: a longer rate-limit wait is left to the next run
RATE_LIMIT_RETRIES = 3
TOKEN_MARGIN = 60.0  # seconds before its expiry a token is no longer used
REPORTS_PAGE_SIZE = 25
MAX_REPORT_PAGES = 8
MAX_ACTORS = 5_000  # a raid report holds a few dozen players; more is not a raid report
MAX_FIGHTS = 5_000
MAX_NAME = 64
# Which part of an answer broke the schema: detail for whoever debugs it, after the officer's
# translated "unexpected answer:" (``WarcraftLogsFormatError``).
FORMAT_PROBLEMS = {"token": "the token answer has no access_token or expires_in",
                   "not_object": "the answer is not an object", "no_data": "the answer has no data"}

REPORTS_QUERY = """
query GuildReports($guildID: Int, $guildName: String, $guildServerSlug: String, $guildServerRegion: String,
                   $startTime: Float, $endTime: Float, $limit: Int, $page: Int) {
  reportData {
    reports(guildID: $guildID, guildName: $guildName, guildServerSlug: $guildServerSlug,
            guildServerRegion: $guildServerRegion, startTime: $startTime, endTime: $endTime,
            limit: $limit, page: $page) {
      data { code title startTime endTime }
      has_more_pages
    }
  }
}
"""

REPORT_PLAYERS_QUERY = """
query ReportPlayers($code: String!) {
  reportData {
    report(code: $code) {
      code
      fights { id encounterID friendlyPlayers }
      masterData { actors(type: "Player") { id name server subType } }
    }
  }
}
"""


class WarcraftLogsError(Exception):
    """Warcraft Logs refused or did not answer. ``status`` is the HTTP status (None: no answer);
    ``reason`` is what to tell an officer (translated, in the language active when it was
    raised: the officer's in the admin, English in a Celery job)."""

    def __init__(self, status: int | None, reason: str, *, retry_after: float | None = None) -> None:
        self.status = status
        self.reason = reason
        self.retry_after = retry_after
        if status:
            text = _("Warcraft Logs %(status)s: %(reason)s") % {"status": status, "reason": reason}
        else:
            text = _("Warcraft Logs unreachable: %(reason)s") % {"reason": reason}
        super().__init__(text)


class WarcraftLogsFormatError(WarcraftLogsError):
    """The answer is not shaped like the published schema: nothing is imported from it. The
    officer reads "unexpected answer" in their language; the detail (which field of the schema)
    stays as written, in English, for whoever debugs it."""

    def __init__(self, reason: str) -> None:
        super().__init__(200, _("unexpected answer: %(detail)s") % {"detail": reason})


@dataclass(frozen=True)
class ReportSummary:
    code: str
    title: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class SeenCharacter:
    name: str
    server: str  # WCL's "normalized server name" (e.g. "TarrenMill"); "" when the log has none


@dataclass
class ReportPlayers:
    """The players of one report who appear in at least one fight, and the entries that could
    not be read (each with why), so an officer sees them instead of a silent skip."""

    code: str
    seen: list[SeenCharacter] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)


# -- parsing (stranger-controlled text: strict shapes, bounded sizes, linear time) ---------
def _text(value: object, limit: int = MAX_NAME) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > limit or any(unicodedata.category(c) in ("Cc", "Cs") for c in value):
        return None
    return value


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if value != value or value in (float("inf"), float("-inf")) or not (0 <= value < 2**53):
        return None
    return int(value)


def _dig(data: object, *keys: str) -> object:
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            raise WarcraftLogsFormatError(f"no {'.'.join(keys)}")
        data = data[key]
    return data


def parse_reports(data: object) -> tuple[list[ReportSummary], bool]:
    """``data.reportData.reports`` → the reports on this page and whether more pages follow."""
    page = _dig(data, "reportData", "reports")
    if page is None:
        return [], False
    rows = _dig(page, "data")
    if rows is None:
        rows = []
    if not isinstance(rows, list) or len(rows) > 1_000:
        raise WarcraftLogsFormatError("reports.data is not a list of reports")
    reports = []
    for row in rows:
        if not isinstance(row, dict):
            raise WarcraftLogsFormatError("a report is not an object")
        code = _text(row.get("code"), 32)
        start, end = _number(row.get("startTime")), _number(row.get("endTime"))
        if code is None or not re.fullmatch(r"[A-Za-z0-9]+", code) or start is None or end is None:
            raise WarcraftLogsFormatError("a report has no readable code, startTime or endTime")
        reports.append(ReportSummary(code=code, title=_text(row.get("title"), 200) or "", start_ms=start,
                                     end_ms=end))
    more = page.get("has_more_pages") if isinstance(page, dict) else False
    return reports, more is True


def parse_report_players(code: str, data: object) -> ReportPlayers:
    """``data.reportData.report`` → the player actors listed in any fight's ``friendlyPlayers``.
    A wrong overall shape raises ``WarcraftLogsFormatError``; a single unreadable actor or id
    is listed in ``rejected`` and skipped."""
    report = _dig(data, "reportData", "report")
    if report is None:
        raise WarcraftLogsFormatError(f"report {code} is missing")
    if not isinstance(report, dict):
        raise WarcraftLogsFormatError(f"report {code} is not an object")
    fights, master = report.get("fights"), report.get("masterData")
    if master is not None and not isinstance(master, dict):
        raise WarcraftLogsFormatError("masterData is not an object")
    actors = (master or {}).get("actors")
    fights, actors = fights if fights is not None else [], actors if actors is not None else []
    if not isinstance(fights, list) or not isinstance(actors, list):
        raise WarcraftLogsFormatError("fights or masterData.actors is not a list")
    if len(fights) > MAX_FIGHTS or len(actors) > MAX_ACTORS:
        raise WarcraftLogsFormatError(f"{len(fights)} fights / {len(actors)} actors: not a raid report")
    result = ReportPlayers(code=code)
    by_id: dict[int, SeenCharacter] = {}
    for actor in actors:
        if not isinstance(actor, dict):
            result.rejected.append("an actor that is not an object")
            continue
        actor_id, name = _int(actor.get("id")), _text(actor.get("name"))
        server = actor.get("server")
        server = "" if server is None else _text(server)
        if actor_id is None or name is None or server is None:
            result.rejected.append(f"actor {str(actor.get('id'))[:20]!r}: no readable id, name or server")
            continue
        if actor.get("type", "Player") != "Player":
            continue
        by_id[actor_id] = SeenCharacter(name=name, server=server)
    seen: dict[int, SeenCharacter] = {}
    unknown: set[int] = set()
    for fight in fights:
        if not isinstance(fight, dict):
            result.rejected.append("a fight that is not an object")
            continue
        players = fight.get("friendlyPlayers") or []
        if not isinstance(players, list):
            result.rejected.append(f"fight {str(fight.get('id'))[:20]!r}: friendlyPlayers is not a list")
            continue
        for actor_id in players:
            actor_id = _int(actor_id)
            if actor_id is None:
                result.rejected.append(f"fight {str(fight.get('id'))[:20]!r}: a player id that is not a number")
            elif actor_id in by_id:
                seen.setdefault(actor_id, by_id[actor_id])
            elif actor_id not in unknown and len(unknown) < 100:
                unknown.add(actor_id)
                result.rejected.append(f"player id {actor_id} is in a fight but not among the report's players")
    result.seen = list(dict.fromkeys(seen.values()))
    del result.rejected[200:]
    return result


# -- the client ------------------------------------------------------------------------------
_TOKENS: dict[tuple[str, str, str], tuple[str, float]] = {}
_TOKENS_LOCK = threading.Lock()


def _sleep(seconds: float) -> None:  # a seam: tests record the waits instead of sleeping
    time.sleep(seconds)


def _retry_after(response: requests.Response) -> float | None:
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None


def _reason(response: requests.Response) -> str:
    """OAuth's ``error_description``, GraphQL's ``errors`` list, or a plain message."""
    return response_reason(response, ("error_description", "message", "error"), special=lambda body: (
        _graphql_errors(body["errors"]) if isinstance(body.get("errors"), list) and body["errors"] else None))


def _answer_json(response: requests.Response, what: str) -> Any:
    """The JSON body of a successful answer; any other status is an error the next run retries
    (with the announced wait), and a body that is not JSON a format error."""
    if response.status_code >= 300:
        raise WarcraftLogsError(response.status_code, _reason(response), retry_after=_retry_after(response))
    try:
        return response.json()
    except ValueError:
        raise WarcraftLogsFormatError(f"the {what} answer is not JSON") from None


def _graphql_errors(errors: list) -> str:
    messages = [str(e.get("message") if isinstance(e, dict) else e)[:200] for e in errors[:5]]
    return "GraphQL: " + "; ".join(messages)


class WarcraftLogsClient:
    """One per run: credentials are read when it is built (environment first, then the
    admin's encrypted settings), so a rotation is used by the next task without a restart."""

    def __init__(self, *, client_id: str | None = None, client_secret: str | None = None,
                 token_url: str | None = None, api_url: str | None = None, timeout: float | None = None) -> None:
        self.client_id = client_id if client_id is not None else get_secret("WCL_CLIENT_ID")
        self.client_secret = client_secret if client_secret is not None else get_secret("WCL_CLIENT_SECRET")
        self.token_url = token_url or settings.WCL_TOKEN_URL
        self.api_url = api_url or settings.WCL_API_URL
        self.timeout = timeout if timeout is not None else getattr(settings, "WCL_HTTP_TIMEOUT", 15.0)
        self.session = requests.Session()
        self.session.headers.update({"User-Agent": "guildops-raids"})

    @property
    def _cache_key(self) -> tuple[str, str, str]:
        return self.token_url, self.client_id, hashlib.sha256(self.client_secret.encode()).hexdigest()

    def _post(self, url: str, **kwargs: Any) -> requests.Response:
        try:
            return self.session.post(url, timeout=self.timeout, **kwargs)
        except requests.Timeout:
            raise WarcraftLogsError(None, _("no answer within %(seconds)s s") % {"seconds": f"{self.timeout:g}"}
                                    ) from None
        except requests.ConnectionError as exc:
            raise WarcraftLogsError(None, _("connection failed (%(error)s)") % {"error": exc.__class__.__name__}
                                    ) from None

    def token(self) -> str:
        """The cached token, or a new one (client credentials)."""
        if not self.client_id or not self.client_secret:
            raise WarcraftLogsError(None, _("no client credentials (WCL_CLIENT_ID / WCL_CLIENT_SECRET)"))
        key = self._cache_key
        with _TOKENS_LOCK:
            cached = _TOKENS.get(key)
            if cached and cached[1] > time.monotonic():
                return cached[0]
        for _attempt in range(RATE_LIMIT_RETRIES + 1):
            response = self._post(self.token_url, data={"grant_type": "client_credentials"},
                                  auth=(self.client_id, self.client_secret))
            if response.status_code == 429 and self._wait(response):
                continue
            break
        if response.status_code in (400, 401):
            raise WarcraftLogsError(response.status_code, _("the client credentials were refused (%(reason)s)")
                                    % {"reason": _reason(response)})
        body = _answer_json(response, "token")
        token = _text(body.get("access_token") if isinstance(body, dict) else None, 8_192)
        expires_in = _number(body.get("expires_in")) if isinstance(body, dict) else None
        if token is None or expires_in is None:
            raise WarcraftLogsFormatError(FORMAT_PROBLEMS["token"])
        with _TOKENS_LOCK:
            _TOKENS[key] = (token, time.monotonic() + expires_in - TOKEN_MARGIN)
        return token

    def forget_token(self) -> None:
        with _TOKENS_LOCK:
            _TOKENS.pop(self._cache_key, None)

    def _wait(self, response: requests.Response) -> bool:
        """After a 429: sleep the announced wait when it is short and say "retry"."""
        wait = _retry_after(response)
        if wait is None or wait > MAX_RETRY_AFTER:
            return False
        _sleep(max(wait, 0.0))
        return True

    def query(self, query: str, variables: dict[str, Any]) -> dict:
        """Run one GraphQL query; returns its ``data``. A 401 refreshes the token once; a 429
        waits out a short Retry-After (≤ ``RATE_LIMIT_RETRIES`` times); anything else raises."""
        refreshed = False
        rate_limited = 0
        while True:
            response = self._post(self.api_url, json={"query": query, "variables": variables},
                                  headers={"Authorization": f"Bearer {self.token()}"})
            if response.status_code == 401 and not refreshed:
                self.forget_token()
                refreshed = True
                continue
            if response.status_code == 429:
                if rate_limited < RATE_LIMIT_RETRIES and self._wait(response):
                    rate_limited += 1
                    continue
                wait = _retry_after(response)
                reason = (_("rate limited: retry after %(seconds)s s") % {"seconds": f"{wait:g}"} if wait
                          else _("rate limited"))
                raise WarcraftLogsError(429, reason, retry_after=wait)
            body = _answer_json(response, "query")
            if not isinstance(body, dict):
                raise WarcraftLogsFormatError(FORMAT_PROBLEMS["not_object"])
            if body.get("errors"):
                errors = body["errors"] if isinstance(body["errors"], list) else [body["errors"]]
                raise WarcraftLogsError(response.status_code, _graphql_errors(errors))
            if not isinstance(body.get("data"), dict):
                raise WarcraftLogsFormatError(FORMAT_PROBLEMS["no_data"])
            return body["data"]

    # -- the API ------------------------------------------------------------------------
    def guild_reports(self, guild: dict[str, Any], start_ms: int, end_ms: int) -> list[ReportSummary]:
        """The guild's reports overlapping [start_ms, end_ms] (UNIX ms), every page.
        ``guild``: ``{"guildID": …}`` or ``{"guildName", "guildServerSlug", "guildServerRegion"}``."""
        reports: list[ReportSummary] = []
        for page in range(1, MAX_REPORT_PAGES + 1):
            data = self.query(REPORTS_QUERY, {**guild, "startTime": start_ms, "endTime": end_ms,
                                              "limit": REPORTS_PAGE_SIZE, "page": page})
            rows, more = parse_reports(data)
            reports.extend(rows)
            if not more:
                break
        return [r for r in dict.fromkeys(reports) if r.start_ms <= end_ms and r.end_ms >= start_ms]

    def report_players(self, code: str) -> ReportPlayers:
        """The players seen in the fights of report ``code``."""
        return parse_report_players(code, self.query(REPORT_PLAYERS_QUERY, {"code": code}))


def realm_key(value: str) -> str:
    """One spelling for a realm: WCL's "TarrenMill"/"Aggra(Português)", Blizzard's slug
    "tarren-mill"/"aggra-portugues" and its name "Tarren Mill" all become "tarrenmill" /
    "aggraportugues" (accents dropped, only letters and digits kept)."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return "".join(c for c in decomposed if c.isalnum() and not unicodedata.combining(c))
