"""A fake Warcraft Logs v2 API (OAuth2 client credentials + GraphQL) that answers like the real one.

Shapes and where they come from (the same sources ``raids/warcraftlogs.py`` cites):
- ``POST /oauth/token`` (Laravel Passport): ``grant_type=client_credentials`` with the client as
  HTTP Basic auth (or ``client_id``/``client_secret`` form fields) →
  ``{"token_type": "Bearer", "expires_in": 31536000, "access_token": "…"}``; a wrong client →
  401 ``{"error": "invalid_client", "error_description": "Client authentication failed",
  "message": "Client authentication failed"}``; another grant → 400 ``unsupported_grant_type``
  (RFC 6749 §5.2; aikaterna/aikaterna-cogs ``warcraftlogs/http.py`` reads ``error`` /
  ``error_description`` / ``expires_in``).
- ``POST /api/v2/client``: a missing, unknown or expired bearer token → 401
  ``{"error": "Unauthenticated."}`` (aikaterna/aikaterna-cogs issue #235); otherwise GraphQL.
  Two queries are understood, by their root fields (schema: ToppleTheNun/mchammer
  ``packages/wcl/src/gql/schema.graphql``): ``reportData.reports(guildID | guildName +
  guildServerSlug + guildServerRegion, startTime, endTime, limit, page)`` → ``ReportPagination``
  (``data``, ``total``, ``per_page``, ``current_page``, ``from``, ``to``, ``last_page``,
  ``has_more_pages``), only reports overlapping the time range (UNIX ms); and
  ``reportData.report(code)`` → ``{code, fights[{id, encounterID, friendlyPlayers}],
  masterData{actors[{id, name, server, subType}]}}``. An unknown report code answers 200 with
  ``{"errors": [{"message", "locations", "path"}], "data": {"reportData": {"report": null}}}``
  (GraphQL spec §7.1.2); a query it does not know answers a GraphQL error too.
- A report "not uploaded yet" is simply absent: the reports list is empty.
- ``rate_limit_next`` answers 429 ``{"message": "Too Many Attempts."}`` with ``Retry-After``
  (Laravel's throttle answer; go-wcl honours that header); ``fail_next``/``stall_next`` (from
  ``FakeAPI``) give 5xx and timeouts.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import math
from typing import Any
from urllib.parse import parse_qs

from werkzeug import Response

from tests.fakes.http import FakeAPI, Recorded

UNAUTHENTICATED = {"error": "Unauthenticated."}
TOKEN_PATH = "/oauth/token"
API_PATH = "/api/v2/client"


class FakeWarcraftLogs(FakeAPI):
    client_id = "9eda1388-fake-wcl-client"
    client_secret = "fake-wcl-secret"
    guild = {"id": 424242, "name": "Pass the Toilet Paper", "server_slug": "silvermoon", "region": "eu"}

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self._token_ids = itertools.count(1)
            self.tokens: set[str] = set()
            self.expires_in = 31_536_000
            self.reports: dict[str, dict] = {}
            self.accept_client = (self.client_id, self.client_secret)

    def client_settings(self) -> dict[str, Any]:
        """The WCL_* settings that point the project's client at this fake, as this guild's client."""
        return {"WCL_TOKEN_URL": f"{self.base_url}{TOKEN_PATH}", "WCL_API_URL": f"{self.base_url}{API_PATH}",
                "WCL_CLIENT_ID": self.client_id, "WCL_CLIENT_SECRET": self.client_secret,
                "WCL_GUILD_ID": self.guild["id"]}

    # -- helpers for tests --------------------------------------------------------------
    def add_report(self, code: str, start: dt.datetime, end: dt.datetime, players: list[tuple[str, str, str]],
                   *, fights: list[list[str]] | None = None, guild_id: int | None = None,
                   raw_actors: list[Any] | None = None, raw_fights: list[Any] | None = None) -> dict:
        """A report of the guild (or of ``guild_id``): ``players`` are (name, server, class)
        actors; ``fights`` lists the names in each fight (default: everyone in a trash fight and
        a boss fight). ``raw_actors``/``raw_fights`` replace the built lists as given (hostile
        answers)."""
        actors = [{"gameID": 0, "icon": cls, "id": i, "name": name, "petOwner": None, "server": server,
                   "subType": cls, "type": "Player"} for i, (name, server, cls) in enumerate(players, start=1)]
        ids = {a["name"]: a["id"] for a in actors}
        if fights is None:
            fights = [[p[0] for p in players]] * 2
        report_fights = [{"id": n, "encounterID": 0 if n == 1 else 2902, "name": "Trash" if n == 1 else "Boss",
                          "startTime": 1000 * n, "endTime": 1000 * n + 500,
                          "friendlyPlayers": [ids[name] for name in names]}
                         for n, names in enumerate(fights, start=1)]
        report = {"code": code, "title": "Raid", "startTime": int(start.timestamp() * 1000),
                  "endTime": int(end.timestamp() * 1000), "guild_id": guild_id or self.guild["id"],
                  "fights": raw_fights if raw_fights is not None else report_fights,
                  "actors": raw_actors if raw_actors is not None else actors}
        with self.lock:
            self.reports[code] = report
        return report

    def expire_tokens(self) -> None:
        """Every token issued so far stops working (expired early or revoked)."""
        with self.lock:
            self.tokens.clear()

    def rate_limit_next(self, *, times: int = 1, retry_after: int = 1) -> None:
        self.fail_next("POST", rf"^{API_PATH}$", 429, {"message": "Too Many Attempts."}, times=times,
                       headers={"Retry-After": str(retry_after), "X-RateLimit-Remaining": "0"})

    def graphql_calls(self) -> list[Recorded]:
        return self.calls("POST", rf"^{API_PATH}$")

    # -- the API ------------------------------------------------------------------------
    def handle(self, rec: Recorded) -> Response:
        if rec.method == "POST" and rec.path == TOKEN_PATH:
            return self._token(rec)
        if rec.method == "POST" and rec.path == API_PATH:
            return self._graphql(rec)
        return Response("<!DOCTYPE html><title>Page not found</title>", status=404, content_type="text/html")

    def _token(self, rec: Recorded) -> Response:
        form = {k: v[0] for k, v in parse_qs(rec.body.decode(errors="replace")).items()}
        client = (form.get("client_id"), form.get("client_secret"))
        auth = rec.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                client = tuple(base64.b64decode(auth[6:]).decode().split(":", 1))
            except (ValueError, UnicodeDecodeError):
                client = (None, None)
        if form.get("grant_type") != "client_credentials":
            return self.respond(400, {"error": "unsupported_grant_type",
                                      "error_description": "The authorization grant type is not supported by the "
                                                           "authorization server."})
        if client != self.accept_client:
            return self.respond(401, {"error": "invalid_client", "error_description": "Client authentication failed",
                                      "message": "Client authentication failed"})
        token = f"wcl-token-{next(self._token_ids)}"
        with self.lock:
            self.tokens.add(token)
        return self.respond(200, {"token_type": "Bearer", "expires_in": self.expires_in, "access_token": token})

    def _graphql(self, rec: Recorded) -> Response:
        auth = rec.headers.get("Authorization", "")
        with self.lock:
            valid = auth.startswith("Bearer ") and auth[7:] in self.tokens
        if not valid:
            return self.respond(401, UNAUTHENTICATED)
        body = rec.json if isinstance(rec.json, dict) else {}
        query, variables = str(body.get("query") or ""), body.get("variables") or {}
        if "reports(" in query:
            return self._reports(variables)
        if "report(code" in query:
            return self._report(variables)
        return self._error(f"Cannot query field \"{query.strip()[:40]}\" on type \"Query\".", ["query"], None)

    def _error(self, message: str, path: list[str], data: Any) -> Response:
        return self.respond(200, {"errors": [{"message": message, "extensions": {"category": "graphql"},
                                              "locations": [{"line": 3, "column": 5}], "path": path}],
                                  "data": data})

    def _reports(self, v: dict) -> Response:
        by_name = (v.get("guildName"), v.get("guildServerSlug"), v.get("guildServerRegion"))
        if v.get("guildID"):
            guild_ok = int(v["guildID"]) == self.guild["id"]
        elif all(by_name):
            guild_ok = (str(by_name[0]).casefold() == self.guild["name"].casefold()
                        and by_name[1] == self.guild["server_slug"] and str(by_name[2]).lower() == self.guild["region"])
        else:
            return self._error("You must specify either a guild ID or a guild name, server slug and server region.",
                               ["reportData", "reports"], {"reportData": {"reports": None}})
        if not guild_ok:
            return self._error("No guild exists for this name/server/region.", ["reportData", "reports"],
                               {"reportData": {"reports": None}})
        start, end = float(v.get("startTime") or 0), float(v.get("endTime") or 0) or math.inf
        with self.lock:
            rows = sorted((r for r in self.reports.values() if r["guild_id"] == self.guild["id"]
                           and r["startTime"] <= end and r["endTime"] >= start), key=lambda r: -r["startTime"])
        limit, page = max(1, min(int(v.get("limit") or 16), 100)), max(1, int(v.get("page") or 1))
        chunk = rows[(page - 1) * limit: page * limit]
        last_page = max(1, math.ceil(len(rows) / limit))
        return self.respond(200, {"data": {"reportData": {"reports": {
            "data": [{"code": r["code"], "title": r["title"], "startTime": r["startTime"], "endTime": r["endTime"]}
                     for r in chunk],
            "total": len(rows), "per_page": limit, "current_page": page,
            "from": (page - 1) * limit + 1 if chunk else None, "to": (page - 1) * limit + len(chunk) if chunk else None,
            "last_page": last_page, "has_more_pages": page < last_page}}}})

    def _report(self, v: dict) -> Response:
        with self.lock:
            report = self.reports.get(str(v.get("code")))
        if report is None:
            return self._error("This report does not exist.", ["reportData", "report"], {"reportData": {"report": None}})
        return self.respond(200, {"data": {"reportData": {"report": {
            "code": report["code"], "fights": report["fights"], "masterData": {"actors": report["actors"]}}}}})
