"""A fake of Discord's OAuth2 endpoints on pytest-httpserver, for "Sign in with Discord".

Shapes follow Discord's developer documentation:
- authorization code grant: the browser is sent to ``/oauth2/authorize`` and comes back to
  ``redirect_uri?code=…&state=…`` (https://discord.com/developers/docs/topics/oauth2#authorization-code-grant);
- token exchange ``POST /oauth2/token`` (form-encoded) → ``{"access_token", "token_type": "Bearer",
  "expires_in": 604800, "refresh_token", "scope"}`` (the "Access Token Response" example there;
  discord-api-types' RESTPostOAuth2AccessTokenResult has the same fields);
- ``GET /users/@me`` → a user object (id as a string, username, discriminator "0", global_name, avatar);
- ``GET /users/@me/guilds/{guild.id}/member`` (scope ``guilds.members.read``) → a guild member
  object (``roles`` as strings), or 404 ``{"message": "Unknown Guild", "code": 10004}`` when the
  user is not in the server.
Wrong codes or tokens get Discord's 400 ``{"error": "invalid_grant"}`` / 401 ``{"message": "401: Unauthorized", "code": 0}``.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode

from werkzeug import Request, Response


@dataclass
class DiscordMember:
    id: int
    username: str
    global_name: str | None = None
    roles: list[int] = field(default_factory=list)
    in_guild: bool = True


class FakeDiscordOAuth:
    API = "/api/v10"

    def __init__(self, httpserver, guild_id: int) -> None:
        self.server, self.guild_id = httpserver, guild_id
        self.codes: dict[str, DiscordMember] = {}
        self.tokens: dict[str, DiscordMember] = {}
        self.next_member: DiscordMember | None = None
        self.token_requests: list[dict] = []
        httpserver.expect_request("/oauth2/authorize").respond_with_handler(self._authorize)
        httpserver.expect_request(f"{self.API}/oauth2/token", method="POST").respond_with_handler(self._token)
        httpserver.expect_request(f"{self.API}/users/@me").respond_with_handler(self._me)
        httpserver.expect_request(f"{self.API}/users/@me/guilds/{guild_id}/member").respond_with_handler(self._member)

    @property
    def authorize_url(self) -> str:
        return self.server.url_for("/oauth2/authorize")

    @property
    def api_base(self) -> str:
        return self.server.url_for(self.API)

    def _authorize(self, request: Request) -> Response:
        """The user clicks "Authorize" as ``next_member``: back to the app with a code."""
        query = request.args
        assert query["response_type"] == "code" and query["client_id"]
        code = secrets.token_hex(8)
        self.codes[code] = self.next_member
        target = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
        return Response(status=302, headers={"Location": target})

    def _token(self, request: Request) -> Response:
        form = parse_qs(request.get_data(as_text=True))
        self.token_requests.append(form)
        member = self.codes.pop(form.get("code", [""])[0], None)
        if form.get("grant_type") != ["authorization_code"] or member is None:
            return self._json(400, {"error": "invalid_grant"})
        token = secrets.token_hex(12)
        self.tokens[token] = member
        return self._json(200, {"access_token": token, "token_type": "Bearer", "expires_in": 604800,
                                "refresh_token": secrets.token_hex(12), "scope": "identify guilds.members.read"})

    def _user(self, request: Request) -> DiscordMember | None:
        auth = request.headers.get("Authorization", "")
        return self.tokens.get(auth.removeprefix("Bearer ")) if auth.startswith("Bearer ") else None

    def _me(self, request: Request) -> Response:
        member = self._user(request)
        if member is None:
            return self._json(401, {"message": "401: Unauthorized", "code": 0})
        return self._json(200, {"id": str(member.id), "username": member.username, "discriminator": "0",
                                "global_name": member.global_name, "avatar": None, "mfa_enabled": False,
                                "locale": "en-US", "flags": 0, "premium_type": 0, "public_flags": 0})

    def _member(self, request: Request) -> Response:
        member = self._user(request)
        if member is None:
            return self._json(401, {"message": "401: Unauthorized", "code": 0})
        if not member.in_guild:
            return self._json(404, {"message": "Unknown Guild", "code": 10004})
        return self._json(200, {"user": {"id": str(member.id), "username": member.username, "discriminator": "0",
                                         "global_name": member.global_name, "avatar": None},
                                "nick": None, "avatar": None, "roles": [str(r) for r in member.roles],
                                "joined_at": "2024-01-05T18:00:00.000000+00:00", "premium_since": None,
                                "deaf": False, "mute": False, "flags": 0, "pending": False})

    @staticmethod
    def _json(status: int, body: dict) -> Response:
        return Response(json.dumps(body), status=status, content_type="application/json")
