"""A fake Battle.net: OAuth token endpoint plus the WoW profile API the guild sync reads.

It keeps a guild roster and a profile per character, answers like Blizzard (Bearer token
required, ``namespace`` required, class as id only in the roster, 404 for unknown
characters) and can be told to fail the next requests (429 with ``Retry-After``, 5xx).
OAuth lives at ``{base_url}/token``; the API at ``{base_url}``.

Payload shapes follow real Battle.net answers: a roster member and a character profile as
recorded in github.com/vmuradov/wow-stats, ``wow-stats/src/components/api/info.js`` (commit
8c490f3: ``character`` with ``key.href``, ``realm`` {key, id, slug} without a name,
``playable_class``/``playable_race`` as {key, id}, ``faction``; ``rank``; the profile with
``_links``, ``character_class``/``active_spec``/``race`` as {key, name, id}, ``realm`` with its
name, ``guild``, ``last_login_timestamp`` in ms, average/equipped item level), and the roster's
top level as typed in github.com/Marantle/yykaakoov2, ``src/types/battlenet/Roster.ts``
(``_links``, ``guild`` {key, name, id, realm, faction}, ``members``). ``latency`` adds a delay
per answer and ``rate_limit`` enforces Blizzard's per-second quota. Battle.net's Getting
Started guide (develop.battle.net/documentation/guides/getting-started, "Throttling", quoted in
github.com/anovik/HearthstoneSdk, README.md "Restrictions"): "API clients are limited to 36,000
requests per hour at a rate of 100 requests per second. Exceeding the hourly quota results in
slower service until traffic decreases. Exceeding the per-second limit results in a 429 error
for the remainder of the second until the quota refreshes." Where Blizzard's seconds begin is
not published, so the fake counts over every one-second window (a request finding
``rate_limit`` requests in the second before it gets a 429 and is not counted): a client kept
within that is within any alignment of Blizzard's seconds. The hourly quota refuses nothing and
a sync uses 1,001 of its 36,000, so it is not modelled. Each API request's arrival on the fake's
clock is kept in ``arrivals`` (refused ones too), for tests that count requests per window.
``add_real_shaped_guild`` fills a roster the way real ones look (issue #12): all ten rank
indexes 0–9 with most members in the low ranks, names outside ASCII (Cyrillic, "Nø", "Sílver") and members whose profile 404s.
"""

from __future__ import annotations

