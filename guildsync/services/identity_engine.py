"""Characters ↔ Discord accounts, grouped into players (seed Task 3, steps 1–4).

1. Gather the unlinked characters (in the guild, in no player) and the Discord users who
   hold a guild-rank role and are on the server.
2. Match each character to a Discord user: exact name (normalised), then a Discord hint in
   the guild or officer note ("Discord: name", "@name"), then — for characters that are not
   someone's alt — a fuzzy match taken only above a threshold and clearly ahead of the
   runner-up.
3. On a match: the user's player if there is one; else the player owning the character the
   note names as main (and give that player the Discord user if it has none); else a new
   player with that Discord user.
4. Alts without a Discord match join their main's player; alt groups without any Discord
   match become players without Discord (the integrity checker flags them for officers).

Existing links are never changed here (manual ones least of all), so a second run changes
nothing. Everything is read once into memory, matched, then written with bulk inserts: 1,000
characters × 5,000 Discord users take well under a second (bench/guildsync_matching.py).

Note patterns are ``NotePattern`` rows that officers edit in the admin.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from rapidfuzz import fuzz, process

from core.disjoint_set import DisjointSet
from core.reports import RunReport
from guildsync.models import DiscordUser, NotePattern, Player, PlayerCharacter, WowCharacter
from guildsync.services import linked_roles
from guildsync.services.common import GuildSyncError, lock_for_update

Source = PlayerCharacter.LinkSource

CONFIDENCE = {Source.EXACT_NAME: 1.0, Source.NOTE: 0.95, Source.ALT_NOTE: 0.9, Source.MANUAL: 1.0}
ORPHAN_GROUP_CONFIDENCE = 0.8


def fuzzy_threshold() -> float:
    """Minimum rapidfuzz ratio (0–100) for a fuzzy link (``GUILDSYNC_FUZZY_THRESHOLD``)."""
    return float(settings.GUILDSYNC_FUZZY_THRESHOLD)


def fuzzy_margin() -> float:
    """How far the best candidate must beat the runner-up (``GUILDSYNC_FUZZY_MARGIN``)."""
    return float(settings.GUILDSYNC_FUZZY_MARGIN)


# -- pure helpers -----------------------------------------------------------------------
_NON_ALNUM = re.compile(r"[\W_]+", re.UNICODE)


def normalize_name(name: str, *, strip_realm: bool = True) -> str:
    """Comparable form of a character or Discord name: realm suffix dropped ("Thrall-Draenor"
    → "thrall"; character names cannot hold a hyphen), accents folded ("Áltéa" → "altea"),
    case folded, punctuation and spaces removed. Discord names keep their hyphens' parts
    (``strip_realm=False``)."""
    return _normalize(name or "", strip_realm)


@lru_cache(maxsize=65536)
def _normalize(name: str, strip_realm: bool) -> str:
    text = name.strip()
    if strip_realm and "-" in text:
        text = text.split("-", 1)[0]
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _NON_ALNUM.sub("", text.casefold())


@dataclass(frozen=True)
class Patterns:
    alt_of: tuple[re.Pattern, ...]
    discord: tuple[re.Pattern, ...]

    @classmethod
    def load(cls) -> Patterns:
        alt, hints = [], []
        for kind, regex in NotePattern.objects.filter(is_active=True).values_list("kind", "regex"):
            try:
                compiled = re.compile(regex, re.IGNORECASE)
            except re.error:
                continue  # the admin form refuses these; a hand-edited bad row must not stop matching
            if compiled.groups < 1:
                continue
            (alt if kind == NotePattern.Kind.ALT_OF else hints).append(compiled)
        return cls(tuple(alt), tuple(hints))


def _captures(note: str, patterns: tuple[re.Pattern, ...]) -> list[str]:
    found: list[str] = []
    for pattern in patterns:
        for match in pattern.finditer(note or ""):
            value = (match.group(1) or "").strip(" .,;:!?\"'")
            if value and value not in found:
                found.append(value)
    return found


def extract_discord_hints_from_note(note: str, patterns: Patterns | None = None) -> list[str]:
    """Discord names a note points at ("Discord: thrallfan", "@thrallfan"), in pattern order."""
    return _captures(note, (patterns or Patterns.load()).discord)


def extract_alt_references(note: str, patterns: Patterns | None = None) -> list[str]:
    """Character names a note calls this character's main ("alt of X", "X's alt", "{X}")."""
    return _captures(note, (patterns or Patterns.load()).alt_of)


