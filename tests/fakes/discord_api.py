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
so a test can check it came within Discord's 3 seconds of the dispatch; a token Discord never
issued (``issue_interaction`` not called) gets 404 10062 "Unknown interaction", a second
callback 400 40060 "Interaction has already been acknowledged". Shapes:
discord-api-docs developers/interactions/receiving-and-responding.mdx (Interaction Callback
Response Object, Followup Messages; error codes from developers/topics/opcodes-and-status-codes.mdx).
"""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass, field
from typing import Any

from werkzeug import Response

from tests.fakes.http import FakeAPI, Recorded

BOT_USER = {"id": "1000", "username": "guildops", "discriminator": "0", "global_name": "Guild Ops",
            "avatar": None, "bot": True}
APPLICATION_ID = "2000"

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


class FakeDiscord(FakeAPI):
    prefix = "/api/v10"
    token = "fake-token"

    def __init__(self) -> None:
        super().__init__()
        self._ids = itertools.count(900_000_000_000_000_000)
        self.reset()

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
            self.commands: dict[str, list[dict]] = {}
            self.bans: set[tuple[int, int]] = set()
            self.timeouts: dict[tuple[int, int], str | None] = {}
            self.interactions: dict[str, dict] = {}  # token -> {"id", "dispatched_at", "original"}
            self.answers: list[Answer] = []

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
        return next(self._ids)

    # -- interactions (tests) -------------------------------------------------------------
    def issue_interaction(self, interaction_id: int, token: str) -> None:
        """Called by the fake gateway when it dispatches INTERACTION_CREATE."""
        with self.lock:
            self.interactions[token] = {"id": interaction_id, "dispatched_at": time.monotonic(), "original": None,
                                        "callback": None}

    def answers_to(self, token: str) -> list[Answer]:
        with self.lock:
            return [a for a in self.answers if a.token == token]

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
            ("PATCH", r"/channels/(\d+)/messages/(\d+)", self.edit_message),
            ("DELETE", r"/channels/(\d+)/messages/(\d+)", self.delete_message),
            ("PUT", r"/guilds/(\d+)/members/(\d+)/roles/(\d+)", lambda r, g, u, ro: self.set_role(g, u, ro, True)),
            ("DELETE", r"/guilds/(\d+)/members/(\d+)/roles/(\d+)", lambda r, g, u, ro: self.set_role(g, u, ro, False)),
            ("GET", r"/guilds/(\d+)/members", self.list_members),
            ("PATCH", r"/guilds/(\d+)/members/(\d+)", self.modify_member),
            ("DELETE", r"/guilds/(\d+)/members/(\d+)", lambda r, g, u: self.respond(204)),
            ("PUT", r"/guilds/(\d+)/bans/(\d+)", self.ban),
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
        ]

    # -- interactions (the API) ----------------------------------------------------------
    def _record(self, token: str, interaction_id: int, kind: str, body: dict | None) -> None:
        self.answers.append(Answer(interaction_id, token, kind, time.monotonic(), dict(body or {})))

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

    def get_original(self, rec: Recorded, app_id: int, token: str) -> Response:
        with self.lock:
            original = self.interactions.get(token, {}).get("original")
        if original is None:
            return self.error(404, 10008, "Unknown Message")
        return self.respond(200, original)

    def edit_original(self, rec: Recorded, app_id: int, token: str) -> Response:
        with self.lock:
            known = self.interactions.get(token)
            if known is None or known["original"] is None:
                return self.error(404, 10008, "Unknown Message")
            self._record(token, known["id"], "edit_original", rec.json)
            original = known["original"]
            original.update({k: v for k, v in (rec.json or {}).items() if k in ("content", "embeds", "components")})
            original["flags"] = original.get("flags", 0) & ~128  # no longer "thinking"
            original["edited_timestamp"] = "2026-01-01T00:00:01.000000+00:00"
        return self.respond(200, original)

    def delete_original(self, rec: Recorded, app_id: int, token: str) -> Response:
        with self.lock:
            known = self.interactions.get(token)
            if known is None or known["original"] is None:
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
                return self.respond(200, self.nonces[(channel_id, nonce)])
            message = {"id": str(self.new_id()), "channel_id": str(channel_id), "content": body.get("content", ""),
                       "embeds": body.get("embeds", []), "components": body.get("components", []),
                       "nonce": nonce, "author": BOT_USER}
            self.messages.setdefault(channel_id, {})[int(message["id"])] = message
            if nonce:
                self.nonces[(channel_id, nonce)] = message
        return self.respond(200, message)

    def edit_message(self, rec: Recorded, channel_id: int, message_id: int) -> Response:
        with self.lock:
            message = self.messages.get(channel_id, {}).get(message_id)
            if message is None:
                return self.error(404, 10008, "Unknown Message")
            message.update({k: v for k, v in (rec.json or {}).items() if k in ("content", "embeds", "components")})
            message["edited"] = message.get("edited", 0) + 1
        return self.respond(200, message)

    def delete_message(self, rec: Recorded, channel_id: int, message_id: int) -> Response:
        with self.lock:
            if self.messages.get(channel_id, {}).pop(message_id, None) is None:
                return self.error(404, 10008, "Unknown Message")
        return self.respond(204)

    def set_role(self, guild_id: int, user_id: int, role_id: int, add: bool) -> Response:
        with self.lock:
            held = self.roles.setdefault((guild_id, user_id), set())
            (held.add if add else held.discard)(role_id)
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


def member_json(user_id: int, username: str, *, display_name: str | None = None, roles: list[int] | None = None,
                joined_at: str = "2024-01-01T00:00:00+00:00") -> dict[str, Any]:
    """A guild member object as ``GET /guilds/{id}/members`` returns it."""
    return {"user": {"id": str(user_id), "username": username, "global_name": display_name, "bot": False},
            "nick": None, "roles": [str(r) for r in roles or []], "joined_at": joined_at}
