"""Guild ranks 0–9 and the Discord roles that count as each (issue #12, defects 3 and 4).

A guild has at most ten ranks and the roster numbers them 0 (Guild Master) to 9. Every index
has a ``GuildRank`` row, so a character's rank is never unknown: ``ensure_ranks`` creates the
missing ones as placeholders ("Rank 7"). Names come from three places, in this order of
authority: an officer (never overwritten), the addon's upload (the game knows the guild's own
rank names; it renames placeholders and its earlier names) and the placeholder.

Which Discord roles count as a rank is a list per rank (``GuildRankRole``), e.g. "Guild Leader"
and "GM" for rank 0; the database keeps one role name to one rank.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from guildsync.models import GuildRank, GuildRankRole
from guildsync.reference_data import RANK_INDEXES, placeholder_rank_name
from guildsync.services.common import GuildSyncError

NameSource = GuildRank.NameSource
PLACEHOLDER = NameSource.PLACEHOLDER.value  # a plain string: historical models have no NameSource
ROLE_NAME_MAX = 100
RANK_NAME_MAX = 50


def ensure_ranks(model: type[GuildRank] = GuildRank) -> dict[int, GuildRank]:
    """Every rank index 0–9 has a row (placeholders for the missing ones); returns them by
    index. Idempotent and race-safe (``ignore_conflicts``); call inside the caller's transaction.
    ``model``: a migration's historical ``GuildRank`` (``services.reference``), else today's."""
    ranks = {r.blizzard_rank_index: r for r in model.objects.all()}
    missing = [i for i in RANK_INDEXES if i not in ranks]
    if missing:
        taken = {r.name.casefold() for r in ranks.values()}
        rows = []
        for index in missing:
            name = placeholder_rank_name(index)
            if name.casefold() in taken:  # an officer called another rank "Rank 7"
                name = f"{name} (index {index})"
            rows.append(model(blizzard_rank_index=index, name=name, name_source=PLACEHOLDER))
        model.objects.bulk_create(rows, ignore_conflicts=True)
        ranks = {r.blizzard_rank_index: r for r in model.objects.all()}
    return ranks


@dataclass
class RankNaming:
    renamed: list[str] = field(default_factory=list)  # "Rank 7 → Raider"
    kept: list[str] = field(default_factory=list)  # officer-named ranks the addon spells differently
    conflicts: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"renamed": self.renamed, "kept_officer_names": self.kept, "conflicts": self.conflicts}


def rank_names_from_records(records: Iterable[Mapping[str, Any]]) -> dict[int, str]:
    """(rank_index → rank_name) as the addon's parsed member records carry them
    (``addon_processor.extract_addon_records``: ``rank_index``, ``rank_name``). The first
    non-empty name per index wins; indexes outside 0–9 are ignored (the sync reports them)."""
    names: dict[int, str] = {}
    for record in records:
        try:
            index = int(record.get("rank_index"))
        except (TypeError, ValueError):
            continue
        name = str(record.get("rank_name") or "").strip()[:RANK_NAME_MAX]
        if index in RANK_INDEXES and name and index not in names:
            names[index] = name
    return names


def apply_addon_rank_names(names: Mapping[int, str]) -> RankNaming:
    """Name the ranks the way the game does. Placeholders and names an earlier upload gave are
    replaced; officers' names are kept. Two ranks never end up with one name: a clash with a
    rank that keeps its name leaves the addon's name out and says so. Call inside a transaction."""
    result = RankNaming()
    ranks = ensure_ranks()
    locked = {r.blizzard_rank_index: r for r in GuildRank.objects.select_for_update().order_by("blizzard_rank_index")}
    ranks.update(locked)
    wanted: dict[int, str] = {}
    for index, name in sorted(names.items()):
        rank = ranks[index]
        if rank.name == name:
            continue
        if rank.name_source == NameSource.OFFICER:
            result.kept.append(_("%(rank)s (the game calls it %(name)s)") % {"rank": rank.name, "name": name})
            continue
        wanted[index] = name
    final = {i: wanted.get(i, r.name) for i, r in ranks.items()}
    folded: dict[str, list[int]] = {}
    for index, name in final.items():
        folded.setdefault(name.casefold(), []).append(index)
    for index in list(wanted):
        if len(folded[wanted[index].casefold()]) > 1:
            result.conflicts.append(_("rank %(index)s: '%(name)s' is also another rank's name")
                                    % {"index": index, "name": wanted[index]})
            del wanted[index]
    if not wanted:
        return result
    changing = [ranks[i] for i in wanted]
    for rank in changing:  # two steps so swapped names never collide mid-update
        rank.name = f"~renaming~{rank.blizzard_rank_index}"
    GuildRank.objects.bulk_update(changing, ["name"])
    for rank in changing:
        old = ranks[rank.blizzard_rank_index]
        result.renamed.append(f"{rank.blizzard_rank_index}: {wanted[rank.blizzard_rank_index]}")
        old.name = wanted[rank.blizzard_rank_index]
        old.name_source = NameSource.ADDON
    GuildRank.objects.bulk_update(changing, ["name", "name_source"])
    return result