def fuzzy_match_score(character_name: str, discord_name: str) -> float:
    """0–100 similarity of a character name and a Discord name, after normalisation."""
    return float(fuzz.ratio(normalize_name(character_name), normalize_name(discord_name, strip_realm=False)))


# -- the run ------------------------------------------------------------------------------
@dataclass
class _Player:
    """A player in memory during a run: existing (pk) or to be created."""

    pk: int | None
    display_name: str
    discord_user_id: int | None
    discord_changed: bool = False
    main_character_id: int | None = None
    rank: tuple[int, int] | None = None  # (-rank index, guild_rank_id): max = the most senior character
    obj: Player | None = None


@dataclass
class _Char:
    id: int
    name: str
    norm: str
    note_hints: list[str]
    alt_refs: list[str]
    rank: tuple[int, int] | None


@dataclass
class MatchResult(RunReport):
    players_created: int = 0  # players new to the table
    links_created: int = 0  # characters linked to a player by this run
    discord_attached: int = 0  # existing players without a Discord account who got one
    by_source: dict[str, int] = field(default_factory=dict)  # links_created by how the link was found
    unmatched_characters: int = 0  # unlinked characters this run could not place
    ambiguous: list[str] = field(default_factory=list)  # "<character>: several Discord users are named …"


def _fuzzy_hits(queries: list[str], choices: list[str], cutoff: float) -> list[list[tuple[int, float]]]:
    """For each query, the (choice index, score) pairs scoring at least ``cutoff``.

    With numpy installed, one multi-threaded ``process.cdist`` call scores the whole matrix;
    without it (numpy is optional), ``process.extract`` per query gives the same pairs."""
    try:
        import numpy as np
    except ImportError:
        return [[(index, score) for _c, score, index in
                 process.extract(q, choices, scorer=fuzz.ratio, processor=None, limit=8, score_cutoff=cutoff)]
                for q in queries]
    matrix = process.cdist(queries, choices, scorer=fuzz.ratio, processor=None, score_cutoff=cutoff, workers=-1)
    rows, cols = np.nonzero(matrix)
    hits: list[list[tuple[int, float]]] = [[] for _ in queries]
    for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
        hits[r].append((c, float(matrix[r, c])))
    return hits


