"""A fake Battle.net for members who connect their account: the OAuth2 authorization-code flow
and the Account Profile API, on pytest-httpserver.

Endpoints and shapes:
- ``GET /authorize`` (``client_id``, ``redirect_uri``, ``response_type=code``, ``scope``, ``state``) →
  302 back to ``redirect_uri?code=…&state=…``; ``POST /token`` (form, client id and secret as HTTP
  Basic or in the form) → ``{"access_token", "token_type": "bearer", "expires_in": 86399, "scope",
  "sub"}``; ``GET /userinfo`` (Bearer) → ``{"sub", "id", "battletag"}``. Host ``oauth.battle.net``
  (``oauth.battlenet.com.cn`` for China), as the Battle.net OAuth guide describes
  (develop.battle.net/documentation/guides/using-oauth; the same endpoints in the OpenAPI description
  github.com/api-evangelist/blizzard-entertainment ``openapi/blizzard-oauth-openapi.yml``: /authorize,
  /token, /userinfo; the userinfo fields ``id``, ``battletag``, ``sub`` from that project's
  ``json-schema/activision-blizzard-battle-net-profile-schema.json``; django-allauth's Battle.net
  provider reads ``id`` and ``battletag``). User tokens last 24 hours (``expires_in`` 86399) and come
  without a refresh token.
- ``GET /profile/user/wow?namespace=profile-{region}`` (Bearer, scope ``wow.profile``) → the Account
  Profile Summary: ``_links`` {self, user, profile}, ``id``, ``wow_accounts`` [{``id``, ``characters``
  [{``character`` {href}, ``protected_character`` {href}, ``name``, ``id``, ``realm`` {key, name, id,
  slug}, ``playable_class`` / ``playable_race`` {key, name, id}, ``gender``, ``faction``, ``level``}]}],
  ``collections`` {href}: the shape of a recorded answer kept as a PHP test fixture (class
  ``GGApis\\Blizzard\\Fixture\\WowProfile``: a US account with an Evoker on Area 52 and two Velukh on
  Arygos and Sargeras; found in the public code index, which did not name its repository); the same
  fields are typed in other clients (``WowCharacterResponse`` / ``WowAccountResponse``). A
  missing or unknown token → 401 ``{"code": 401, "type": "BLZWEBAPI00000401", "detail": "Unauthorized"}``;
  a missing namespace → 404 (Blizzard answers 404 "Not Found" to a profile request without one).
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode

from werkzeug import Request, Response


@dataclass
class BnetCharacter:
    name: str
    realm_slug: str
    realm_name: str
    id: int
    level: int = 80
    class_name: str = "Hunter"
    class_id: int = 3


@dataclass
class BnetAccount:
    id: int
    battletag: str
    characters: list[BnetCharacter] = field(default_factory=list)
    licence_id: int = 2937834


class FakeBattlenet:
    def __init__(self, httpserver, *, client_id: str = "bnet-client", secret: str = "bnet-secret",
                 region: str = "us") -> None:
        self.server, self.client_id, self.secret, self.region = httpserver, client_id, secret, region
        self.codes: dict[str, tuple[BnetAccount, str]] = {}
        self.tokens: dict[str, tuple[BnetAccount, str]] = {}
        self.next_account: BnetAccount | None = None
        self.authorize_requests: list[dict] = []
        self.profile_requests: list[dict] = []
        httpserver.expect_request("/oauth/authorize").respond_with_handler(self._authorize)
        httpserver.expect_request("/oauth/token", method="POST").respond_with_handler(self._token)
        httpserver.expect_request("/oauth/userinfo").respond_with_handler(self._userinfo)
        httpserver.expect_request("/api/profile/user/wow").respond_with_handler(self._profile)

    @property
    def oauth_base(self) -> str:
        return self.server.url_for("/oauth")

    @property
    def api_base(self) -> str:
        return self.server.url_for("/api")

    def _authorize(self, request: Request) -> Response:
        """The member signs in to Battle.net as ``next_account`` and allows the scopes."""
        query = dict(request.args)
        self.authorize_requests.append(query)
        if query.get("client_id") != self.client_id or query.get("response_type") != "code":
            return Response("invalid_request", status=400)
        code = secrets.token_hex(8)
        self.codes[code] = (self.next_account, query.get("scope", ""))
        return Response(status=302, headers={
            "Location": f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"})

    def _token(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs(request.get_data(as_text=True)).items()}
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            form["client_id"], _, form["client_secret"] = base64.b64decode(auth[6:]).decode().partition(":")
        if (form.get("client_id"), form.get("client_secret")) != (self.client_id, self.secret):
            return self._json(401, {"error": "unauthorized", "error_description": "Bad credentials"})
        grant = self.codes.pop(form.get("code", ""), None)
        if form.get("grant_type") != "authorization_code" or grant is None:
            return self._json(400, {"error": "invalid_grant", "error_description": "Invalid authorization code"})
        token = secrets.token_hex(16)
        self.tokens[token] = grant
        return self._json(200, {"access_token": token, "token_type": "bearer", "expires_in": 86399,
                                "scope": grant[1], "sub": str(grant[0].id)})

    def _bearer(self, request: Request) -> tuple[BnetAccount, str] | None:
        auth = request.headers.get("Authorization", "")
        return self.tokens.get(auth[7:]) if auth.lower().startswith("bearer ") else None

    def _userinfo(self, request: Request) -> Response:
        grant = self._bearer(request)
        if grant is None:
            return self._json(401, {"error": "invalid_token", "error_description": "Invalid access token"})
        return self._json(200, {"sub": str(grant[0].id), "id": grant[0].id, "battletag": grant[0].battletag})

    def _profile(self, request: Request) -> Response:
        self.profile_requests.append(dict(request.args))
        grant = self._bearer(request)
        if grant is None or "wow.profile" not in grant[1].split():
            return self._json(401, {"code": 401, "type": "BLZWEBAPI00000401", "detail": "Unauthorized"})
        if request.args.get("namespace") != f"profile-{self.region}":
            return self._json(404, {"code": 404, "type": "BLZWEBAPI00000404", "detail": "Not Found"})
        account = grant[0]
        api = f"https://{self.region}.api.blizzard.com"

        def char(c: BnetCharacter) -> dict:
            return {
                "character": {"href": f"{api}/profile/wow/character/{c.realm_slug}/{c.name.lower()}?namespace=profile-us"},
                "protected_character": {"href": f"{api}/profile/user/wow/protected-character/1566-{c.id}?namespace=profile-us"},
                "name": c.name, "id": c.id,
                "realm": {"key": {"href": f"{api}/data/wow/realm/1566?namespace=dynamic-us"}, "name": c.realm_name,
                          "id": 1566, "slug": c.realm_slug},
                "playable_class": {"key": {"href": f"{api}/data/wow/playable-class/{c.class_id}?namespace=static-us"},
                                   "name": c.class_name, "id": c.class_id},
                "playable_race": {"key": {"href": f"{api}/data/wow/playable-race/6?namespace=static-us"},
                                  "name": "Tauren", "id": 6},
                "gender": {"type": "MALE", "name": "Male"}, "faction": {"type": "HORDE", "name": "Horde"},
                "level": c.level,
            }

        return self._json(200, {
            "_links": {"self": {"href": f"{api}/profile/user/wow?namespace=profile-us"},
                       "user": {"href": f"{api}/profile/user"},
                       "profile": {"href": f"{api}/profile/user/wow?namespace=profile-us"}},
            "id": account.id,
            "wow_accounts": [{"id": account.licence_id, "characters": [char(c) for c in account.characters]}],
            "collections": {"href": f"{api}/profile/user/wow/collections?namespace=profile-us"},
        })

    @staticmethod
    def _json(status: int, body: dict) -> Response:
        return Response(json.dumps(body), status=status, content_type="application/json")
