"""A fake Discord REST API (v10) that answers like Discord, including its failures.

What it keeps: messages per channel (with nonce de-duplication under ``enforce_nonce``),
DM channels, member roles, guild members (for the member-list sync), application commands.
What it refuses like Discord: DMs to users in ``closed_dms`` (403, code 50007), channels in
``unknown_channels`` (404, 10003), edits of unknown messages (404, 10008), a wrong token (401).
``rate_limit_next`` answers 429 with a JSON ``retry_after`` and a ``Via`` header — without
``Via`` discord.py would take it for a Cloudflare ban.

Interactions (the end-to-end bot tests): the callback ``POST /interactions/{id}/{token}/callback``,
``GET/PATCH/DELETE /webhooks/{app}/{token}/messages/@original`` and follow-ups ``POST
/webhooks/{app}/{token}`` are answered without a bot token, like Discord (the interaction token
is the credential). Every answer is kept in ``answers`` with ``time.monotonic()`` of its arrival,
so a benchmark (bench/bot_burst.py) can measure it against Discord's 3 seconds; a token Discord never
issued (``issue_interaction`` not called) gets 404 10062 "Unknown interaction", a second
callback 400 40060 "Interaction has already been acknowledged". Shapes:
discord-api-docs developers/interactions/receiving-and-responding.mdx (Interaction Callback
Response Object, Followup Messages; error codes from developers/topics/opcodes-and-status-codes.mdx).

``enforce_limits()`` (opt-in, for the outbox benchmark and the delivery tests) makes it hold
the bot to Discord's real limits and answer slowly like the real network:
- 50 requests per second per bot (a one-second bucket, like Discord's other limits), else a global 429;
- 5 message creates per 5 s per channel, and 5 edits per 5 s per channel (their own bucket),
  else a per-route 429; every answer on those routes carries the ``X-RateLimit-*`` headers;
- ``latency`` seconds (80 ms) added to every answer.
Header names, the 429 body and the global variant follow Discord's "Rate Limits" page
(discord/discord-api-docs, docs/topics/Rate_Limits.md: "Example Exceeded User Rate Limit
Response" / "Example Exceeded Global Rate Limit Response"). What was refused is counted in
``refused`` so a benchmark can report "no global 429".

``GET /channels/{id}/messages`` serves the channel's history newest first with
``limit``/``before``/``after`` like Discord. Message ids are real snowflakes (creation time in
the top bits), so ``after=<snowflake of a moment>`` works. Discord does not store a nonce
with the message: a fetched message has no ``nonce`` (only the create answer echoes it; see
Rapptz/discord.py#2451), and ``history_has_nonce`` switches it on for a test that wants the
other case. ``nonce_window`` (seconds, default unlimited) is how long ``enforce_nonce`` dedupes:
Discord honours a nonce "in the past few minutes" only.

Guild scheduled events (``scheduled_events[guild][id]``): ``POST/GET /guilds/{id}/scheduled-events``,
``GET/PATCH/DELETE /guilds/{id}/scheduled-events/{event}``, as discord-api-docs
docs/resources/Guild_Scheduled_Event.md documents them: the object's fields ("Guild Scheduled
Event Structure": creator_id/creator = the bot, user_count 0, image null), the field rules per
entity type ("Field Requirements By Entity Type": EXTERNAL needs channel_id null, an
entity_metadata.location of 1-100 characters and a scheduled_end_time), name 1-100,
description 1-1000, privacy_level 2 (GUILD_ONLY), the status transitions (SCHEDULED → ACTIVE or
CANCELED, ACTIVE → COMPLETED; CANCELED and COMPLETED are final), "a maximum of 100 events with
SCHEDULED or ACTIVE status" (else 400, code 30038, as listed in
docs/topics/Opcodes_and_Status_Codes.md), 404 10070 "Unknown Guild Scheduled Event", 204 on
delete, and "Status Update Automation": an EXTERNAL event becomes ACTIVE at its start and
COMPLETED at its end (applied when the fake next reads it). The list holds the SCHEDULED and
ACTIVE events. Invalid fields answer 400 code 50035 "Invalid Form Body" with Discord's error
tree ``{"errors": {"<field>": {"_errors": [{"code", "message"}]}}}`` (the "Example JSON Error
Response" of docs/reference.md; codes BASE_TYPE_REQUIRED / BASE_TYPE_BAD_LENGTH as there). A start
in the past is refused the same way; Discord does not publish that error's code, so the fake
uses GUILD_SCHEDULED_EVENT_SCHEDULE_PAST with the message Discord's client shows ("Cannot
schedule event in the past."). 429 and 5xx come from ``rate_limit_next`` / ``fail_next`` like
every route.
"""

from __future__ import annotations

import collections
import datetime as dt
import itertools
import re
import time
from dataclasses import dataclass, field
from typing import Any

from werkzeug import Response

from tests.fakes.discord_command_rules import command_errors, invalid_form_body
from tests.fakes.discord_role_connections import RoleConnectionsMixin
from tests.fakes.http import FakeAPI, Recorded

BOT_USER = {"id": "1000", "username": "guildops", "discriminator": "0", "global_name": "Guild Ops",
            "avatar": None, "bot": True}