class _Run:
    def __init__(self, threshold: float, margin: float) -> None:
        self.threshold = threshold
        self.margin = margin
        self.patterns = Patterns.load()
        self.result = MatchResult()
        self.owner: dict[int, _Player] = {}
        self.player_by_user: dict[int, _Player] = {}
        self.new_links: list[tuple[int, _Player, str, float]] = []
        self.new_players: list[_Player] = []
        self.users: dict[int, dict[str, Any]] = {}
        self.user_index: dict[str, set[int]] = defaultdict(set)
        self.chars_by_norm: dict[str, list[int]] = defaultdict(list)

    # loading -----------------------------------------------------------------------
    def load(self) -> list[_Char]:
        players = {pk: _Player(pk, name, uid) for pk, name, uid in
                   Player.objects.values_list("pk", "display_name", "discord_user_id")}
        for player in players.values():
            if player.discord_user_id:
                self.player_by_user[player.discord_user_id] = player
        unlinked: list[_Char] = []
        rows = WowCharacter.objects.filter(removed_at__isnull=True).values_list(
            "id", "character_name", "addon_note", "addon_officer_note", "guild_rank_id", "guild_rank__blizzard_rank_index",
            "player_link__player_id", "skip_auto_match")
        for cid, name, note, onote, rank_id, rank_index, player_id, skip in rows:
            norm = normalize_name(name)
            self.chars_by_norm[norm].append(cid)
            if player_id is not None:
                self.owner[cid] = players[player_id]
                continue
            if skip:  # an officer unlinked it: theirs to decide
                continue
            hints = _captures(note, self.patterns.discord) + _captures(onote, self.patterns.discord)
            refs = [r for r in _captures(note, self.patterns.alt_of) + _captures(onote, self.patterns.alt_of)
                    if normalize_name(r) != norm]
            unlinked.append(_Char(cid, name, norm, hints, refs,
                                  (-rank_index, rank_id) if rank_id is not None else None))
        for uid, username, display in DiscordUser.objects.filter(is_present=True).exclude(
                highest_guild_role="").values_list("id", "username", "display_name"):
            names = {normalize_name(username, strip_realm=False), normalize_name(display, strip_realm=False)}
            first_word = (display or "").split(" ")[0]
            names.add(normalize_name(first_word, strip_realm=False))
            names.discard("")
            self.users[uid] = {"name": display or username, "names": names}
            for n in names:
                self.user_index[n].add(uid)
        return unlinked

    # decisions -----------------------------------------------------------------------
    def alt_targets(self, char: _Char) -> set[int]:
        return {cid for ref in char.alt_refs for cid in self.chars_by_norm.get(normalize_name(ref), ())
                if cid != char.id}

    def target_player(self, char: _Char) -> _Player | None:
        owners = {id(self.owner[c]): self.owner[c] for c in self.alt_targets(char) if c in self.owner}
        return next(iter(owners.values())) if len(owners) == 1 else None

    def unique_user(self, name: str, label: str) -> int | None:
        ids = self.user_index.get(name)
        if not ids:
            return None
        if len(ids) > 1:
            self.result.ambiguous.append(label)
            return None
        return next(iter(ids))

    def direct_match(self, char: _Char) -> tuple[int, str, float] | None:
        uid = self.unique_user(char.norm, _("%(character)s: several Discord users are named %(name)s")
                               % {"character": char.name, "name": repr(char.norm)})
        if uid is not None:
            return uid, Source.EXACT_NAME, CONFIDENCE[Source.EXACT_NAME]
        for hint in char.note_hints:
            uid = self.unique_user(normalize_name(hint, strip_realm=False),
                                   _("%(character)s: note hint %(hint)s") % {"character": char.name, "hint": repr(hint)})
            if uid is not None:
                return uid, Source.NOTE, CONFIDENCE[Source.NOTE]
        return None

    def link(self, char: _Char, player: _Player, source: str, confidence: float) -> None:
        self.owner[char.id] = player
        self.new_links.append((char.id, player, source, round(confidence, 3)))
        if char.rank and (player.rank is None or char.rank > player.rank):
            player.rank = char.rank
        if player.pk is None and player.main_character_id is None and not char.alt_refs:
            player.main_character_id = char.id

    def new_player(self, display_name: str, discord_user_id: int | None) -> _Player:
        player = _Player(None, display_name[:64], discord_user_id)
        self.new_players.append(player)
        if discord_user_id:
            self.player_by_user[discord_user_id] = player
        return player

    def attach(self, char: _Char, uid: int, source: str, confidence: float) -> None:
        player = self.player_by_user.get(uid)
        if player is None:
            player = self.target_player(char)
            if player is not None and player.discord_user_id is None:
                player.discord_user_id = uid
                player.discord_changed = player.pk is not None
                self.player_by_user[uid] = player
            elif player is None:
                player = self.new_player(self.users[uid]["name"], uid)
        self.link(char, player, source, confidence)

    def fuzzy(self, chars: list[_Char]) -> list[_Char]:
        if not chars or not self.users:
            return chars
        choices: list[str] = []
        owners: list[int] = []
        for uid, info in self.users.items():
            for n in info["names"]:
                choices.append(n)
                owners.append(uid)
        cutoff = max(0.0, self.threshold - self.margin)
        left = []
        for char, hits in zip(chars, _fuzzy_hits([c.norm for c in chars], choices, cutoff), strict=True):
            best: dict[int, float] = {}
            for index, score in hits:
                uid = owners[index]
                best[uid] = max(best.get(uid, 0.0), score)
            ranked = sorted(best.items(), key=lambda kv: kv[1], reverse=True)
            if ranked and ranked[0][1] >= self.threshold and (
                    len(ranked) == 1 or ranked[0][1] - ranked[1][1] >= self.margin):
                uid, score = ranked[0]
                self.attach(char, uid, Source.FUZZY, score / 100.0)
            else:
                left.append(char)
        return left

    def run(self) -> MatchResult:
        unlinked = self.load()
        # Mains before alts, so an alt's main already has its player when the alt is seen.
        unlinked.sort(key=lambda c: (bool(c.alt_refs), c.name.casefold(), c.id))
        left: list[_Char] = []
        for char in unlinked:
            found = self.direct_match(char)
            if found:
                self.attach(char, *found)
            else:
                left.append(char)
        # An alt whose main is known follows its main rather than a fuzzy guess.
        fuzzy_pool = [c for c in left if not self.alt_targets(c)]
        rest = [c for c in left if self.alt_targets(c)]
        rest += self.fuzzy(fuzzy_pool)
        rest = self.follow_mains(rest)
        rest = self.group_orphans(rest)
        self.result.unmatched_characters = len(rest)
        self.write()
        return self.result

    def follow_mains(self, chars: list[_Char]) -> list[_Char]:
        progress = True
        while progress:  # alt of an alt: repeat until nothing moves
            progress = False
            still = []
            for char in chars:
                player = self.target_player(char)
                if player is not None:
                    self.link(char, player, Source.ALT_NOTE, CONFIDENCE[Source.ALT_NOTE])
                    progress = True
                else:
                    still.append(char)
            chars = still
        return chars

    def group_orphans(self, chars: list[_Char]) -> list[_Char]:
        """Alt groups with no Discord match → one player without Discord per group."""
        by_id = {c.id: c for c in chars}
        alts = DisjointSet(by_id)
        for char in chars:
            for target in self.alt_targets(char):
                if target in by_id:
                    alts.union(char.id, target)
        left = []
        for ids in alts.groups().values():
            members = [by_id[i] for i in ids]
            if len(members) < 2:
                left.extend(members)
                continue
            members.sort(key=lambda c: (bool(c.alt_refs), c.name.casefold(), c.id))
            player = self.new_player(members[0].name, None)
            for char in members:
                self.link(char, player, Source.ALT_NOTE, ORPHAN_GROUP_CONFIDENCE)
            if player.main_character_id is None:
                player.main_character_id = members[0].id
        return left

    # writing -----------------------------------------------------------------------
    def write(self) -> None:
        objs = [Player(display_name=p.display_name, discord_user_id=p.discord_user_id,
                       main_character_id=p.main_character_id, guild_rank_id=p.rank[1] if p.rank else None)
                for p in self.new_players]
        Player.objects.bulk_create(objs, batch_size=1000)
        for player, obj in zip(self.new_players, objs, strict=True):
            player.pk = obj.pk
        changed = [Player(pk=p.pk, discord_user_id=p.discord_user_id)
                   for p in {id(p): p for p in self.player_by_user.values()}.values() if p.discord_changed]
        Player.objects.bulk_update(changed, ["discord_user_id"])
        PlayerCharacter.objects.bulk_create(
            [PlayerCharacter(character_id=cid, player_id=player.pk, link_source=source, confidence=conf)
             for cid, player, source, conf in self.new_links], batch_size=1000)
        counts: dict[str, int] = defaultdict(int)
        for _cid, _player, source, _conf in self.new_links:
            counts[str(source)] += 1
        self.result.players_created = len(objs)
        self.result.links_created = len(self.new_links)
        self.result.discord_attached = len(changed)
        self.result.by_source = dict(counts)


