"""The one seam to Discord's REST API, on discord.py's HTTP client.

discord.py already implements Discord's rate limits (per-route buckets, the global limit,
429 ``retry_after``) and retries 500/502/504 itself; this module adds only what it lacks for
a delivery worker: a base URL from settings, a per-request timeout, and the classification
of failures into "retry later" and "never retry" (retrying a 403 or 404 only earns the bot
an IP ban from Discord's invalid-request limit).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
import discord
from discord.http import HTTPClient, Route
from django.conf import settings

T = TypeVar("T")

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
    50013: "Missing Permissions",
    50035: "Invalid Form Body",
}


@dataclass
class DiscordFailure(Exception):
    """A failed Discord call. ``permanent`` failures are never retried."""

    message: str
    code: int | None = None
    status: int | None = None
    permanent: bool = False
    retry_after: float | None = None

    def __str__(self) -> str:
        return self.message


class DiscordAuthError(Exception):
    """The bot token was refused: nothing can be delivered until an officer fixes it."""


def configure_api_base() -> None:
    """Point discord.py at ``DISCORD_API_BASE`` (tests use a local fake). discord.py builds
    every URL from ``Route.BASE``, so this must run before any route is created."""
    Route.BASE = settings.DISCORD_API_BASE


def classify(exc: BaseException) -> DiscordFailure:
    if isinstance(exc, DiscordFailure):
        return exc
    if isinstance(exc, discord.RateLimited):
        return DiscordFailure(f"rate limited for {exc.retry_after:.1f}s", status=429, retry_after=exc.retry_after)
    if isinstance(exc, discord.DiscordServerError):
        return DiscordFailure(f"Discord server error {exc.status}: {exc.text[:200]}", code=exc.code or None,
                              status=exc.status)
    if isinstance(exc, discord.HTTPException):
        code = exc.code or None
        text = exc.text or PERMANENT_CODES.get(code or 0, "")
        permanent = exc.status in (400, 403, 404) or code in PERMANENT_CODES
        label = f"{code} {text}" if code else f"HTTP {exc.status} {text}"
        return DiscordFailure(label.strip(), code=code, status=exc.status, permanent=permanent)
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return DiscordFailure("timed out waiting for Discord")
    if isinstance(exc, aiohttp.ClientError | OSError):
        return DiscordFailure(f"connection error: {exc.__class__.__name__}: {exc}"[:300])
    raise exc


class DiscordRest:
    """An async Discord REST session: ``async with DiscordRest() as api: await api.send_dm(...)``."""

    def __init__(self, token: str | None = None, timeout: float | None = None) -> None:
        self.token = token if token is not None else settings.DISCORD_TOKEN
        self.timeout = timeout if timeout is not None else settings.DISCORD_HTTP_TIMEOUT
        self.http: HTTPClient | None = None
        self._dm_channels: dict[int, int] = {}

    async def __aenter__(self) -> DiscordRest:
        if not self.token:
            raise DiscordAuthError("DISCORD_TOKEN is not set.")
        configure_api_base()
        self.http = HTTPClient(asyncio.get_running_loop(), max_ratelimit_timeout=30.0)
        try:
            await asyncio.wait_for(self.http.static_login(self.token), self.timeout)
        except discord.LoginFailure as exc:
            await self.http.close()
            raise DiscordAuthError("Discord refused the bot token (401): check DISCORD_TOKEN.") from exc
        except BaseException as exc:
            await self.http.close()
            raise classify(exc) from exc
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self.http is not None:
            await self.http.close()

    async def call(self, method: str, path: str, *, json: Any = None, reason: str | None = None,
                   **params: Any) -> Any:
        assert self.http is not None, "use DiscordRest as an async context manager"
        kwargs: dict[str, Any] = {}
        if json is not None:
            kwargs["json"] = json
        if reason:
            kwargs["reason"] = reason
        try:
            return await asyncio.wait_for(self.http.request(Route(method, path, **params), **kwargs), self.timeout)
        except Exception as exc:
            raise classify(exc) from exc

    async def create_message(self, channel_id: int, body: dict[str, Any], nonce: str | None = None) -> dict:
        payload = dict(body)
        if nonce:
            payload.update(nonce=nonce, enforce_nonce=True)
        return await self.call("POST", "/channels/{channel_id}/messages", json=payload, channel_id=channel_id)

    async def dm_channel(self, user_id: int) -> int:
        if user_id not in self._dm_channels:
            data = await self.call("POST", "/users/@me/channels", json={"recipient_id": str(user_id)})
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