import base64
import collections
import itertools
import re
import time
from typing import Any
from urllib.parse import quote

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

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self.tokens: set[str] = set()
            self.guild = {"key": {"href": "https://us.api.blizzard.com/data/wow/guild/twisting-nether/stormwatch"
                                          "?namespace=profile-us"},
                          "name": "Stormwatch", "id": 77,
                          "realm": {"key": {"href": "https://us.api.blizzard.com/data/wow/realm/3686"
                                                    "?namespace=dynamic-us"},
                                    "name": "Twisting Nether", "id": 3686, "slug": "twisting-nether"},
                          "faction": {"type": "ALLIANCE", "name": "Alliance"}}
            self.members: list[dict[str, Any]] = []
            self.profiles: dict[tuple[str, str], dict[str, Any]] = {}
            self.expires_in = 86399
            self.latency = 0.0  # seconds added to every API answer (the benchmark uses 0.05)
            self.rate_limit = 0  # API requests per second allowed (Blizzard: 100); 0 = unlimited
            self.throttled = 0  # 429s answered because of rate_limit
            self._recent: collections.deque[float] = collections.deque()
            self.arrivals: list[float] = []  # time.monotonic() of every API request, refused or not

    @property
    def oauth_url(self) -> str:
        return f"{self.base_url}/token"

    # -- helpers for tests --------------------------------------------------------------
    def _href(self, path: str, namespace: str = "profile-us") -> dict[str, str]:
        return {"href": f"https://us.api.blizzard.com{path}?namespace={namespace}"}

    def add_character(self, name: str, *, realm_slug: str = "twisting-nether", realm_name: str = "Twisting Nether",
                      class_id: int = 1, rank: int = 3, level: int = 80, spec: tuple[int, str] | None = None,
                      item_level: int = 600, profile: bool = True, char_id: int | None = None,
                      realm_id: int = 3686) -> None:
        char_id = char_id or 10_000 + len(self.members)
        character_path = f"/profile/wow/character/{realm_slug}/{quote(name.lower())}"
        realm_ref = {"key": self._href(f"/data/wow/realm/{realm_id}", "dynamic-us"), "id": realm_id,
                     "slug": realm_slug}
        class_ref = {"key": self._href(f"/data/wow/playable-class/{class_id}", "static-us"), "id": class_id}
        race_ref = {"key": self._href("/data/wow/playable-race/1", "static-us"), "id": 1}
        with self.lock:
            self.members.append({"character": {"key": self._href(character_path), "name": name, "id": char_id,
                                               "realm": realm_ref, "level": level, "playable_class": class_ref,
                                               "playable_race": race_ref, "faction": {"type": "ALLIANCE"}},
                                 "rank": rank})
            if profile:
                body = {"_links": {"self": self._href(character_path)}, "id": char_id, "name": name,
                        "gender": {"type": "FEMALE", "name": "Female"},
                        "faction": {"type": "ALLIANCE", "name": "Alliance"},
                        "race": {**race_ref, "name": "Human"},
                        "character_class": {**class_ref, "name": CLASS_NAMES.get(class_id, "Unknown")},
                        "realm": {**realm_ref, "name": realm_name},
                        "guild": {"key": self._href("/data/wow/guild/twisting-nether/stormwatch"),
                                  "name": self.guild["name"], "id": self.guild["id"], "realm": self.guild["realm"],
                                  "faction": {"type": "ALLIANCE", "name": "Alliance"}},
                        "level": level, "experience": 0, "achievement_points": 12_345,
                        "last_login_timestamp": 1_760_000_000_000,
                        "average_item_level": item_level + 2, "equipped_item_level": item_level}
                if spec:
                    body["active_spec"] = {"key": self._href(f"/data/wow/playable-specialization/{spec[0]}",
                                                             "static-us"), "name": spec[1], "id": spec[0]}
                self.profiles[(realm_slug, name.lower())] = body

    def add_real_shaped_guild(self) -> list[dict[str, Any]]:
        """A guild as real rosters look: ranks 0–9 (most members in 5–9), names outside ASCII,
        a member on a realm with an accent in its slug and members without a profile. Returns
        what was added: [{name, rank, realm_slug, profile}]."""
        added = []
        rows = [  # name, rank, class id, spec, realm (slug, name), has a profile
            ("Sílver", 0, 2, (65, "Holy"), ("twisting-nether", "Twisting Nether"), True),
            ("Nø", 1, 8, (63, "Fire"), ("twisting-nether", "Twisting Nether"), True),
            ("Вейдер", 2, 6, (250, "Blood"), ("twisting-nether", "Twisting Nether"), True),
            ("Ледяна", 3, 8, (64, "Frost"), ("twisting-nether", "Twisting Nether"), True),
            ("Zoë", 4, 11, (105, "Restoration"), ("twisting-nether", "Twisting Nether"), True),
            ("Grünbart", 5, 1, (73, "Protection"), ("twisting-nether", "Twisting Nether"), True),
            ("Æthelric", 6, 3, (254, "Marksmanship"), ("twisting-nether", "Twisting Nether"), True),
            ("Shadowmeld", 7, 4, (261, "Subtlety"), ("twisting-nether", "Twisting Nether"), True),
            ("Bankalt", 8, 9, None, ("twisting-nether", "Twisting Nether"), False),  # never logged in
            ("Transférée", 9, 5, None, ("azjolnerub", "Azjol-Nerub"), False),  # transferred: 404
        ] + [(f"Raider{chr(ord('a') + i)}", 5 + i % 5, 7, (264, "Restoration"), ("twisting-nether", "Twisting Nether"),
              True) for i in range(20)]
        for name, rank, class_id, spec, (slug, realm_name), profile in rows:
            self.add_character(name, realm_slug=slug, realm_name=realm_name, class_id=class_id, rank=rank,
                               spec=spec, profile=profile)
            added.append({"name": name, "rank": rank, "realm_slug": slug, "profile": profile})
        return added

    # -- the API ------------------------------------------------------------------------
    def _over_rate(self) -> bool:
        """Blizzard's per-second quota: more than ``rate_limit`` requests in the last second → 429."""
        now = time.monotonic()
        with self.lock:
            self.arrivals.append(now)
        if not self.rate_limit:
            return False
        with self.lock:
            while self._recent and now - self._recent[0] >= 1.0:
                self._recent.popleft()
            if len(self._recent) >= self.rate_limit:
                self.throttled += 1
                return True
            self._recent.append(now)
        return False

    def busiest_window(self, seconds: float = 1.0) -> int:
        """The most API requests that arrived within any ``seconds`` [t, t + seconds) on the
        fake's clock, refused ones included (two pointers over the sorted arrivals)."""
        with self.lock:
            stamps = sorted(self.arrivals)
        best = first = 0
        for last, stamp in enumerate(stamps):
            while stamp - stamps[first] >= seconds:
                first += 1
            best = max(best, last - first + 1)
        return best

    def handle(self, rec: Recorded) -> Response:
        if rec.method == "POST" and rec.path == "/token":
            return self.token(rec)
        if self._over_rate():
            return self.respond(429, {"code": 429, "type": "BLZWEBAPI00000429", "detail": "Too Many Requests"})
        if self.latency:
            time.sleep(self.latency)
        auth = rec.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            return self.respond(401, {"code": 401, "type": "BLZWEBAPI00000401", "detail": "Unauthorized"})
        if not rec.query.get("namespace", "").startswith("profile-"):
            return self.respond(404, {"code": 404, "type": "BLZWEBAPI00000404", "detail": "Not Found"})
        match = re.fullmatch(r"/data/wow/guild/([^/]+)/([^/]+)/roster", rec.path)
        if rec.method == "GET" and match:
            return self.respond(200, {"_links": {"self": {"href": f"https://us.api.blizzard.com{rec.path}"
                                                                          "?namespace=profile-us"}},
                                      "guild": self.guild, "members": list(self.members)})
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