def run_matching(*, threshold: float | None = None, margin: float | None = None) -> MatchResult:
    """Link every unlinked character the evidence allows (see the module docstring).

    One transaction, serialised by the ``matching`` lock row: two concurrent runs queue,
    and the second finds nothing left to do."""
    with transaction.atomic():
        lock_for_update("matching")
        run = _Run(fuzzy_threshold() if threshold is None else threshold,
                   fuzzy_margin() if margin is None else margin)
        result = run.run()
        linked_roles.queue_changed()
        return result


def describe_member(discord_id: int) -> str:
    """Who a Discord member is in the guild: their player and characters (for ``/guild whois``)."""
    user = DiscordUser.objects.filter(discord_id=discord_id).select_related("player__main_character").first()
    if user is None:
        raise GuildSyncError(_("I don't know that member yet; the member sync runs every 15 minutes."))
    player = getattr(user, "player", None)
    if player is None:
        return _("**%(member)s** (%(role)s) has no characters linked yet.") % {
            "member": user, "role": user.highest_guild_role or _("no guild role")}
    links = PlayerCharacter.objects.filter(player=player).select_related(
        "character__wow_class", "character__guild_rank").order_by("character__character_name")
    lines = [_("**%(player)s** — Discord role: %(role)s") % {"player": player.display_name,
                                                              "role": user.highest_guild_role or _("none")}]
    for link in links[:20]:
        char = link.character
        main = " " + _("(main)") if char.pk == player.main_character_id else ""
        lines.append(f"• {char.character_name}-{char.realm_slug}{main}: "
                     f"{char.wow_class if char.wow_class else _('unknown class')}, "
                     f"{char.guild_rank.name if char.guild_rank else _('no rank')}")
    return "\n".join(lines)[:1900]
