"""A fake Discord gateway (websocket, API v10) for end-to-end tests of ``manage.py runbot``.

It speaks the protocol as Discord documents it (discord-api-docs
``developers/events/gateway.mdx`` and ``developers/events/gateway-events.mdx``):

- on connect: HELLO (op 10) with ``heartbeat_interval``; the client heartbeats (op 1) and gets
  HEARTBEAT_ACK (op 11); a client heartbeat outside the interval is tolerated (Discord too);
- IDENTIFY (op 2, token checked: a wrong one closes with 4004 "Authentication failed") → READY
  (``session_id``, ``resume_gateway_url`` pointing back here, the guild as unavailable) then
  GUILD_CREATE with roles, channels and members;
- REQUEST_GUILD_MEMBERS (op 8) → GUILD_MEMBERS_CHUNK;
- every dispatch (op 0) carries the session's next sequence number ``s``; dispatches sent while
  the client is away are kept and replayed after RESUME (op 6), followed by RESUMED, exactly
  as Discord replays missed events; a RESUME with an unknown session gets INVALID_SESSION (op 9,
  ``d: false``);
- ``drop()`` closes the connection with 4000 ("Unknown error — reconnect"), like a Discord
  node going away; the client resumes at ``resume_gateway_url``;
- ``request_reconnect()`` sends RECONNECT (op 7, ``d: null``): the client should close and
  resume; ``invalidate_session(resumable)`` sends INVALID_SESSION (op 9) with ``d: true`` (the
  client may resume) or ``d: false`` (the session is gone here: a RESUME of it is refused, the
  client must IDENTIFY, and what was dispatched meanwhile is not replayed, as on Discord);
- ``dispatch_raw(event, data)`` sends a dispatch whose ``d`` is anything (malformed payloads for
  the chaos tests; tests/bot/recorded_payloads.py);
- transport compression ``compress=zlib-stream``: one zlib context per connection, each payload
  flushed with Z_SYNC_FLUSH (ends in ``00 00 ff ff``), sent as binary frames.

Payload shapes: the object tables of discord-api-docs (``resources/guild.mdx`` guild member,
role; ``resources/channel.mdx``; ``resources/message.mdx``; ``interactions/receiving-and-
responding.mdx`` interaction object, application command / message component / modal submit
data) and a recorded INTERACTION_CREATE of a guild slash command and of a DM slash command
(github.com/mastercuber55/Fischl, ``api/body.md``), whose field sets the builders below copy:
``app_permissions``, ``attachment_size_limit``, ``authorizing_integration_owners``, ``channel``,
``context`` (0 guild, 1 bot DM), ``entitlements``, ``guild`` (partial: id, features, locale),
``guild_locale``, ``locale``, ``member`` with ``permissions`` (invoking member's permission bits
as a string) — or ``user`` in a DM —, ``token``, ``type``, ``version: 1``.

The gateway runs its own event loop in a thread; tests call it synchronously. Interactions are
registered with the fake REST API (``FakeDiscord.issue_interaction``) at the moment they are
dispatched, which is the reference for "answered within 3 s".
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import secrets
import threading
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.discord_api import APPLICATION_ID, BOT_USER, FakeDiscord

# Gateway opcodes (developers/topics/opcodes-and-status-codes.mdx, "Gateway Opcodes").
DISPATCH, HEARTBEAT, IDENTIFY, RESUME, RECONNECT, REQUEST_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = \
    0, 1, 2, 6, 7, 8, 9, 10, 11
# Interaction types and application command option types (receiving-and-responding.mdx,
# application-commands.mdx).
APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 2, 3, 4, 5
CHAT_INPUT, USER_COMMAND, MESSAGE_COMMAND = 1, 2, 3
SUB_COMMAND, SUB_COMMAND_GROUP, STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE = 1, 2, 3, 4, 5, 6, 7, 8
BUTTON = 2
# Permission bits (developers/topics/permissions.mdx).
ADMINISTRATOR, MANAGE_GUILD, MANAGE_ROLES, MODERATE_MEMBERS = 1 << 3, 1 << 5, 1 << 28, 1 << 40
SEND_MESSAGES, VIEW_CHANNEL, READ_HISTORY = 1 << 11, 1 << 10, 1 << 16
EVERYONE_PERMISSIONS = VIEW_CHANNEL | SEND_MESSAGES | READ_HISTORY | (1 << 31)  # + USE_APPLICATION_COMMANDS
DISCORD_EPOCH_MS = 1420070400000


def snowflake(at: float | None = None) -> int:
    """A snowflake whose timestamp is now (discord.py reads ``created_at`` from it)."""
    ms = int((at if at is not None else time.time()) * 1000) - DISCORD_EPOCH_MS
    return (ms << 22) | (next(_increment) & 0xFFF)


_increment = itertools.count()


def iso(moment: dt.datetime | None = None) -> str:
    return (moment or dt.datetime.now(dt.UTC)).isoformat()


# -- object builders (field sets from the docs' object tables) -------------------------------------
def user_json(user_id: int, username: str, *, global_name: str | None = None, bot: bool = False) -> dict:
    return {"id": str(user_id), "username": username, "discriminator": "0", "global_name": global_name,
            "avatar": None, "public_flags": 0, "bot": bot, "avatar_decoration_data": None}


def role_json(role_id: int, name: str, permissions: int, position: int = 1) -> dict:
    return {"id": str(role_id), "name": name, "color": 0, "colors": {"primary_color": 0}, "hoist": False,
            "icon": None, "unicode_emoji": None, "position": position, "permissions": str(permissions),
            "managed": False, "mentionable": False, "flags": 0}


def channel_json(channel_id: int, name: str, guild_id: int, *, position: int = 0) -> dict:
    return {"id": str(channel_id), "type": 0, "guild_id": str(guild_id), "name": name, "position": position,
            "permission_overwrites": [], "nsfw": False, "topic": None, "last_message_id": None,
            "parent_id": None, "rate_limit_per_user": 0, "flags": 0}


class Member:
    """A guild member as the fake guild knows it."""

    def __init__(self, user_id: int, username: str, *, roles: Iterable[int] = (), nick: str | None = None,
                 global_name: str | None = None, bot: bool = False) -> None:
        self.id, self.username, self.nick, self.global_name, self.bot = user_id, username, nick, global_name, bot
        self.roles = [int(r) for r in roles]
        self.joined_at = "2025-02-28T14:56:24.701000+00:00"

    def user(self) -> dict:
        return user_json(self.id, self.username, global_name=self.global_name, bot=self.bot)

    def json(self, *, with_user: bool = True, permissions: int | None = None) -> dict:
        data: dict[str, Any] = {
            "avatar": None, "banner": None, "communication_disabled_until": None, "deaf": False, "flags": 0,
            "joined_at": self.joined_at, "mute": False, "nick": self.nick, "pending": False,
            "premium_since": None, "roles": [str(r) for r in self.roles],
        }
        if with_user:
            data["user"] = self.user()
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data


@dataclass(frozen=True)
class RoleRef:
    """A ROLE option's value in :meth:`FakeGateway.slash` (sent as the role id, with the
    role's object under ``resolved.roles`` like Discord does)."""

    id: int


