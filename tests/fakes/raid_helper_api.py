"""A fake Raid-Helper v4 API that answers like Raid-Helper, including its failures.

What it keeps: events per server (created through the API or ``add_event``) with their
sign-ups. What it checks like Raid-Helper: the ``Authorization`` header is the bare API key
(a "Bearer …" key is an invalid token, 401 ``{"reason": "invalid token"}``), the server id,
the create body (leaderId, templateId, title, date YYYY-MM-DD or DD-MM-YYYY read in the
server's ``timezone``, time HH:MM, advancedSettings.duration), the sign-up body (userId and a
className of a role slot with a specName, or Tentative/Bench/Late/Absence). Unknown paths
answer with plain text like the real one; refusals are ``{"status": "failed", "reason": …}``.
``id_under_event`` switches where the created id is returned (top level or under ``event``).
``lowercase`` answers ``GET /events/{id}`` in the lowercase shape some Raid-Helper versions use
(``signups``, ``userid``, ``classname``, …; issue #12); ``signups_key=None`` leaves the list out.
Sign-ups stored with ``add_event``/``_store_signup`` keep every key they are given (``roleName``,
``specName``, Classic ``className``s like "Rogue"), as in the recorded bodies cited in
``raids/services.py``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import zoneinfo
from typing import Any

from werkzeug import Response

from tests.fakes.http import FakeAPI, Recorded

ROLE_SLOTS = {"Tank", "Healer", "Melee", "Ranged"}
STATUS_SLOTS = {"Tentative", "Bench", "Late", "Absence"}


class FakeRaidHelper(FakeAPI):
    prefix = "/api/v4"
    api_key = "fake-raid-helper-key"
    server_id = "123456789012345678"

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self._ids = itertools.count(1_300_000_000_000_000_001)
            self._signup_ids = itertools.count(1)
            self.events: dict[str, dict] = {}
            self.timezone = "UTC"
            self.id_under_event = True
            self.page_size = 50
            self.lowercase = False
            self.signups_key: str | None = "signUps"

    # -- helpers for tests --------------------------------------------------------------
    def add_event(self, title: str, start: dt.datetime, *, channel_id: int = 1, duration: int = 180,
                  signups: list[dict] | None = None) -> dict:
        with self.lock:
            event_id = str(next(self._ids))
            start_ts = int(start.timestamp())
            event = {"id": event_id, "serverId": self.server_id, "channelId": str(channel_id), "title": title,
                     "description": "", "leaderId": "1", "templateId": "wowretail2", "startTime": start_ts,
                     "endTime": start_ts + duration * 60, "closingTime": start_ts, "signUps": []}
            self.events[event_id] = event
            for s in signups or []:
                self._store_signup(event, s)
            return event

    def signups(self, event_id: str) -> list[dict]:
        with self.lock:
            return list(self.events[event_id]["signUps"])

    def _store_signup(self, event: dict, body: dict) -> dict:
        uid = body.get("userId")
        existing = next((s for s in event["signUps"] if uid and s.get("userId") == str(uid)), None)
        signup = existing or {"id": next(self._signup_ids), "userId": str(uid),
                              "name": body.get("name", f"user{uid}"),
                              "entryTime": int(dt.datetime.now(dt.UTC).timestamp()),
                              "position": len(event["signUps"]) + 1, "status": "primary"}
        signup["className"] = body["className"]
        signup["specName"] = body.get("specName")
        for key in ("roleName", "name"):
            if body.get(key):
                signup[key] = body[key]
        if body.get("userId") in (None, ""):
            signup.pop("userId", None)  # a recorded body may lack it: the importer must say so
        if existing is None:
            event["signUps"].append(signup)
        return signup

    # -- the API ------------------------------------------------------------------------
    def failed(self, status: int, reason: str) -> Response:
        return self.respond(status, {"status": "failed", "reason": reason})

    def handle(self, rec: Recorded) -> Response:
        m, p = rec.method, rec.path
        match = re.fullmatch(r"/events/(\d+)", p)
        if m == "GET" and match:  # reading an event needs no key
            return self.get_event(match.group(1))
        if rec.headers.get("Authorization") != self.api_key:
            return self.respond(401, {"reason": "invalid token"})
        for method, pattern, handler in (
            ("POST", r"/servers/(\d+)/channels/(\d+)/event", self.create_event),
            ("POST", r"/events/(\d+)/signups", self.create_signup),
            ("GET", r"/servers/(\d+)/events", self.list_events),
        ):
            match = re.fullmatch(pattern, p)
            if method == m and match:
                return handler(rec, *match.groups())
        return self.respond(404, f"Endpoint {m} {p} not found.")

    def _parse_start(self, date: str, time: str) -> dt.datetime:
        for fmt in ("%Y-%m-%d %H:%M", "%d-%m-%Y %H:%M"):
            try:
                naive = dt.datetime.strptime(f"{date} {time}", fmt)  # noqa: DTZ007 (zone set below)
            except ValueError:
                continue
            return naive.replace(tzinfo=zoneinfo.ZoneInfo(self.timezone))
        raise ValueError(f"invalid date/time {date!r} {time!r}")

    def create_event(self, rec: Recorded, server_id: str, channel_id: str) -> Response:
        if server_id != self.server_id:
            return self.failed(403, "The API key does not belong to this server.")
        body = rec.json
        if not isinstance(body, dict):
            return self.failed(400, "Request body must be JSON.")
        for key in ("leaderId", "templateId", "title", "date", "time"):
            if not isinstance(body.get(key), str) or not body[key]:
                return self.failed(400, f"Missing or invalid field: {key}")
        if not body["leaderId"].isdigit():
            return self.failed(400, "leaderId must be a Discord id.")
        duration = (body.get("advancedSettings") or {}).get("duration")
        if not isinstance(duration, int) or duration <= 0:
            return self.failed(400, "advancedSettings.duration must be a positive number of minutes.")
        try:
            start = self._parse_start(body["date"], body["time"])
        except ValueError as exc:
            return self.failed(400, str(exc))
        with self.lock:
            event = self.add_event(body["title"], start, channel_id=int(channel_id), duration=duration)
            event.update(description=body.get("description", ""), leaderId=body["leaderId"],
                         templateId=body["templateId"])
        answer = {"status": "success", "event": dict(event)} if self.id_under_event else {"status": "success", **event}
        return self.respond(200, answer)

    def create_signup(self, rec: Recorded, event_id: str) -> Response:
        body = rec.json
        with self.lock:
            event = self.events.get(event_id)
            if event is None:
                return self.failed(404, "Event not found.")
            if not isinstance(body, dict) or not str(body.get("userId", "")).isdigit():
                return self.failed(400, "userId must be a Discord id.")
            class_name = body.get("className")
            if class_name in ROLE_SLOTS:
                if not body.get("specName"):
                    return self.failed(400, f"specName is required for {class_name}.")
            elif class_name not in STATUS_SLOTS:
                return self.failed(400, f"Unknown className {class_name!r}.")
            signup = self._store_signup(event, body)
        return self.respond(200, {"status": "success", "signUp": dict(signup)})

    def list_events(self, rec: Recorded, server_id: str) -> Response:
        if server_id != self.server_id:
            return self.failed(403, "The API key does not belong to this server.")
        start_filter = int(rec.headers.get("Starttimefilter") or rec.headers.get("StartTimeFilter") or 0)
        page = int(rec.headers.get("Page") or 1)
        with self.lock:
            events = sorted((e for e in self.events.values() if e["startTime"] >= start_filter),
                            key=lambda e: e["startTime"])
            pages = max(1, -(-len(events) // self.page_size))
            chunk = events[(page - 1) * self.page_size: page * self.page_size]
            posted = [{k: v for k, v in e.items() if k != "signUps"} for e in chunk]
        return self.respond(200, {"pages": pages, "currentPage": page, "eventsOverall": len(events),
                                  "postedEvents": posted})

    def get_event(self, event_id: str) -> Response:
        with self.lock:
            event = self.events.get(event_id)
            if event is None:
                return self.failed(404, "Event not found.")
            answer: dict[str, Any] = {k: v for k, v in event.items() if k != "signUps"}
            signups = [dict(s) for s in event["signUps"]]
            if self.lowercase:
                answer = {k.lower(): v for k, v in answer.items()}
                signups = [{k.lower(): v for k, v in s.items()} for s in signups]
            if self.signups_key:
                answer[self.signups_key.lower() if self.lowercase else self.signups_key] = signups
        return self.respond(200, answer)
