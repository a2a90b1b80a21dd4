"""A fake Battle.net: OAuth token endpoint plus the WoW profile API the guild sync reads.

It keeps a guild roster and a profile per character, answers like Blizzard (Bearer token
required, ``namespace`` required, class as id only in the roster, 404 for unknown
characters) and can be told to fail the next requests (429 with ``Retry-After``, 5xx).
OAuth lives at ``{base_url}/token``; the API at ``{base_url}``.
"""

from __future__ import annotations

import base64
import itertools
import re
from typing import Any

from werkzeug import Response

from tests.fakes.http import FakeAPI, Recorded

CLASS_NAMES = {1: "Warrior", 2: "Paladin", 3: "Hunter", 4: "Rogue", 5: "Priest", 6: "Death Knight", 7: "Shaman",
               8: "Mage", 9: "Warlock", 10: "Monk", 11: "Druid", 12: "Demon Hunter", 13: "Evoker"}


class FakeBlizzard(FakeAPI):
    client_id = "fake-client"
    client_secret = "fake-secret"

    def __init__(self) -> None:
        super().__init__()
        self._tokens = itertools.count(1)
        self.reset()

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self.tokens: set[str] = set()
            self.guild = {"name": "Stormwatch", "id": 77, "realm": {"name": "Twisting Nether", "id": 3686,
                                                                   "slug": "twisting-nether"},
                          "faction": {"type": "ALLIANCE"}}
            self.members: list[dict[str, Any]] = []
            self.profiles: dict[tuple[str, str], dict[str, Any]] = {}
            self.expires_in = 86399

    @property
    def oauth_url(self) -> str:
        return f"{self.base_url}/token"

    # -- helpers for tests --------------------------------------------------------------
    def add_character(self, name: str, *, realm_slug: str = "twisting-nether", realm_name: str = "Twisting Nether",
                      class_id: int = 1, rank: int = 3, level: int = 80, spec: tuple[int, str] | None = None,
                      item_level: int = 600, profile: bool = True, char_id: int | None = None) -> None:
        char_id = char_id or 10_000 + len(self.members)
        with self.lock:
            self.members.append({"character": {"name": name, "id": char_id,
                                               "realm": {"id": 1, "slug": realm_slug}, "level": level,
                                               "playable_class": {"id": class_id}, "playable_race": {"id": 1}},
                                 "rank": rank})
            if profile:
                body = {"id": char_id, "name": name, "level": level, "achievement_points": 12_345,
                        "last_login_timestamp": 1_760_000_000_000,
                        "character_class": {"id": class_id, "name": CLASS_NAMES.get(class_id, "Unknown")},
                        "realm": {"id": 1, "name": realm_name, "slug": realm_slug},
                        "average_item_level": item_level + 2, "equipped_item_level": item_level}
                if spec:
                    body["active_spec"] = {"id": spec[0], "name": spec[1]}
                self.profiles[(realm_slug, name.lower())] = body

    # -- the API ------------------------------------------------------------------------
    def handle(self, rec: Recorded) -> Response:
        if rec.method == "POST" and rec.path == "/token":
            return self.token(rec)
        auth = rec.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            return self.respond(401, {"code": 401, "type": "BLZWEBAPI00000401", "detail": "Unauthorized"})
        if not rec.query.get("namespace", "").startswith("profile-"):
            return self.respond(404, {"code": 404, "type": "BLZWEBAPI00000404", "detail": "Not Found"})
        match = re.fullmatch(r"/data/wow/guild/([^/]+)/([^/]+)/roster", rec.path)
        if rec.method == "GET" and match:
            return self.respond(200, {"guild": self.guild, "members": list(self.members)})
        match = re.fullmatch(r"/profile/wow/character/([^/]+)/([^/]+)", rec.path)
        if rec.method == "GET" and match:
            profile = self.profiles.get((match.group(1), match.group(2)))
            if profile is None:
                return self.respond(404, {"code": 404, "type": "BLZWEBAPI00000404", "detail": "Not Found"})
            return self.respond(200, profile)
        return self.respond(404, {"code": 404, "type": "BLZWEBAPI00000404", "detail": "Not Found"})

    def token(self, rec: Recorded) -> Response:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if rec.headers.get("Authorization") != f"Basic {expected}" or b"grant_type=client_credentials" not in rec.body:
            return self.respond(401, {"error": "invalid_client", "error_description": "Invalid client credentials"})
        token = f"tok-{next(self._tokens)}"
        with self.lock:
            self.tokens.add(token)
        return self.respond(200, {"access_token": token, "token_type": "bearer", "expires_in": self.expires_in,
                                  "sub": self.client_id})