class Guild:
    """The one server the bot lives in: roles (``@everyone`` has the guild's id), channels, members."""

    # The owner holds every permission: by default nobody a test builds (the user id of
    # discord-api-docs' examples), so no test's member is an officer by accident.
    def __init__(self, guild_id: int, *, name: str = "Guild Ops test server", owner_id: int = 80_351_110_224_678_912
                 ) -> None:
        self.id, self.name, self.owner_id = guild_id, name, owner_id
        self.roles: dict[int, dict] = {guild_id: role_json(guild_id, "@everyone", EVERYONE_PERMISSIONS, 0)}
        self.channels: dict[int, dict] = {}
        self.members: dict[int, Member] = {}

    def add_role(self, role_id: int, name: str, permissions: int = 0) -> int:
        self.roles[role_id] = role_json(role_id, name, permissions, len(self.roles))
        return role_id

    def add_channel(self, channel_id: int, name: str) -> int:
        self.channels[channel_id] = channel_json(channel_id, name, self.id, position=len(self.channels))
        return channel_id

    def add_member(self, member: Member) -> Member:
        self.members[member.id] = member
        return member

    def permissions_of(self, member: Member) -> int:
        """Computed like Discord: owner and Administrator get everything, else the OR of the
        member's roles and @everyone (permissions.mdx, "Permission Hierarchy")."""
        if member.id == self.owner_id:
            return (1 << 53) - 1
        bits = int(self.roles[self.id]["permissions"])
        for role_id in member.roles:
            bits |= int(self.roles.get(role_id, {}).get("permissions", "0"))
        return (1 << 53) - 1 if bits & ADMINISTRATOR else bits

    def create_json(self, bot: Member) -> dict:
        members = [m.json() for m in self.members.values()] + [bot.json()]
        return {
            "id": str(self.id), "name": self.name, "icon": None, "splash": None, "discovery_splash": None,
            "owner_id": str(self.owner_id), "afk_channel_id": None, "afk_timeout": 300,
            "verification_level": 1, "default_message_notifications": 1, "explicit_content_filter": 2,
            "roles": list(self.roles.values()), "emojis": [], "stickers": [], "features": ["COMMUNITY"],
            "mfa_level": 0, "application_id": None, "system_channel_id": None, "system_channel_flags": 0,
            "rules_channel_id": None, "max_members": 500000, "vanity_url_code": None, "description": None,
            "banner": None, "premium_tier": 0, "premium_subscription_count": 0, "preferred_locale": "en-US",
            "public_updates_channel_id": None, "nsfw_level": 0, "premium_progress_bar_enabled": False,
            # GUILD_CREATE extra fields (gateway-events.mdx, "Guild Create")
            "joined_at": "2024-01-01T00:00:00.000000+00:00", "large": len(members) >= 250, "unavailable": False,
            "member_count": len(members), "voice_states": [], "members": members,
            "channels": list(self.channels.values()), "threads": [], "presences": [], "stage_instances": [],
            "guild_scheduled_events": [], "soundboard_sounds": [],
        }