APPLICATION_ID = "2000"
DISCORD_EPOCH_MS = 1_420_070_400_000
MESSAGE_CREATE_BUCKET = "d5a9c1f0e2b3a4c5d6e7f8091a2b3c4d"  # opaque hashes, like Discord's X-RateLimit-Bucket
MESSAGE_EDIT_BUCKET = "0e1f2a3b4c5d6e7f8091a2b3c4d5e6f7"


def snowflake_at(moment: float) -> int:
    """The smallest snowflake of a moment (Unix seconds), as Discord's ``after``/``before`` take."""
    return (int(moment * 1000) - DISCORD_EPOCH_MS) << 22


def snowflake_time(snowflake: int) -> float:
    return ((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000


class _Limits:
    """Discord's limits as the fake enforces them (see the module docstring)."""

    def __init__(self, global_per_second: int, route_limit: int, route_period: float, latency: float) -> None:
        self.global_per_second = global_per_second
        self.route_limit = route_limit
        self.route_period = route_period
        self.latency = latency
        self.global_reset: float | None = None
        self.arrivals: list[float] = []  # time.monotonic() of every request, for a benchmark's report
        self.global_remaining = global_per_second
        self.buckets: dict[tuple[str, int], list[float]] = {}  # (bucket, channel) -> [reset_at, remaining]


# Interaction callback types (receiving-and-responding.mdx, "Interaction Callback Type").
PONG, CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE, AUTOCOMPLETE_RESULT, MODAL = \
    1, 4, 5, 6, 7, 8, 9
EPHEMERAL = 1 << 6  # message flag


@dataclass
class Answer:
    """One answer of the bot to one interaction, as Discord received it."""

    interaction_id: int
    token: str
    kind: str  # "callback", "edit_original", "followup", "delete_original"
    at: float  # time.monotonic() when it arrived
    body: dict = field(default_factory=dict)

    @property
    def type(self) -> int | None:
        return self.body.get("type") if self.kind == "callback" else None

    @property
    def data(self) -> dict:
        return (self.body.get("data") or {}) if self.kind == "callback" else self.body

    @property
    def content(self) -> str | None:
        return self.data.get("content")

    @property
    def ephemeral(self) -> bool:
        return bool((self.data.get("flags") or 0) & EPHEMERAL)


class FakeDiscord(RoleConnectionsMixin, FakeAPI):
    prefix = "/api/v10"
    token = "fake-token"

    def __init__(self) -> None:
        super().__init__()
        self._ids = itertools.count()

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self.messages: dict[int, dict[int, dict]] = {}
            self.nonces: dict[tuple[int, str], dict] = {}
            self.dm_channels: dict[int, int] = {}
            self.closed_dms: set[int] = set()
            self.unknown_channels: set[int] = set()
            self.roles: dict[tuple[int, int], set[int]] = {}
            self.members: dict[int, list[dict]] = {}
            self.guild_roles: dict[int, list[dict]] = {}  # role objects per guild (GET /guilds/{id}/roles)
            self.bot_top_position: dict[int, int] = {}  # per guild: the position of the bot's highest role
            self.commands: dict[str, list[dict]] = {}
            self.bans: set[tuple[int, int]] = set()
            self.timeouts: dict[tuple[int, int], str | None] = {}
            self.interactions: dict[str, dict] = {}  # token -> {"id", "dispatched_at", "original"}
            self.answers: list[Answer] = []
            self._answers_by_token: dict[str, list[Answer]] = {}
            self.limits: _Limits | None = None
            self.refused: collections.Counter[str] = collections.Counter()
            self.history_has_nonce = False
            self.nonce_window: float | None = None
            self.held_answers: list[list] = []  # [method, compiled regex, seconds, times]
            self.scheduled_events: dict[int, dict[int, dict]] = {}  # guild -> event id -> event object
            self.event_edits: collections.Counter[int] = collections.Counter()  # event id -> PATCHes applied

    def hold_answer_next(self, method: str, path_regex: str, seconds: float, *, times: int = 1) -> None:
        """Carry out the next matching request at once, then hold its answer for ``seconds``:
        Discord has done it, the client does not know yet (a worker killed now dies between
        Discord's answer and its record)."""
        with self.lock:
            self.held_answers.append([method.upper(), re.compile(path_regex), seconds, times])

    def _hold_for(self, rec: Recorded) -> float:
        with self.lock:
            for entry in self.held_answers:
                if entry[0] == rec.method and entry[1].search(rec.path):
                    entry[3] -= 1
                    if entry[3] <= 0:
                        self.held_answers.remove(entry)
                    return entry[2]
        return 0.0

    def enforce_limits(self, *, global_per_second: int = 50, route_limit: int = 5, route_period: float = 5.0,
                       latency: float = 0.08) -> None:
        """Hold the bot to Discord's real limits, 80 ms per answer (until ``reset()``)."""
        with self.lock:
            self.limits = _Limits(global_per_second, route_limit, route_period, latency)

    # -- helpers for tests --------------------------------------------------------------
    def rate_limit_next(self, method: str, path_regex: str, retry_after: float = 0.2, *, is_global: bool = False,
                        times: int = 1) -> None:
        self.fail_next(method, path_regex, 429,
                       {"message": "You are being rate limited.", "retry_after": retry_after, "global": is_global},
                       headers={"Via": "1.1 google", "Retry-After": str(max(1, int(retry_after))),
                                "X-RateLimit-Scope": "global" if is_global else "user"}, times=times)

    def posted(self, channel_id: int | None = None) -> list[dict]:
        with self.lock:
            channels = [channel_id] if channel_id is not None else list(self.messages)
            return [m for c in channels for m in self.messages.get(c, {}).values()]

    def dms_to(self, user_id: int) -> list[dict]:
        channel = self.dm_channels.get(user_id)
        return self.posted(channel) if channel else []

    def new_id(self) -> int:
        """A snowflake like Discord's: creation time in ms since 2015 in the top bits, then a
        sequence, so ids grow with time and ``after=`` a moment finds what came later."""
        return snowflake_at(time.time()) | (next(self._ids) & 0x3FFFFF)

    # -- interactions (tests) -------------------------------------------------------------
    def issue_interaction(self, interaction_id: int, token: str) -> None:
        """Called by the fake gateway when it dispatches INTERACTION_CREATE."""
        with self.lock:
            self.interactions[token] = {"id": interaction_id, "dispatched_at": time.monotonic(), "original": None,
                                        "callback": None}

    def answers_to(self, token: str) -> list[Answer]:
        with self.lock:
            return list(self._answers_by_token.get(token, ()))

    def dispatched_at(self, token: str) -> float:
        with self.lock:
            return self.interactions[token]["dispatched_at"]

    def original(self, token: str) -> dict | None:
        """The interaction's response message as the member sees it now (after edits)."""
        with self.lock:
            return self.interactions.get(token, {}).get("original")

    # -- the API ------------------------------------------------------------------------
    def error(self, status: int, code: int, message: str) -> Response:
        return self.respond(status, {"code": code, "message": message})

    def handle(self, rec: Recorded) -> Response:
        m, p = rec.method, rec.path
        for method, pattern, handler in self.interaction_routes():
            match = re.fullmatch(pattern, p)
            if method == m and match:  # the interaction token is the credential, no bot token
                return handler(rec, *[int(g) if g.isdigit() else g for g in match.groups()])
        if rec.headers.get("Authorization") != f"Bot {self.token}":
            return self.error(401, 0, "401: Unauthorized")
        hold = self._hold_for(rec)
        if hold:
            response = self._route(rec)
            time.sleep(hold)
            return response
        limits = self.limits
        if limits is None:
            return self._route(rec)
        arrived = time.monotonic()
        refusal, bucket_headers = self._check_limits(limits, rec, arrived)
        time.sleep(max(0.0, limits.latency - (time.monotonic() - arrived)))
        if refusal is not None:
            return refusal
        response = self._route(rec)
        for key, value in bucket_headers.items():
            response.headers[key] = value
        return response

    def exhaust_bucket(self, channel_id: int, seconds: float) -> None:
        """Another process of the bot just used up this channel's message-create bucket."""
        assert self.limits is not None, "call enforce_limits() first"
        with self.lock:
            self.limits.buckets[(MESSAGE_CREATE_BUCKET, channel_id)] = [time.monotonic() + seconds, 0]

    def _bucket_of(self, rec: Recorded) -> tuple[str, int] | None:
        """Discord's per-route buckets for the routes whose limit the issue names: message
        creates and message edits, per channel (the channel is the "top-level resource")."""
        if rec.method == "POST" and (m := re.fullmatch(r"/channels/(\d+)/messages", rec.path)):
            return MESSAGE_CREATE_BUCKET, int(m.group(1))
        if rec.method == "PATCH" and (m := re.fullmatch(r"/channels/(\d+)/messages/\d+", rec.path)):
            return MESSAGE_EDIT_BUCKET, int(m.group(1))
        return None

    def _check_limits(self, limits: _Limits, rec: Recorded, now: float) -> tuple[Response | None, dict[str, str]]:
        with self.lock:
            limits.arrivals.append(now)
            # The global limit as Discord models every limit: a bucket of 50 that opens with the
            # first request and resets one second later (the way discord.js's REST client, a
            # verified library, tracks it: globalRemaining/globalReset per second).
            if limits.global_reset is None or now >= limits.global_reset:
                limits.global_reset, limits.global_remaining = now + 1.0, limits.global_per_second
            if limits.global_remaining <= 0:
                retry_after = round(limits.global_reset - now, 3)
                self.refused["global"] += 1
                return self.respond(429, {"message": "You are being rate limited.", "retry_after": retry_after,
                                          "global": True},
                                    {"Retry-After": str(max(1, round(retry_after))), "X-RateLimit-Global": "true",
                                     "X-RateLimit-Scope": "global", "Via": "1.1 google"}), {}
            limits.global_remaining -= 1
            bucket = self._bucket_of(rec)
            if bucket is None:
                return None, {}
            state = limits.buckets.get(bucket)
            if state is None or now >= state[0]:
                state = limits.buckets[bucket] = [now + limits.route_period, limits.route_limit]
            reset_after = max(state[0] - now, 0.0)
            headers = {"X-RateLimit-Limit": str(limits.route_limit), "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
                       "X-RateLimit-Reset-After": f"{reset_after:.3f}", "X-RateLimit-Bucket": bucket[0]}
            if state[1] <= 0:
                self.refused["route"] += 1
                return self.respond(429, {"message": "You are being rate limited.", "retry_after": round(reset_after, 3),
                                          "global": False},
                                    {**headers, "X-RateLimit-Remaining": "0", "Retry-After": str(max(1, round(reset_after))),
                                     "X-RateLimit-Scope": "user", "Via": "1.1 google"}), {}
            state[1] -= 1
            return None, {**headers, "X-RateLimit-Remaining": str(state[1])}

    def _route(self, rec: Recorded) -> Response:
        m, p = rec.method, rec.path
        for method, pattern, handler in self.routes():
            match = re.fullmatch(pattern, p)
            if method == m and match:
                return handler(rec, *[int(g) if g.isdigit() else g for g in match.groups()])
        return self.error(404, 0, f"404: Not Found ({m} {p})")

    def routes(self):
        return [
            ("GET", r"/users/@me", lambda r: self.respond(200, BOT_USER)),
            ("GET", r"/oauth2/applications/@me", self.application),
            ("PUT", r"/applications/(\d+)/guilds/(\d+)/commands", self.put_commands),
            ("PUT", r"/applications/(\d+)/commands", lambda r, app: self.put_commands(r, app, 0)),
            ("POST", r"/users/@me/channels", self.open_dm),
            ("POST", r"/channels/(\d+)/messages", self.create_message),
            ("GET", r"/channels/(\d+)/messages", self.list_messages),
            ("PATCH", r"/channels/(\d+)/messages/(\d+)", self.edit_message),
            ("DELETE", r"/channels/(\d+)/messages/(\d+)", self.delete_message),
            ("PUT", r"/guilds/(\d+)/members/(\d+)/roles/(\d+)", lambda r, g, u, ro: self.set_role(g, u, ro, True)),
            ("DELETE", r"/guilds/(\d+)/members/(\d+)/roles/(\d+)", lambda r, g, u, ro: self.set_role(g, u, ro, False)),
            ("GET", r"/guilds/(\d+)/members", self.list_members),
            ("PATCH", r"/guilds/(\d+)/members/(\d+)", self.modify_member),
            ("DELETE", r"/guilds/(\d+)/members/(\d+)", lambda r, g, u: self.respond(204)),
            ("PUT", r"/guilds/(\d+)/bans/(\d+)", self.ban),
            ("GET", r"/guilds/(\d+)/scheduled-events", self.list_scheduled_events),
            ("POST", r"/guilds/(\d+)/scheduled-events", self.create_scheduled_event),
            ("GET", r"/guilds/(\d+)/scheduled-events/(\d+)", self.get_scheduled_event),
            ("PATCH", r"/guilds/(\d+)/scheduled-events/(\d+)", self.modify_scheduled_event),
            ("DELETE", r"/guilds/(\d+)/scheduled-events/(\d+)", self.delete_scheduled_event),
            *self.role_metadata_routes(),  # Linked Roles (tests/fakes/discord_role_connections.py)
            ("GET", r"/gateway", lambda r: self.respond(200, {"url": self.gateway_url})),
            ("GET", r"/gateway/bot", lambda r: self.respond(200, {
                "url": self.gateway_url, "shards": 1,
                "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 14400000,
                                        "max_concurrency": 1}})),
        ]

    gateway_url = "ws://127.0.0.1:1"  # the fake gateway sets its own address

    def interaction_routes(self):
        return [
            ("POST", r"/interactions/(\d+)/([^/]+)/callback", self.interaction_callback),
            ("GET", r"/webhooks/(\d+)/([^/]+)/messages/@original", self.get_original),
            ("PATCH", r"/webhooks/(\d+)/([^/]+)/messages/@original", self.edit_original),
            ("DELETE", r"/webhooks/(\d+)/([^/]+)/messages/@original", self.delete_original),
            ("POST", r"/webhooks/(\d+)/([^/]+)", self.followup),
            *self.role_connection_routes(),  # the user's own Bearer token, not the bot's
        ]

    # -- interactions (the API) ----------------------------------------------------------
    def _record(self, token: str, interaction_id: int, kind: str, body: dict | None) -> None:
        answer = Answer(interaction_id, token, kind, time.monotonic(), dict(body or {}))
        self.answers.append(answer)
        self._answers_by_token.setdefault(token, []).append(answer)

    def _interaction_message(self, token: str, data: dict, *, loading: bool = False) -> dict:
        known = self.interactions[token]
        return {"id": str(self.new_id()), "type": 20, "channel_id": "0", "content": data.get("content", ""),
                "embeds": data.get("embeds", []), "components": data.get("components", []),
                "attachments": [], "mentions": [], "mention_roles": [], "mention_everyone": False,
                "pinned": False, "tts": False, "timestamp": "2026-01-01T00:00:00.000000+00:00",
                "edited_timestamp": None, "flags": (data.get("flags") or 0) | (128 if loading else 0),
                "author": BOT_USER, "application_id": APPLICATION_ID, "webhook_id": APPLICATION_ID,
                "interaction_metadata": {"id": str(known["id"]), "type": 2, "user": BOT_USER}}

    def interaction_callback(self, rec: Recorded, interaction_id: int, token: str) -> Response:
        body = rec.json or {}
        with self.lock:
            known = self.interactions.get(token)
            if known is None or known["id"] != interaction_id:
                return self.error(404, 10062, "Unknown interaction")
            if known["callback"] is not None:
                return self.error(400, 40060, "Interaction has already been acknowledged.")
            self._record(token, interaction_id, "callback", body)
            known["callback"] = body.get("type")
            data = body.get("data") or {}
            message = None
            if body.get("type") in (CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE):
                message = known["original"] = self._interaction_message(
                    token, data, loading=body.get("type") == DEFERRED_CHANNEL_MESSAGE)
        interaction = {"id": str(interaction_id), "type": 2,
                       "response_message_loading": body.get("type") == DEFERRED_CHANNEL_MESSAGE,
                       "response_message_ephemeral": bool((data.get("flags") or 0) & EPHEMERAL)}
        if message is not None:
            interaction["response_message_id"] = message["id"]
        if rec.query.get("with_response") not in ("1", "true", "True"):
            return self.respond(204)
        result: dict[str, Any] = {"interaction": interaction}
        if message is not None:
            result["resource"] = {"type": body["type"], "message": message}
        return self.respond(200, result)

    def _with_original(self, token: str) -> dict | None:
        """The interaction whose original response still exists (call with the lock held)."""
        known = self.interactions.get(token)
        return known if known is not None and known["original"] is not None else None

    def get_original(self, rec: Recorded, app_id: int, token: str) -> Response:
        with self.lock:
            known = self._with_original(token)
            original = known and dict(known["original"])
        return self.respond(200, original) if original else self.error(404, 10008, "Unknown Message")

    def edit_original(self, rec: Recorded, app_id: int, token: str) -> Response:
        with self.lock:
            if (known := self._with_original(token)) is None:
                return self.error(404, 10008, "Unknown Message")
            self._record(token, known["id"], "edit_original", rec.json)
            original = known["original"]
            original.update({k: v for k, v in (rec.json or {}).items() if k in ("content", "embeds", "components")})
            original["flags"] = original.get("flags", 0) & ~128  # no longer "thinking"
            original["edited_timestamp"] = "2026-01-01T00:00:01.000000+00:00"
        return self.respond(200, original)

    def delete_original(self, rec: Recorded, app_id: int, token: str) -> Response:
        with self.lock:
            if (known := self._with_original(token)) is None:
                return self.error(404, 10008, "Unknown Message")
            self._record(token, known["id"], "delete_original", None)
            known["original"] = None
        return self.respond(204)

    def followup(self, rec: Recorded, app_id: int, token: str) -> Response:
        with self.lock:
            known = self.interactions.get(token)
            if known is None or known["callback"] is None:
                return self.error(404, 10015, "Unknown Webhook")
            self._record(token, known["id"], "followup", rec.json)
            message = self._interaction_message(token, rec.json or {})
        return self.respond(200, message)

    def application(self, rec: Recorded) -> Response:
        return self.respond(200, {
            "id": APPLICATION_ID, "name": "Guild Ops", "icon": None, "description": "", "rpc_origins": [],
            "bot_public": False, "bot_require_code_grant": False, "verify_key": "0" * 64, "flags": 0,
            "owner": BOT_USER, "team": None, "summary": "", "bot": BOT_USER,
        })

    def put_commands(self, rec: Recorded, app_id: int, guild_id: int) -> Response:
        # Discord's validation, localizations included (tests/fakes/discord_command_rules.py):
        # one invalid entry refuses the whole sync.
        if errors := command_errors(rec.json or []):
            return self.respond(400, invalid_form_body(errors))
        commands = []
        for i, cmd in enumerate(rec.json or []):
            # Discord answers context-menu commands (types 2, 3) with an empty description.
            commands.append({"id": str(3000 + i), "application_id": str(app_id), "version": "1",
                             "type": cmd.get("type", 1), "description": "", "default_member_permissions": None,
                             "dm_permission": True, "nsfw": False, "options": [], **cmd,
                             **({"guild_id": str(guild_id)} if guild_id else {})})
        with self.lock:
            self.commands[str(guild_id or "global")] = commands
        return self.respond(200, commands)

    def open_dm(self, rec: Recorded) -> Response:
        user_id = int(rec.json["recipient_id"])
        with self.lock:
            channel = self.dm_channels.setdefault(user_id, self.new_id())
        return self.respond(200, {"id": str(channel), "type": 1,
                                  "recipients": [{"id": str(user_id), "username": f"user{user_id}"}]})

    def _dm_owner(self, channel_id: int) -> int | None:
        return next((u for u, c in self.dm_channels.items() if c == channel_id), None)

    def create_message(self, rec: Recorded, channel_id: int) -> Response:
        body = rec.json or {}
        if channel_id in self.unknown_channels:
            return self.error(404, 10003, "Unknown Channel")
        owner = self._dm_owner(channel_id)
        if owner is not None and owner in self.closed_dms:
            return self.error(403, 50007, "Cannot send messages to this user")
        if not body.get("content") and not body.get("embeds") and not body.get("components"):
            return self.error(400, 50006, "Cannot send an empty message")
        with self.lock:
            nonce = body.get("nonce")
            if nonce and body.get("enforce_nonce") and (channel_id, nonce) in self.nonces:
                first = self.nonces[(channel_id, nonce)]
                if self.nonce_window is None or time.time() - snowflake_time(int(first["id"])) < self.nonce_window:
                    return self.respond(200, first)
            message_id = self.new_id()
            # The shape of a created message: Discord's "Message Object" example (type 0 default
            # message, ISO timestamp, empty mention/attachment lists, author = the bot user).
            message = {"id": str(message_id), "type": 0, "channel_id": str(channel_id),
                       "content": body.get("content", ""), "embeds": body.get("embeds", []),
                       "components": body.get("components", []), "nonce": nonce, "author": BOT_USER,
                       "timestamp": dt.datetime.fromtimestamp(snowflake_time(message_id), dt.UTC).isoformat(),
                       "edited_timestamp": None, "tts": False, "mention_everyone": False, "mentions": [],
                       "mention_roles": [], "attachments": [], "pinned": False, "flags": 0}
            self.messages.setdefault(channel_id, {})[message_id] = message
            if nonce:
                self.nonces[(channel_id, nonce)] = message
        return self.respond(200, message)

    def list_messages(self, rec: Recorded, channel_id: int) -> Response:
        """``GET /channels/{id}/messages``: newest first, ``limit`` 1–100 (default 50),
        ``before``/``after`` a snowflake, as Discord documents it."""
        if channel_id in self.unknown_channels:
            return self.error(404, 10003, "Unknown Channel")
        try:
            limit = int(rec.query.get("limit", 50))
            before = int(rec.query["before"]) if "before" in rec.query else None
            after = int(rec.query["after"]) if "after" in rec.query else None
        except ValueError:
            return self.error(400, 50035, "Invalid Form Body")
        if not 1 <= limit <= 100:
            return self.error(400, 50035, "Invalid Form Body")
        with self.lock:
            found = [m for i, m in self.messages.get(channel_id, {}).items()
                     if (before is None or i < before) and (after is None or i > after)]
        found.sort(key=lambda m: int(m["id"]), reverse=True)
        if after is not None and before is None:
            found = found[-limit:]  # Discord pages forward from ``after``: the oldest ``limit`` after it
        else:
            found = found[:limit]
        return self.respond(200, [m if self.history_has_nonce else {k: v for k, v in m.items() if k != "nonce"}
                                  for m in found])

    def edit_message(self, rec: Recorded, channel_id: int, message_id: int) -> Response:
        with self.lock:
            message = self.messages.get(channel_id, {}).get(message_id)
            if message is None:
                return self.error(404, 10008, "Unknown Message")
            message.update({k: v for k, v in (rec.json or {}).items() if k in ("content", "embeds", "components")})
            message["edited"] = message.get("edited", 0) + 1
            message["edited_timestamp"] = dt.datetime.now(dt.UTC).isoformat()
        return self.respond(200, message)

    def delete_message(self, rec: Recorded, channel_id: int, message_id: int) -> Response:
        with self.lock:
            if self.messages.get(channel_id, {}).pop(message_id, None) is None:
                return self.error(404, 10008, "Unknown Message")
        return self.respond(204)

    def set_role(self, guild_id: int, user_id: int, role_id: int, add: bool) -> Response:
        """``PUT``/``DELETE /guilds/{g}/members/{u}/roles/{r}`` ("Add/Remove Guild Member Role",
        discord-api-docs resources/Guild.md: 204 No Content on success). Refusals as Discord
        words them (topics/Opcodes_and_Status_Codes.md, "JSON Error Codes"), where the test set
        up what Discord would know: a member not in ``members[guild]`` (when that guild's list
        is set) → 404 10007 "Unknown Member" (they left); a role not in ``guild_roles[guild]``
        (when set) → 404 10011 "Unknown Role"; a role at or above ``bot_top_position[guild]``
        (the role hierarchy) → 403 50013 "Missing Permissions". A success also changes the
        member's ``roles`` in ``members``, so the next member-list read shows it."""
        with self.lock:
            listed = self.members.get(guild_id)
            member = next((m for m in listed or [] if int(m["user"]["id"]) == user_id), None)
            if listed is not None and member is None:
                return self.error(404, 10007, "Unknown Member")
            roles = self.guild_roles.get(guild_id)
            role = next((r for r in roles or [] if int(r["id"]) == role_id), None)
            if roles is not None and role is None:
                return self.error(404, 10011, "Unknown Role")
            top = self.bot_top_position.get(guild_id)
            if top is not None and role is not None and int(role.get("position", 0)) >= top:
                return self.error(403, 50013, "Missing Permissions")
            held = self.roles.setdefault((guild_id, user_id), set())
            (held.add if add else held.discard)(role_id)
            if member is not None:
                member_roles = [r for r in member.get("roles", []) if int(r) != role_id]
                member["roles"] = member_roles + ([str(role_id)] if add else [])
        return self.respond(204)

    def list_members(self, rec: Recorded, guild_id: int) -> Response:
        limit = int(rec.query.get("limit", 1))
        after = int(rec.query.get("after", 0))
        with self.lock:
            members = sorted(self.members.get(guild_id, []), key=lambda m: int(m["user"]["id"]))
        page = [m for m in members if int(m["user"]["id"]) > after][:limit]
        return self.respond(200, page)

    def modify_member(self, rec: Recorded, guild_id: int, user_id: int) -> Response:
        with self.lock:
            self.timeouts[(guild_id, user_id)] = (rec.json or {}).get("communication_disabled_until")
        return self.respond(200, {"user": {"id": str(user_id)}, "roles": []})

    def ban(self, rec: Recorded, guild_id: int, user_id: int) -> Response:
        with self.lock:
            self.bans.add((guild_id, user_id))
        return self.respond(204)


    # -- guild scheduled events (see the module docstring) -----------------------------
    def events_of(self, guild_id: int, *statuses: int) -> list[dict]:
        """The guild's events (every status unless some are named), oldest first."""
        with self.lock:
            events = [self._advance(e) for e in self.scheduled_events.get(guild_id, {}).values()]
        return sorted((e for e in events if not statuses or e["status"] in statuses), key=lambda e: int(e["id"]))

    @staticmethod
    def _advance(event: dict) -> dict:
        """"Guild Scheduled Event Status Update Automation" for EXTERNAL events."""
        now = dt.datetime.now(dt.UTC)
        if event["entity_type"] == EVENT_EXTERNAL:
            if event["status"] == EVENT_SCHEDULED and dt.datetime.fromisoformat(event["scheduled_start_time"]) <= now:
                event["status"] = EVENT_ACTIVE
            end = event.get("scheduled_end_time")
            if event["status"] == EVENT_ACTIVE and end and dt.datetime.fromisoformat(end) <= now:
                event["status"] = EVENT_COMPLETED
        return event

    def form_error(self, errors: dict[str, tuple[str, str]]) -> Response:
        tree: dict[str, Any] = {}
        for path, (code, message) in errors.items():
            node = tree
            for part in path.split("."):
                node = node.setdefault(part, {})
            node["_errors"] = [{"code": code, "message": message}]
        return self.respond(400, {"code": 50035, "errors": tree, "message": "Invalid Form Body"})

    def _event_errors(self, body: dict, current: dict | None) -> dict[str, tuple[str, str]]:
        """Field errors of a create (``current`` None) or of a modify of ``current``."""
        errors: dict[str, tuple[str, str]] = {}
        merged = {**(current or {}), **body}

        def length(key: str, value: Any, low: int, high: int) -> None:
            if not isinstance(value, str) or not low <= len(value) <= high:
                errors[key] = ("BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")

        for key in ("name", "privacy_level", "scheduled_start_time", "entity_type"):
            if current is None and body.get(key) is None:
                errors[key] = ("BASE_TYPE_REQUIRED", "This field is required")
        if "name" in body and "name" not in errors:
            length("name", body["name"], 1, 100)
        if body.get("description") is not None:
            length("description", body["description"], 1, 1000)
        if "privacy_level" in body and "privacy_level" not in errors and body["privacy_level"] != 2:
            errors["privacy_level"] = ("BASE_TYPE_CHOICES", "Value must be one of {2}.")
        if "entity_type" in body and "entity_type" not in errors and body["entity_type"] not in (1, 2, 3):
            errors["entity_type"] = ("BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3}.")
        times = {}
        for key in ("scheduled_start_time", "scheduled_end_time"):
            if body.get(key) is not None:
                try:
                    times[key] = dt.datetime.fromisoformat(str(body[key]).replace("Z", "+00:00"))
                    if times[key].tzinfo is None:
                        raise ValueError
                except ValueError:
                    errors[key] = ("DATE_TIME_TYPE_PARSE", "Could not parse ISO8601 timestamp.")
        now = dt.datetime.now(dt.UTC)
        if "scheduled_start_time" in times and times["scheduled_start_time"] <= now:
            errors["scheduled_start_time"] = ("GUILD_SCHEDULED_EVENT_SCHEDULE_PAST", "Cannot schedule event in the past.")
        if merged.get("entity_type") == EVENT_EXTERNAL:
            if merged.get("channel_id") is not None:
                errors["channel_id"] = ("CHANNEL_ID_MUST_BE_NULL", "channel_id must be null for EXTERNAL events.")
            location = (merged.get("entity_metadata") or {}).get("location")
            if location is None:
                errors["entity_metadata.location"] = ("BASE_TYPE_REQUIRED", "This field is required")
            else:
                length("entity_metadata.location", location, 1, 100)
            if merged.get("scheduled_end_time") is None:
                errors["scheduled_end_time"] = ("BASE_TYPE_REQUIRED", "This field is required")
        start = times.get("scheduled_start_time") or _parsed(merged.get("scheduled_start_time"))
        end = times.get("scheduled_end_time") or _parsed(merged.get("scheduled_end_time"))
        if start and end and end <= start and "scheduled_end_time" not in errors:
            errors["scheduled_end_time"] = ("GUILD_SCHEDULED_EVENT_END_BEFORE_START",
                                            "The end time must be after the start time.")
        return errors

    def list_scheduled_events(self, rec: Recorded, guild_id: int) -> Response:
        return self.respond(200, self.events_of(guild_id, EVENT_SCHEDULED, EVENT_ACTIVE))

    def create_scheduled_event(self, rec: Recorded, guild_id: int) -> Response:
        body = rec.json if isinstance(rec.json, dict) else {}
        if errors := self._event_errors(body, None):
            return self.form_error(errors)
        with self.lock:
            events = self.scheduled_events.setdefault(guild_id, {})
            live = [e for e in events.values() if self._advance(e)["status"] in (EVENT_SCHEDULED, EVENT_ACTIVE)]
            if len(live) >= 100:
                return self.error(400, 30038, "Maximum number of guild scheduled events reached (100)")
            event_id = self.new_id()
            external = body["entity_type"] == EVENT_EXTERNAL
            events[event_id] = {
                "id": str(event_id), "guild_id": str(guild_id),
                "channel_id": None if external else body.get("channel_id"),
                "creator_id": BOT_USER["id"], "name": body["name"], "description": body.get("description"),
                "scheduled_start_time": _iso(body["scheduled_start_time"]),
                "scheduled_end_time": _iso(body.get("scheduled_end_time")),
                "privacy_level": body["privacy_level"], "status": EVENT_SCHEDULED,
                "entity_type": body["entity_type"], "entity_id": None,
                "entity_metadata": {"location": body["entity_metadata"]["location"]} if external else None,
                "creator": BOT_USER, "user_count": 0, "image": None,
            }
            return self.respond(200, dict(events[event_id]))

    def _event(self, guild_id: int, event_id: int) -> dict | None:
        event = self.scheduled_events.get(guild_id, {}).get(event_id)
        return self._advance(event) if event is not None else None

    def get_scheduled_event(self, rec: Recorded, guild_id: int, event_id: int) -> Response:
        with self.lock:
            event = self._event(guild_id, event_id)
            if event is None:
                return self.error(404, 10070, "Unknown Guild Scheduled Event")
            return self.respond(200, dict(event))

    def modify_scheduled_event(self, rec: Recorded, guild_id: int, event_id: int) -> Response:
        body = rec.json if isinstance(rec.json, dict) else {}
        with self.lock:
            event = self._event(guild_id, event_id)
            if event is None:
                return self.error(404, 10070, "Unknown Guild Scheduled Event")
            if "status" in body and body["status"] != event["status"]:
                if body["status"] not in EVENT_TRANSITIONS.get(event["status"], ()):
                    return self.form_error({"status": ("GUILD_SCHEDULED_EVENT_INVALID_STATUS_TRANSITION",
                                                       "Invalid Guild Scheduled Event status transition.")})
            elif event["status"] in (EVENT_COMPLETED, EVENT_CANCELED):
                return self.form_error({"status": ("GUILD_SCHEDULED_EVENT_INVALID_STATUS_TRANSITION",
                                                   "The event is over: it cannot be changed.")})
            if errors := self._event_errors(body, event):
                return self.form_error(errors)
            for key in ("name", "description", "privacy_level", "status", "entity_type", "channel_id"):
                if key in body:
                    event[key] = body[key]
            for key in ("scheduled_start_time", "scheduled_end_time"):
                if key in body:
                    event[key] = _iso(body[key])
            if "entity_metadata" in body and event["entity_type"] == EVENT_EXTERNAL:
                event["entity_metadata"] = {"location": body["entity_metadata"]["location"]}
            self.event_edits[event_id] += 1
            return self.respond(200, dict(event))

    def delete_scheduled_event(self, rec: Recorded, guild_id: int, event_id: int) -> Response:
        with self.lock:
            if self.scheduled_events.get(guild_id, {}).pop(event_id, None) is None:
                return self.error(404, 10070, "Unknown Guild Scheduled Event")
        return self.respond(204)


# Guild Scheduled Event Status / Entity Types (Guild_Scheduled_Event.md) and the valid transitions.
EVENT_SCHEDULED, EVENT_ACTIVE, EVENT_COMPLETED, EVENT_CANCELED = 1, 2, 3, 4
EVENT_EXTERNAL = 3
EVENT_TRANSITIONS = {EVENT_SCHEDULED: (EVENT_ACTIVE, EVENT_CANCELED), EVENT_ACTIVE: (EVENT_COMPLETED,)}


def _parsed(value: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


def _iso(value: Any) -> str | None:
    """Discord answers timestamps as ISO8601 with an offset, e.g. "2021-11-29T20:00:00+00:00"."""
    moment = _parsed(value)
    return moment.astimezone(dt.UTC).isoformat() if moment else None


def member_json(user_id: int, username: str, *, display_name: str | None = None, roles: list[int] | None = None,
                joined_at: str = "2024-01-01T00:00:00+00:00") -> dict[str, Any]:
    """A guild member object as ``GET /guilds/{id}/members`` returns it."""
    return {"user": {"id": str(user_id), "username": username, "global_name": display_name, "bot": False},
            "nick": None, "roles": [str(r) for r in roles or []], "joined_at": joined_at}


def discord_settings(server: FakeDiscord) -> dict[str, Any]:
    """The settings that point the bot's REST client at ``server`` (for ``http.use_fake``)."""
    return {"DISCORD_API_BASE": server.base_url, "DISCORD_TOKEN": FakeDiscord.token, "DISCORD_HTTP_TIMEOUT": 3.0}
