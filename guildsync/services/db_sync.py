"""Blizzard roster and addon exports → ``WowCharacter`` (seed Task 2).

The reference tables are read once per run into lookup caches (class by Blizzard id or
name, spec by Blizzard id or (name, class), rank by Blizzard rank index); then every row is
resolved in memory and written with bulk inserts/updates. An unknown class never crashes a
run: the character is stored without a class and the name is reported in the stats.

Blizzard roster records (see ``guildsync.clients.character_record``)::

    character_name, realm_slug, realm_name, blizzard_id, class_id | class_name,
    spec_id | spec_name, level, item_level, rank_index, achievement_points,
    last_login_at, profile_json

Addon records (``addon_processor.extract_addon_records``)::

    character_name, realm (display name or slug), guild_note, officer_note, rank_index,
    rank_name, class_name, level

Ranks are keyed by the roster's index 0–9 and every index has a row (``ranks.ensure_ranks``),
so a member of rank 7 gets "Rank 7" until it is named; the addon's ``rank_name``s name them
(``ranks.apply_addon_rank_names``) before the members are written.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.reports import RunReport
from guildsync.clients import realm_slug as slug_rule
from guildsync.models import GuildRank, Specialization, WowCharacter, WowClass
from guildsync.services.common import GuildSyncError, lock_for_update
from guildsync.services.ranks import apply_addon_rank_names, ensure_ranks, rank_names_from_records

NOTE_MAX = 255
T = TypeVar("T")


def _by_int(table: Mapping[int, T], raw: Any) -> T | None:
    """``table[int(raw)]``, or None when ``raw`` is missing, not a whole number or unknown
    (the sources send ids as numbers, strings or nothing)."""
    try:
        return table.get(int(raw))
    except (TypeError, ValueError):
        return None


@dataclass
class Lookups:
    """The FK caches of one run."""

    classes_by_id: dict[int, WowClass]
    classes_by_name: dict[str, WowClass]
    specs_by_id: dict[int, Specialization]
    specs_by_name: dict[tuple[str, int], Specialization]
    ranks_by_blizzard_index: dict[int, GuildRank]

    @classmethod
    def load(cls) -> Lookups:
        classes = list(WowClass.objects.all())
        specs = list(Specialization.objects.all())
        by_index = ensure_ranks()  # every index 0–9 has a rank, placeholders included
        return cls(
            classes_by_id={c.blizzard_id: c for c in classes},
            classes_by_name={c.name.casefold(): c for c in classes},
            specs_by_id={s.blizzard_id: s for s in specs},
            specs_by_name={(s.name.casefold(), s.wow_class_id): s for s in specs},
            ranks_by_blizzard_index=by_index,
        )

    def wow_class(self, class_id: Any = None, class_name: Any = None) -> WowClass | None:
        found = _by_int(self.classes_by_id, class_id)
        if found:
            return found
        if class_name:
            return self.classes_by_name.get(str(class_name).strip().casefold())
        return None

    def spec(self, spec_id: Any, spec_name: Any, wow_class: WowClass | None) -> Specialization | None:
        found = _by_int(self.specs_by_id, spec_id)
        if found:
            return found
        if spec_name and wow_class is not None:
            return self.specs_by_name.get((str(spec_name).strip().casefold(), wow_class.pk))
        return None

    def rank(self, rank_index: Any) -> GuildRank | None:
        return _by_int(self.ranks_by_blizzard_index, rank_index)


@dataclass
class SyncStats(RunReport):
    created: int = 0  # characters new to the table
    updated: int = 0  # characters already known and listed again (changed or not; restored ones included)
    removed: int = 0  # characters the source no longer lists, marked removed (only when asked to)
    restored: int = 0  # of ``updated``: characters marked removed before, listed again
    skipped: int = 0  # records listing a character the source had listed already in this run
    unknown_classes: list[str] = field(default_factory=list)  # "Name-realm: class" no WowClass matched
    unknown_specs: list[str] = field(default_factory=list)  # "Name-realm: spec" no Specialization matched
    unknown_ranks: list[str] = field(default_factory=list)  # "Name-realm: rank index" no GuildRank has
    rank_names: dict[str, Any] = field(default_factory=dict)  # the addon's rank naming (RankNaming.as_dict)


def _key(name: str, slug: str) -> tuple[str, str]:
    return name.casefold(), slug


def _require_name(record: Mapping[str, Any]) -> str:
    name = record.get("character_name")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 24:
        raise GuildSyncError(_("A character needs a name of 1–24 characters (got %(name)s).") % {"name": f"{name!r:.40}"})
    return name.strip()


def _small_int(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 <= number < 32768 else None


FIELDS_BLIZZARD = ["character_name", "realm_slug", "realm_name", "blizzard_id", "wow_class", "active_spec", "level",
                   "item_level", "guild_rank", "achievement_points", "last_login_at", "profile_json",
                   "last_api_sync", "removed_at"]


@dataclass
class _RosterDiff:
    """A roster sync's diff while it is computed (characters by ``_key``; which the source
    listed, which are new, which changed), applied in bulk by ``write``. ``fields`` are what
    the source writes; ``stamp`` (one of them) is its sync time, set on every listed character.
    The other fields' values are read when the diff starts, so ``write`` touches only the
    fields that changed, of the rows that changed."""

    chars: Iterable[WowCharacter]
    stats: SyncStats
    fields: list[str]
    stamp: str
    existing: dict[tuple[str, str], WowCharacter] = field(init=False)
    seen: set[tuple[str, str]] = field(default_factory=set)
    to_create: list[WowCharacter] = field(default_factory=list)
    to_update: list[WowCharacter] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.existing = {_key(c.character_name, c.realm_slug): c for c in self.chars}
        meta = WowCharacter._meta
        self._attnames = {f: meta.get_field(f).attname for f in self.fields if f != self.stamp}
        self._before = {c.pk: self._values(c) for c in self.existing.values()}  # the diff's left side

    def _values(self, char: WowCharacter) -> dict[str, Any]:
        return {f: getattr(char, attname) for f, attname in self._attnames.items()}

    def first_time(self, key: tuple[str, str]) -> bool:
        """False (counted as skipped) when the source lists this character again."""
        if key in self.seen:
            self.stats.skipped += 1
            return False
        self.seen.add(key)
        return True

    def character(self, key: tuple[str, str], **new: Any) -> WowCharacter:
        """The existing character (to update; a removed one is restored) or a new one with
        the fields ``new``."""
        char = self.existing.get(key)
        if char is None:
            char = WowCharacter(**new)
            self.to_create.append(char)
            self.stats.created += 1
        else:
            if char.removed_at is not None:
                self.stats.restored += 1
            self.to_update.append(char)
            self.stats.updated += 1
        return char

    def write(self, *, now: dt.datetime, mark_missing_removed: bool) -> None:
        """Apply the diff (in the caller's transaction): new characters, the changed fields of
        the changed ones, ``stamp`` on every listed one and, when asked, the removal of those
        the source no longer lists."""
        if mark_missing_removed:
            gone = [c for k, c in self.existing.items() if k not in self.seen and c.removed_at is None]
            for char in gone:
                char.removed_at = now
            self.stats.removed = len(gone)
            WowCharacter.objects.bulk_update(gone, ["removed_at"], batch_size=1000)
        WowCharacter.objects.bulk_create(self.to_create, batch_size=1000)
        if not self.to_update:
            return
        WowCharacter.objects.filter(pk__in=[c.pk for c in self.to_update]).update(**{self.stamp: now})
        groups: dict[tuple[str, ...], list[WowCharacter]] = {}
        for char in self.to_update:
            old = self._before[char.pk]
            changed = tuple(f for f, value in self._values(char).items() if value != old[f])
            if changed:
                groups.setdefault(changed, []).append(char)
        for fields, group in groups.items():
            _update_rows(group, fields)


def _update_rows(chars: list[WowCharacter], fields: tuple[str, ...]) -> None:
    """``UPDATE … SET these fields WHERE id = …`` for each row, sent with one ``executemany``
    (psycopg pipelines them); values prepared by each field, as the ORM would. Most members
    change nothing between two runs, or a login time and a few fields. Django's
    ``bulk_update`` builds one CASE per field and row in Python: all 14 Blizzard fields of
    1,000 rows took 6.5 s, and 500 rows × 3 fields (login, item level, profile) 1.2–1.7 s,
    where this takes a fraction (bench/guildsync_roster_sync.py, the next sync)."""
    meta = WowCharacter._meta
    model_fields = [meta.get_field(name) for name in fields]
    qn = connection.ops.quote_name
    assignments = ", ".join(f"{qn(f.column)} = %s" for f in model_fields)
    sql = f"UPDATE {qn(meta.db_table)} SET {assignments} WHERE {qn(meta.pk.column)} = %s"  # noqa: S608 - model names
    rows = [[f.get_db_prep_save(getattr(c, f.attname), connection) for f in model_fields] + [c.pk] for c in chars]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def sync_blizzard_roster(characters: Iterable[Mapping[str, Any]], *, mark_missing_removed: bool = True,
                         synced_at: dt.datetime | None = None) -> SyncStats:
    """Upsert the roster; characters missing from it get ``removed_at``, returning ones
    are restored. The roster is the whole guild, so absence means "left the guild".
    ``mark_missing_removed=False`` and ``synced_at`` serve partial imports (backfills, demo)."""
    characters = list(characters)
    for record in characters:
        _require_name(record)
        if not record.get("realm_slug"):
            raise GuildSyncError(_("Character %(name)s has no realm slug.") % {"name": repr(record.get("character_name"))})
    now = synced_at or timezone.now()
    stats = SyncStats()
    with transaction.atomic():
        lock_for_update("blizzard")
        lookups = Lookups.load()
        diff = _RosterDiff(WowCharacter.objects.all(), stats, FIELDS_BLIZZARD, "last_api_sync")
        existing, seen = diff.existing, diff.seen
        # characters an addon upload created before the API saw them, under a guessed slug
        guessed = {(c.character_name.casefold(), realm_key(c.realm_slug)): c
                   for c in existing.values() if c.last_api_sync is None}
        roster_keys = {_key(_require_name(r), str(r["realm_slug"]).lower()) for r in characters}
        for record in characters:
            name = _require_name(record)
            slug = str(record["realm_slug"]).lower()
            key = _key(name, slug)
            if not diff.first_time(key):
                continue
            if key not in existing:
                adopted = guessed.pop((name.casefold(), realm_key(slug)), None)
                old_key = adopted and _key(adopted.character_name, adopted.realm_slug)
                if adopted is not None and old_key not in roster_keys and old_key not in seen:
                    # the API's slug replaces the guess ("azjol-nerub" → "azjolnerub"), notes kept
                    seen.add(old_key)
                    adopted.realm_slug = slug
                    existing[key] = adopted
            wow_class = lookups.wow_class(record.get("class_id"), record.get("class_name"))
            if wow_class is None and (record.get("class_id") is not None or record.get("class_name")):
                stats.unknown_classes.append(f"{name}-{slug}: {record.get('class_name') or record.get('class_id')}")
            spec = lookups.spec(record.get("spec_id"), record.get("spec_name"), wow_class)
            if spec is None and (record.get("spec_id") or record.get("spec_name")):
                stats.unknown_specs.append(f"{name}-{slug}: {record.get('spec_name') or record.get('spec_id')}")
            rank = lookups.rank(record.get("rank_index"))
            if rank is None and record.get("rank_index") is not None:
                stats.unknown_ranks.append(f"{name}-{slug}: {record.get('rank_index')}")
            char = diff.character(key, character_name=name, realm_slug=slug)
            char.character_name = name
            char.realm_name = str(record.get("realm_name") or char.realm_name or "")[:64]
            char.blizzard_id = record.get("blizzard_id") or char.blizzard_id
            char.wow_class = wow_class
            char.active_spec = spec
            char.level = _small_int(record.get("level"))
            if record.get("item_level") is not None:
                char.item_level = _small_int(record.get("item_level"))
            char.guild_rank = rank
            if record.get("achievement_points") is not None:
                char.achievement_points = record.get("achievement_points")
            if record.get("last_login_at") is not None:
                char.last_login_at = record.get("last_login_at")
            if record.get("profile_json") is not None:
                char.profile_json = record.get("profile_json")
            char.last_api_sync = now
            char.removed_at = None
        diff.write(now=now, mark_missing_removed=mark_missing_removed)
    return stats


FIELDS_ADDON = ["character_name", "realm_slug", "realm_name", "addon_note", "addon_officer_note", "addon_last_sync",
                "wow_class", "guild_rank", "level", "removed_at"]


def realm_key(realm: str) -> str:
    """What two spellings of one realm share: accents dropped, casefolded, letters and digits
    only. "Twisting Nether", "TwistingNether" (the game's normalised name) and
    "twisting-nether" (the API's slug) all give ``twistingnether``."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", realm or "").casefold() if ch.isalnum())


@dataclass
class RealmIndex:
    """Realm spellings → the slug to store, built once per run from the characters already
    known. Slugs the Blizzard API gave (characters with ``last_api_sync``) and the configured
    ``BLIZZARD_REALM_SLUG`` win over slugs an earlier addon upload guessed."""

    by_key: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, characters: Iterable[WowCharacter], default_slug: str = "") -> RealmIndex:
        index = cls()
        guessed = [c for c in characters if c.last_api_sync is None]
        from_api = [c for c in characters if c.last_api_sync is not None]
        for group in (guessed, from_api):  # later writes win: the API's slugs last
            for char in group:
                index.by_key[realm_key(char.realm_slug)] = char.realm_slug
                if char.realm_name:
                    index.by_key[realm_key(char.realm_name)] = char.realm_slug
        if default_slug:
            index.by_key[realm_key(default_slug)] = default_slug
        return index

    def resolve(self, realm: str, realm_name: str = "", default: str = "") -> str:
        """A realm as the addon wrote it → a slug: a known one when any spelling matches,
        else Blizzard's rule applied to the display name (spaces included) when the export
        gave it, else to the normalised name with its CamelCase split ("TwistingNether" →
        ``twisting-nether``). Realms that break the rule ("AzjolNerub" → ``azjolnerub``)
        are right once the API sync has seen one character there."""
        for text in (realm, realm_name):
            slug = self.by_key.get(realm_key(text)) if text and realm_key(text) else None
            if slug:
                return slug
        text = (realm or "").strip()
        if realm_name and (not text or realm_key(realm_name) == realm_key(text)):
            slug = slug_rule(realm_name)
        elif text:
            if " " not in text and "-" not in text:
                text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)
            slug = slug_rule(text)
        else:
            return default
        if realm_key(slug):
            self.by_key[realm_key(slug)] = slug  # the next member on this realm gets the same slug
        return slug


def sync_addon_data(addon_data: Iterable[Mapping[str, Any]], *, mark_missing_removed: bool = False) -> SyncStats:
    """Write what only the addon knows (public and officer notes) and, when given, class,
    rank and level. Characters the addon sees but the API has not yet are created. The
    addon's roster is the whole guild too, but by default absence is left to the API sync
    (an officer may export from an alt guild); ``mark_missing_removed`` opts in."""
    records = list(addon_data)
    for record in records:
        _require_name(record)
    now = timezone.now()
    stats = SyncStats()
    with transaction.atomic():
        lock_for_update("blizzard")
        naming = apply_addon_rank_names(rank_names_from_records(records))  # the game's own rank names
        if naming.renamed or naming.kept or naming.conflicts:
            stats.rank_names = naming.as_dict()
        lookups = Lookups.load()
        all_chars = list(WowCharacter.objects.all())
        diff = _RosterDiff(all_chars, stats, FIELDS_ADDON, "addon_last_sync")
        default_realm = (settings.BLIZZARD_REALM_SLUG or "").lower()
        realms = RealmIndex.build(all_chars, default_realm)
        for record in records:
            name = _require_name(record)
            raw_realm = str(record.get("realm") or "").strip()
            display_realm = str(record.get("realm_name") or "").strip()
            slug = realms.resolve(raw_realm, display_realm, default_realm)
            if not slug:
                raise GuildSyncError(_("Character %(name)s has no realm and BLIZZARD_REALM_SLUG is not set.")
                                     % {"name": repr(name)})
            key = _key(name, slug)
            if not diff.first_time(key):
                continue
            char = diff.character(key, character_name=name, realm_slug=slug,
                                  realm_name=(display_realm or raw_realm)[:64])
            char.addon_note = str(record.get("guild_note") or "")[:NOTE_MAX]
            char.addon_officer_note = str(record.get("officer_note") or "")[:NOTE_MAX]
            char.addon_last_sync = now
            char.removed_at = None
            if record.get("class_name"):
                wow_class = lookups.wow_class(None, record["class_name"])
                if wow_class is None:
                    stats.unknown_classes.append(f"{name}-{slug}: {record['class_name']}")
                else:
                    char.wow_class = wow_class
            if record.get("rank_index") is not None:
                rank = lookups.rank(record["rank_index"])
                if rank is None:
                    stats.unknown_ranks.append(f"{name}-{slug}: {record['rank_index']}")
                else:
                    char.guild_rank = rank
            if record.get("level") is not None and _small_int(record["level"]) is not None:
                char.level = _small_int(record["level"])
        diff.write(now=now, mark_missing_removed=mark_missing_removed)
    return stats