# -- the server ----------------------------------------------------------------------------------
class FakeGateway:
    def __init__(self, rest: FakeDiscord, guild: Guild, *, heartbeat_interval_ms: int = 41250) -> None:
        self.rest, self.guild = rest, guild
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.bot = Member(int(BOT_USER["id"]), BOT_USER["username"], global_name=BOT_USER["global_name"], bot=True)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run_loop, name="fake-discord-gateway", daemon=True)
        self.port = 0
        self.session_id: str | None = None
        self.sequence = 0
        self.sent: list[dict] = []  # every dispatch of the session, for replay on RESUME
        self._socket: web.WebSocketResponse | None = None
        # The connection that identified or resumed: as on Discord, a new connection gets no
        # dispatch before its IDENTIFY/RESUME (events meanwhile are kept for the replay).
        self._live: web.WebSocketResponse | None = None
        self._compress: Any = None
        self._ready = threading.Event()
        self._send_lock: asyncio.Lock | None = None
        self.identifies = 0
        self.resumes = 0
        self.replayed = 0  # dispatches sent again after a RESUME
        self.refused = 0  # connections refused while "unreachable" (drop(unreachable_for=...))
        self._unreachable_until = 0.0
        # Close an IDENTIFY with this code instead of READY (4013 invalid intents, 4014
        # disallowed intents...); a wrong token always gets 4004.
        self.refuse_identify_with: int | None = None
        self.heartbeats = 0
        self.received: list[dict] = []

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeGateway:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start_server(), self.loop).result(10)
        self.rest.gateway_url = self.url
        return self

    def stop(self) -> None:
        async def shutdown() -> None:
            if self._socket is not None:
                await self._socket.close()
            await self._runner.cleanup()
        try:
            asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(10)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    async def _start_server(self) -> None:
        self._send_lock = asyncio.Lock()
        app = web.Application()
        app.router.add_get("/", self._connection)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    def wait_ready(self, timeout: float = 60) -> None:
        """Until a client identified (or resumed) and has its guild."""
        if not self._ready.wait(timeout):
            raise TimeoutError("the bot never identified with the fake gateway")

    # -- protocol ----------------------------------------------------------------------------
    async def _send(self, socket: web.WebSocketResponse, payload: dict) -> None:
        text = json.dumps(payload, separators=(",", ":"))
        async with self._send_lock:
            if socket is not self._socket or socket.closed:
                return
            if self._compress is not None:
                await socket.send_bytes(self._compress.compress(text.encode()) + self._compress.flush(zlib.Z_SYNC_FLUSH))
            else:
                await socket.send_str(text)

    async def _dispatch(self, event: str, data: dict) -> None:
        self.sequence += 1
        payload = {"op": DISPATCH, "t": event, "s": self.sequence, "d": data}
        self.sent.append(payload)
        if self._socket is not None and self._live is self._socket:
            await self._send(self._socket, payload)

    async def _connection(self, request: web.Request) -> web.StreamResponse:
        if time.monotonic() < self._unreachable_until:
            self.refused += 1
            return web.Response(status=503, text="upstream connect error")
        socket = web.WebSocketResponse(max_msg_size=0)
        await socket.prepare(request)
        if self._socket is not None and not self._socket.closed:
            await self._socket.close(code=4000)
        self._socket, self._live = socket, None
        self._compress = zlib.compressobj() if request.query.get("compress") == "zlib-stream" else None
        await self._send(socket, {"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms},
                                  "s": None, "t": None})
        async for message in socket:
            if message.type != WSMsgType.TEXT:
                continue
            payload = json.loads(message.data)
            self.received.append(payload)
            await self._receive(socket, payload)
        if self._socket is socket:
            self._socket = None
            self._ready.clear()
        return socket

    async def _receive(self, socket: web.WebSocketResponse, payload: dict) -> None:
        op, data = payload.get("op"), payload.get("d")
        if op == HEARTBEAT:
            self.heartbeats += 1
            await self._send(socket, {"op": HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == IDENTIFY:
            if data.get("token") != self.rest.token:
                await socket.close(code=4004, message=b"Authentication failed.")
                return
            if self.refuse_identify_with is not None:
                await socket.close(code=self.refuse_identify_with, message=b"Refused.")
                return
            self.identifies += 1
            self.session_id, self.sequence, self.sent = secrets.token_hex(16), 0, []
            self._live = socket
            await self._dispatch("READY", {
                "v": 10, "user": {**BOT_USER, "verified": True, "mfa_enabled": False, "flags": 0},
                "guilds": [{"id": str(self.guild.id), "unavailable": True}], "session_id": self.session_id,
                "session_type": "normal", "resume_gateway_url": self.url, "shard": [0, 1],
                "application": {"id": APPLICATION_ID, "flags": 0}, "private_channels": [],
                "relationships": [], "user_settings": {}, "presences": [], "guild_join_requests": [],
                "geo_ordered_rtc_regions": [], "auth": {}, "_trace": ["fake-gateway"],
            })
            await self._dispatch("GUILD_CREATE", self.guild.create_json(self.bot))
            self._ready.set()
        elif op == RESUME:
            if self.session_id is None or data.get("session_id") != self.session_id \
                    or data.get("token") != self.rest.token:
                await self._send(socket, {"op": INVALID_SESSION, "d": False, "s": None, "t": None})
                return
            seq = int(data.get("seq") or 0)
            while missed := [p for p in self.sent if p["s"] > seq]:  # until caught up with what arrives meanwhile
                for replay in missed:
                    await self._send(socket, replay)
                    seq = replay["s"]
                self.replayed += len(missed)
            self._live = socket
            # Counted once the replay is sent: a test that waits for the RESUME then reads
            # ``replayed`` must not see the one without the other (the send above yields).
            self.resumes += 1
            await self._dispatch("RESUMED", {"_trace": ["fake-gateway"]})
            self._ready.set()
        elif op == REQUEST_MEMBERS:
            members = [m.json() for m in self.guild.members.values()] + [self.bot.json()]
            await self._dispatch("GUILD_MEMBERS_CHUNK", {
                "guild_id": str(self.guild.id), "members": members, "chunk_index": 0, "chunk_count": 1,
                "not_found": [], "presences": [], **({"nonce": data["nonce"]} if data.get("nonce") else {}),
            })

    # -- what tests call ----------------------------------------------------------------------
    def _call(self, coro: Any, timeout: float = 10) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def dispatch(self, event: str, data: dict) -> None:
        self._call(self._dispatch(event, data))

    def dispatch_many(self, events: list[tuple[str, dict]], *, spread: float = 0.0) -> list[float]:
        """Dispatch events back to back (or evenly over ``spread`` seconds); returns the
        monotonic time each was sent."""
        async def run() -> list[float]:
            start, times = time.monotonic(), []
            for i, (event, data) in enumerate(events):
                if spread:
                    delay = start + spread * i / max(1, len(events)) - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                if event == "INTERACTION_CREATE":
                    self.rest.issue_interaction(int(data["id"]), data["token"])
                times.append(time.monotonic())
                await self._dispatch(event, data)
            return times
        return self._call(run(), timeout=120 + spread)

    def dispatch_raw(self, event: str, data: Any) -> None:
        """A dispatch with any ``d`` (a malformed payload); an INTERACTION_CREATE whose id and
        token are readable is registered with the REST fake like a valid one."""
        if event == "INTERACTION_CREATE" and isinstance(data, dict) and "id" in data and "token" in data:
            self.rest.issue_interaction(int(data["id"]), str(data["token"]))
        self._call(self._dispatch(event, data))

    def request_reconnect(self) -> None:
        """RECONNECT (op 7): Discord asks the client to reconnect and resume."""
        async def send() -> None:
            if self._socket is not None:
                await self._send(self._socket, {"op": RECONNECT, "d": None, "s": None, "t": None})
        self._call(send())

    def invalidate_session(self, resumable: bool) -> None:
        """INVALID_SESSION (op 9) with ``d: resumable``; with ``False`` the session ends here."""
        async def send() -> None:
            if not resumable:
                self.session_id = None
            if self._socket is not None:
                await self._send(self._socket, {"op": INVALID_SESSION, "d": resumable, "s": None, "t": None})
        self._call(send())

    def drop(self, code: int = 4000, *, unreachable_for: float = 0.0) -> None:
        """Close the client's connection the way a failing Discord node does; with
        ``unreachable_for`` new connections are refused (HTTP 503 to the websocket upgrade, as a
        node that is down) for that many seconds, so what is dispatched meanwhile is sent while
        the client is away."""
        self._unreachable_until = time.monotonic() + unreachable_for

        async def close() -> None:
            if self._socket is not None:
                socket, self._socket = self._socket, None
                self._ready.clear()
                await socket.close(code=code, message=b"Unknown error.")
        self._call(close())

    # -- payloads ----------------------------------------------------------------------------------
    def interaction(self, kind: int, data: dict, *, member: Member | None = None, user: Member | None = None,
                    channel_id: int | None = None, message: dict | None = None) -> dict:
        """INTERACTION_CREATE from ``member`` in the guild, or from ``user`` in a DM with the bot."""
        interaction_id = snowflake()
        payload: dict[str, Any] = {
            "id": str(interaction_id), "application_id": APPLICATION_ID, "type": kind, "data": data,
            "token": f"aW50ZXJhY3Rpb246{interaction_id}:{secrets.token_urlsafe(24)}", "version": 1,
            "locale": "en-US", "entitlements": [], "entitlement_sku_ids": [], "attachment_size_limit": 10485760,
        }
        if member is not None:
            channel = self.guild.channels[channel_id or next(iter(self.guild.channels))]
            payload.update({
                "app_permissions": str(self.guild.permissions_of(self.bot)),
                "authorizing_integration_owners": {"0": str(self.guild.id)}, "context": 0,
                "channel": {**channel, "permissions": str(self.guild.permissions_of(member))},
                "channel_id": channel["id"], "guild_id": str(self.guild.id), "guild_locale": "en-US",
                "guild": {"id": str(self.guild.id), "features": ["COMMUNITY"], "locale": "en-US"},
                "member": member.json(permissions=self.guild.permissions_of(member)),
            })
        else:
            assert user is not None, "an interaction comes from a member (guild) or a user (DM)"
            dm_channel = channel_id or 7_000_000 + user.id % 1_000_000
            payload.update({
                "app_permissions": str(EVERYONE_PERMISSIONS), "authorizing_integration_owners": {"0": "0"},
                "context": 1, "channel_id": str(dm_channel), "user": user.user(),
                "channel": {"id": str(dm_channel), "type": 1, "flags": 0, "last_message_id": None,
                            "recipients": [user.user()]},
            })
        if message is not None:
            payload["message"] = message
        return payload

    def command_id(self, name: str, kind: int = CHAT_INPUT) -> str:
        with self.rest.lock:
            for commands in self.rest.commands.values():
                for command in commands:
                    if command["name"] == name and command.get("type", 1) == kind:
                        return command["id"]
        return str(snowflake())

    def resolved(self, members: Iterable[Member] = (), roles: Iterable[int] = ()) -> dict:
        members, resolved = list(members), {}
        if members:
            resolved["users"] = {str(m.id): m.user() for m in members}
            resolved["members"] = {str(m.id): {**m.json(with_user=False),
                                               "permissions": str(self.guild.permissions_of(m))}
                                   for m in members if m.id in self.guild.members}
        if roles:
            resolved["roles"] = {str(r): self.guild.roles[r] for r in roles}
        return resolved

    def slash(self, path: str, options: dict[str, Any] | None = None, *, member: Member | None = None,
              user: Member | None = None, focused: str | None = None) -> dict:
        """A slash command (``"ark governor register"``) with its options typed like Discord
        sends them; a :class:`Member` option becomes a USER option with ``resolved`` data.
        With ``focused`` it is the APPLICATION_COMMAND_AUTOCOMPLETE for that option."""
        names = path.split()
        leaf: list[dict] = []
        people, roles = [], []
        for name, value in (options or {}).items():
            if isinstance(value, RoleRef):
                leaf.append({"name": name, "type": ROLE, "value": str(value.id)})
                roles.append(value.id)
            elif isinstance(value, Member):
                leaf.append({"name": name, "type": USER, "value": str(value.id)})
                people.append(value)
            elif isinstance(value, bool):
                leaf.append({"name": name, "type": BOOLEAN, "value": value})
            elif isinstance(value, int) and name != focused:
                leaf.append({"name": name, "type": INTEGER, "value": value})
            else:
                option = {"name": name, "type": STRING, "value": str(value)}
                if name == focused:
                    option.update(type=INTEGER if name.endswith("_id") else STRING, focused=True)
                leaf.append(option)
        nested: list[dict] = leaf
        for depth, name in reversed(list(enumerate(names[1:], 1))):
            kind = SUB_COMMAND if depth == len(names) - 1 else SUB_COMMAND_GROUP
            nested = [{"name": name, "type": kind, "options": nested}]
        data: dict[str, Any] = {"id": self.command_id(names[0]), "name": names[0], "type": CHAT_INPUT,
                                "options": nested}
        if self.guild.id and member is not None:
            data["guild_id"] = str(self.guild.id)
        if people or roles:
            data["resolved"] = self.resolved(people, roles)
        return self.interaction(AUTOCOMPLETE if focused else APPLICATION_COMMAND, data, member=member, user=user)

    def user_command(self, name: str, target: Member, *, member: Member) -> dict:
        data = {"id": self.command_id(name, USER_COMMAND), "name": name, "type": USER_COMMAND,
                "target_id": str(target.id), "resolved": self.resolved([target]), "guild_id": str(self.guild.id)}
        return self.interaction(APPLICATION_COMMAND, data, member=member)

    def message_command(self, name: str, message: dict, *, member: Member) -> dict:
        data = {"id": self.command_id(name, MESSAGE_COMMAND), "name": name, "type": MESSAGE_COMMAND,
                "target_id": message["id"], "resolved": {"messages": {message["id"]: message}},
                "guild_id": str(self.guild.id)}
        return self.interaction(APPLICATION_COMMAND, data, member=member)

    def button(self, custom_id: str, *, member: Member, message: dict | None = None) -> dict:
        message = message or self.bot_message(custom_id)
        data = {"custom_id": custom_id, "component_type": BUTTON}
        return self.interaction(MESSAGE_COMPONENT, data, member=member, message=message,
                                channel_id=int(message["channel_id"]))

    def modal_submit(self, custom_id: str, values: dict[str, str], *, member: Member) -> dict:
        rows = [{"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]} for k, v in values.items()]
        return self.interaction(MODAL_SUBMIT, {"custom_id": custom_id, "components": rows}, member=member)

    def bot_message(self, custom_id: str, channel_id: int | None = None) -> dict:
        """A message of the bot carrying the button (what ``message`` holds on a component press)."""
        channel = channel_id or next(iter(self.guild.channels))
        row = {"type": 1, "components": [{"type": BUTTON, "style": 1, "label": "Button", "custom_id": custom_id}]}
        return {**self.message_json(self.bot, "", channel_id=channel), "components": [row]}

    def message_json(self, author: Member, content: str, *, channel_id: int | None = None,
                     mentions: Iterable[Member] = ()) -> dict:
        channel = channel_id or next(iter(self.guild.channels))
        message_id = snowflake()
        return {
            "id": str(message_id), "channel_id": str(channel), "author": author.user(), "content": content,
            "timestamp": iso(), "edited_timestamp": None, "tts": False, "mention_everyone": False,
            "mentions": [m.user() for m in mentions], "mention_roles": [], "attachments": [], "embeds": [],
            "pinned": False, "type": 0, "flags": 0, "components": [],
        }

    def message_create(self, author: Member, content: str, *, channel_id: int | None = None,
                       mentions: Iterable[Member] = ()) -> dict:
        """MESSAGE_CREATE in the guild: the message plus ``guild_id`` and the author's partial
        ``member`` (gateway-events.mdx, "Message Create")."""
        return {**self.message_json(author, content, channel_id=channel_id, mentions=mentions),
                "guild_id": str(self.guild.id), "member": author.json(with_user=False)}

    def member_add(self, member: Member) -> dict:
        self.guild.add_member(member)
        return {**member.json(), "guild_id": str(self.guild.id)}

    def member_remove(self, member: Member) -> dict:
        self.guild.members.pop(member.id, None)
        return {"guild_id": str(self.guild.id), "user": member.user()}

    def member_update(self, member: Member) -> dict:
        return {**member.json(), "guild_id": str(self.guild.id)}

    def send(self, payload: dict) -> float:
        """Dispatch one payload (an interaction is registered with the REST fake first);
        returns the monotonic time it went out."""
        event = "INTERACTION_CREATE" if "token" in payload and "application_id" in payload else (
            "MESSAGE_CREATE" if "content" in payload and "author" in payload else None)
        assert event, "use dispatch(event, data) for other events"
        return self.dispatch_many([(event, payload)])[0]