def _clean_role_names(role_names: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    seen: set[str] = set()
    for raw in role_names:
        name = str(raw).strip()
        if not name:
            continue
        if len(name) > ROLE_NAME_MAX:
            raise GuildSyncError(_("A Discord role name has at most %(max)s characters (%(name)s…).")
                                 % {"max": ROLE_NAME_MAX, "name": name[:30]})
        if name.casefold() not in seen:
            seen.add(name.casefold())
            cleaned.append(name)
    return cleaned


def save_guild_rank(rank_id: int, *, name: str, level: int, scheduling_weight: int,
                    role_names: Iterable[str]) -> GuildRank:
    """An officer edits a rank: its name (from then on never replaced by the addon), raid
    standing, weight and the Discord role names that count as it (replacing the list)."""
    name = (name or "").strip()
    if not name or len(name) > RANK_NAME_MAX:
        raise GuildSyncError(_("A rank needs a name of 1–%(max)s characters.") % {"max": RANK_NAME_MAX})
    roles = _clean_role_names(role_names)
    try:
        with transaction.atomic():
            rank = GuildRank.objects.select_for_update().filter(pk=rank_id).first()
            if rank is None:
                raise GuildSyncError(_("This rank no longer exists."))
            if GuildRank.objects.exclude(pk=rank_id).filter(name__iexact=name).exists():
                raise GuildSyncError(_("Another rank is already called '%(name)s'.") % {"name": name})
            taken = (GuildRankRole.objects.exclude(rank_id=rank_id)
                     .annotate(folded=Lower("role_name")).filter(folded__in=[r.casefold() for r in roles])
                     .select_related("rank").first())
            if taken is not None:
                raise GuildSyncError(_("The Discord role '%(role)s' already counts as %(rank)s.")
                                     % {"role": taken.role_name, "rank": taken.rank.name})
            if rank.name != name:
                rank.name, rank.name_source = name, NameSource.OFFICER
            rank.level, rank.scheduling_weight = level, scheduling_weight
            rank.save(update_fields=["name", "name_source", "level", "scheduling_weight"])
            rank.discord_roles.all().delete()
            GuildRankRole.objects.bulk_create([GuildRankRole(rank=rank, role_name=r) for r in roles])
    except IntegrityError as exc:  # a concurrent edit took the name or a role first
        raise GuildSyncError(_("Rank not saved: another officer saved a clashing name or role just now.")) from exc
    return rank


@dataclass(frozen=True)
class RankRoles:
    """The Discord role names of every rank, read once: ``index_of`` maps a casefolded role
    name to its rank index (lower = more senior)."""

    by_index: dict[int, tuple[str, ...]]

    @classmethod
    def load(cls) -> RankRoles:
        by_index: dict[int, list[str]] = {}
        for index, role in GuildRankRole.objects.values_list("rank__blizzard_rank_index", "role_name"):
            by_index.setdefault(index, []).append(role)
        return cls({i: tuple(names) for i, names in by_index.items()})

    def index_of(self, role_name: str) -> int | None:
        folded = (role_name or "").strip().casefold()
        for index in sorted(self.by_index):
            if any(r.casefold() == folded for r in self.by_index[index]):
                return index
        return None

    def most_senior_first(self) -> list[tuple[int, str]]:
        return [(i, r) for i in sorted(self.by_index) for r in self.by_index[i]]
