"""The team draft: once a match locks, split its active players into two teams of equal total
power, under the officers' constraints (keep together, keep apart, a captain per team); let
officers move a governor between teams; publish both teams to the confirmation channel and keep
that post in step (the same ``MessageRef`` mechanism as the roster).

The split is exact. Constraints first reduce the players to *components*: "keep together"
merges governors into groups (union-find), "keep apart" links groups that must sit on opposite
teams, and a component of linked groups is 2-coloured, so it has two ways to lie (or one, when a
captain fixes it). Contradictions are found here and named. Then every component is one binary
choice, and a meet-in-the-middle search over the choices (2 × 2^(k/2) combinations for k free
components, k ≤ 30, vectorised with numpy) finds the assignment with the right team size and
the smallest power gap. ``bench/ark_draft.py`` times a 30-player draft against the 50 ms target.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.db import transaction
from django.utils.translation import gettext as _

from core.disjoint_set import DisjointSet

from ..models import TEAMS, DraftConstraint, Governor, Match, MessageRef, Signup
from .common import MatchStatus, SignupStatus, Slot, _audit, _lock_match, _now
from .discord_sync import _bump, _sync_message
from .errors import ArkError, NotFoundError

MAX_DRAFT_PLAYERS = 30


class DraftInfeasibleError(ArkError):
    """The officers' constraints cannot all hold; the message names them."""


@dataclass(frozen=True)
class Rule:
    """A constraint on governor ids: ``together``/``apart`` (a, b) or ``captain`` (a, team)."""

    kind: str
    a: int
    b: int | None = None
    team: int | None = None

    def describe(self, names: dict[int, str]) -> str:
        if self.kind == "captain":
            return _("%(governor)s captains team %(team)s") % {"governor": names.get(self.a, self.a), "team": self.team}
        verb = _("keep together") if self.kind == "together" else _("keep apart")
        return f"{verb} {names.get(self.a, self.a)} and {names.get(self.b, self.b)}"


@dataclass
class DraftPlan:
    team1: list[int]
    team2: list[int]
    power1: int
    power2: int

    @property
    def gap(self) -> int:
        return abs(self.power1 - self.power2)


def _infeasible(rules: Sequence[Rule], names: dict[int, str], why: str) -> DraftInfeasibleError:
    listed = "; ".join(r.describe(names) for r in rules)
    return DraftInfeasibleError(_("The draft constraints cannot all hold (%(why)s): %(listed)s.") % {"why": why, "listed": listed})


def split_teams(
    powers: dict[int, int], rules: Sequence[Rule] = (), names: dict[int, str] | None = None
) -> DraftPlan:
    """Exact split of ``powers`` (governor id → power): team 1 gets ⌈n/2⌉ players and team 2 the
    rest, with the smallest power gap that ``rules`` allow. Pure (the brute-force test checks it)."""
    names = names or {}
    ids = sorted(powers)
    n = len(ids)
    if n < 2:
        raise ArkError(_("A draft needs at least two players."))
    if n > MAX_DRAFT_PLAYERS:
        raise ArkError(_("A draft splits at most %(count)s players.") % {"count": MAX_DRAFT_PLAYERS})
    for r in rules:
        for gid in (r.a, r.b):
            if gid is not None and gid not in powers:
                raise ArkError(_("The constraint '%(rule)s' names a governor who is not a player.") % {"rule": r.describe(names)})
    # union-find over "keep together"
    together = DisjointSet(ids)
    find = together.find
    for r in rules:
        if r.kind == "together":
            together.union(r.a, r.b)
    groups = together.groups()
    size1 = (n + 1) // 2
    for members in groups.values():
        if len(members) > size1:
            involved = [r for r in rules if r.kind == "together" and find(r.a) == find(members[0])]
            raise _infeasible(involved, names, _("%(count)s governors kept together but a team has %(size)s places") % {"count": len(members), "size": size1})
    # "keep apart" edges between groups, captains fix a group's team
    adj: dict[int, list[tuple[int, Rule]]] = {root: [] for root in groups}
    fixed: dict[int, tuple[int, Rule]] = {}
    for r in rules:
        if r.kind == "apart":
            ra, rb = find(r.a), find(r.b)
            if ra == rb:
                involved = [x for x in rules if x.kind == "together" and find(x.a) == ra] + [r]
                raise _infeasible(involved, names, _("two governors kept apart are also kept together"))
            adj[ra].append((rb, r))
            adj[rb].append((ra, r))
        elif r.kind == "captain":
            if r.team not in TEAMS:
                raise ArkError(_("A captain's team is 1 or 2."))
            root = find(r.a)
            if root in fixed and fixed[root][0] != r.team:
                raise _infeasible([fixed[root][1], r], names, _("captains of both teams are kept together"))
            fixed[root] = (r.team, r)
    # 2-colour each component of groups: colour 0 = same side as the component's root group
    colour: dict[int, int] = {}
    components: list[tuple[list[int], list[int], int | None]] = []  # (side0 ids, side1 ids, forced team of side0)
    for root in groups:
        if root in colour:
            continue
        colour[root] = 0
        order, stack, used_rules = [root], [root], []
        while stack:
            cur = stack.pop()
            for nxt, rule in adj[cur]:
                used_rules.append(rule)
                if nxt not in colour:
                    colour[nxt] = 1 - colour[cur]
                    order.append(nxt)
                    stack.append(nxt)
                elif colour[nxt] == colour[cur]:
                    raise _infeasible(sorted(set(used_rules), key=rules.index), names, _("an odd circle of 'keep apart'"))
        forced: int | None = None
        forcing: Rule | None = None
        for g in order:
            if g in fixed:
                team, rule = fixed[g]
                side0_team = team if colour[g] == 0 else 3 - team
                if forced is not None and forced != side0_team:
                    raise _infeasible([forcing, rule, *used_rules], names, _("the captains' teams contradict 'keep apart'"))
                forced, forcing = side0_team, rule
        side0 = [m for g in order if colour[g] == 0 for m in groups[g]]
        side1 = [m for g in order if colour[g] == 1 for m in groups[g]]
        components.append((side0, side1, forced))
    # each component: option 0 puts side0 in team 1, option 1 puts side1 in team 1
    base_size, base_power = 0, 0
    free: list[tuple[tuple[int, int], tuple[int, int], list[int], list[int]]] = []
    chosen_fixed: list[int] = []
    for side0, side1, forced in components:
        s0, p0 = len(side0), sum(powers[g] for g in side0)
        s1, p1 = len(side1), sum(powers[g] for g in side1)
        if forced is None:
            free.append(((s0, p0), (s1, p1), side0, side1))
        else:
            team1 = side0 if forced == 1 else side1
            chosen_fixed.extend(team1)
            base_size += len(team1)
            base_power += sum(powers[g] for g in team1)
    total = sum(powers.values())
    best = _meet_in_the_middle(free, size1 - base_size, total - 2 * base_power)
    if best is None:
        involved = list(rules)
        raise _infeasible(involved, names, _("no split gives teams of %(size1)s and %(size2)s") % {"size1": size1, "size2": n - size1}) if involved else ArkError(
            _("No split of these players exists.")
        )
    team1 = list(chosen_fixed)
    for (_a, _b, side0, side1), bit in zip(free, best, strict=True):
        team1.extend(side1 if bit else side0)
    team1_set = set(team1)
    team2 = [g for g in ids if g not in team1_set]
    p1 = sum(powers[g] for g in team1)
    return DraftPlan(sorted(team1), team2, p1, total - p1)


def _enumerate(items) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All choices over ``items`` as arrays: team-1 size, team-1 power, bitmask of option-1s."""
    size = np.zeros(1, dtype=np.int64)
    power = np.zeros(1, dtype=np.int64)
    mask = np.zeros(1, dtype=np.int64)
    for i, ((s0, p0), (s1, p1), _a, _b) in enumerate(items):
        size = np.concatenate((size + s0, size + s1))
        power = np.concatenate((power + p0, power + p1))
        mask = np.concatenate((mask, mask | (1 << i)))
    return size, power, mask


def _meet_in_the_middle(free, need: int, target2: int) -> list[int] | None:
    """Choose one option per free component so team 1 gets ``need`` players and twice its power is
    as close as possible to ``target2`` (= total - 2·fixed power, i.e. the gap is minimised).

    Each half's 2^(k/2) choices are enumerated as numpy arrays; for every size split the right
    half is sorted by power and each left choice looks up its best partner with one vectorised
    binary search (integers throughout: the gap is |target2 - 2·(left + right)|)."""
    half = len(free) // 2
    left, right = free[:half], free[half:]
    ls, lp, lm = _enumerate(left)
    rs, rp, rm = _enumerate(right)
    best: tuple[int, int, int] | None = None  # (gap, left mask, right mask)
    for size in np.unique(ls):
        partner = need - int(size)
        r_idx = np.flatnonzero(rs == partner)
        if r_idx.size == 0:
            continue
        order = np.argsort(rp[r_idx], kind="stable")
        r_pow2, r_mask = 2 * rp[r_idx][order], rm[r_idx][order]
        l_idx = np.flatnonzero(ls == size)
        key = target2 - 2 * lp[l_idx]  # the doubled right power that would make the gap zero
        pos = np.searchsorted(r_pow2, key)
        for cand in (np.clip(pos - 1, 0, r_pow2.size - 1), np.clip(pos, 0, r_pow2.size - 1)):
            gaps = np.abs(key - r_pow2[cand])
            i = int(np.argmin(gaps))
            if best is None or int(gaps[i]) < best[0]:
                best = (int(gaps[i]), int(lm[l_idx[i]]), int(r_mask[cand[i]]))
    if best is None:
        return None
    _gap, lmask, rmask = best
    return [(lmask >> i) & 1 for i in range(len(left))] + [(rmask >> i) & 1 for i in range(len(right))]


# --- services ---------------------------------------------------------------------------------


def _players(match: Match) -> list[Signup]:
    return list(
        Signup.objects.select_for_update(of=("self",))
        .select_related("governor")
        .filter(match=match, status=SignupStatus.ACTIVE, slot=Slot.PLAYER)
        .order_by("created_at", "id")
    )


def _rules(match: Match) -> list[Rule]:
    return [
        Rule(c.kind, c.governor.governor_id, c.other.governor_id if c.other_id else None, c.team)
        for c in DraftConstraint.objects.filter(match=match).select_related("governor", "other")
    ]


def add_draft_constraint(
    *,
    match_id: int,
    kind: str,
    governor_id: int,
    other_governor_id: int | None = None,
    team: int | None = None,
    actor_discord_id: int | None = None,
) -> DraftConstraint:
    """An officer's draft rule: keep two governors together or apart, or make one a team's captain."""
    if kind not in DraftConstraint.Kind.values:
        raise ArkError(_("A draft constraint is together, apart or captain."))
    with transaction.atomic():
        match = _lock_match(match_id)
        govs = {g.governor_id: g for g in Governor.objects.filter(governor_id__in=[governor_id, other_governor_id])}
        if governor_id not in govs or (kind != "captain" and other_governor_id not in govs):
            raise NotFoundError(_("Both governors must be registered."))
        if kind == "captain":
            if team not in TEAMS:
                raise ArkError(_("A captain's team is 1 or 2."))
            if DraftConstraint.objects.filter(match=match, kind="captain", team=team).exists():
                raise ArkError(_("Team %(team)s already has a captain.") % {"team": team})
            other = None
        else:
            if other_governor_id == governor_id:
                raise ArkError(_("Name two different governors."))
            other, team = govs[other_governor_id], None
        row = DraftConstraint.objects.create(
            match=match, kind=kind, governor=govs[governor_id], other=other, team=team
        )
        _audit("draft_constraint_added", actor_discord_id, match=match, rule=str(row))
        return row


def remove_draft_constraint(*, constraint_id: int, actor_discord_id: int | None = None) -> None:
    with transaction.atomic():
        row = DraftConstraint.objects.select_related("match").filter(pk=constraint_id).first()
        if row is None:
            raise NotFoundError(_("Draft constraint #%(constraint_id)s does not exist.") % {"constraint_id": constraint_id})
        _lock_match(row.match_id)
        _audit("draft_constraint_removed", actor_discord_id, match=row.match, rule=str(row))
        row.delete()


def draft_teams(*, match_id: int, actor_discord_id: int | None = None, now: dt.datetime | None = None) -> DraftPlan:
    """Split a locked match's active players into two teams (team 1 gets the odd one), equal in
    power as exactly as the constraints allow. A published draft's post is edited."""
    now = _now(now)
    with transaction.atomic():
        match = _lock_match(match_id)
        if match.status != MatchStatus.LOCKED:
            raise ArkError(_("Teams are drafted once the match is locked (signups closed)."))
        players = _players(match)
        by_gov = {s.governor.governor_id: s for s in players}
        names = {gid: s.governor.name for gid, s in by_gov.items()}
        plan = split_teams({gid: s.governor.power or 0 for gid, s in by_gov.items()}, _rules(match), names)
        team_of = dict.fromkeys(plan.team1, 1) | dict.fromkeys(plan.team2, 2)
        for gid, signup in by_gov.items():
            if signup.team != team_of[gid]:
                signup.team = team_of[gid]
                signup.save(update_fields=["team", "updated_at"])
        match.drafted_at = now
        match.save(update_fields=["drafted_at", "updated_at"])
        _audit("draft_made", actor_discord_id, match=match, team1=plan.team1, team2=plan.team2,
               power1=plan.power1, power2=plan.power2)
        _bump(match)
        return plan


def move_to_team(*, signup_id: int, team: int, actor_discord_id: int | None = None) -> Signup:
    """Officer adjustment: put a drafted player in the other team (totals follow; a published
    draft's post is edited)."""
    if team not in TEAMS:
        raise ArkError(_("Choose team 1 or 2."))
    with transaction.atomic():
        row = Signup.objects.filter(pk=signup_id).values_list("match_id", flat=True).first()
        if row is None:
            raise NotFoundError(_("Signup #%(signup_id)s does not exist.") % {"signup_id": signup_id})
        match = _lock_match(row)
        signup = Signup.objects.select_for_update(of=("self",)).select_related("governor").get(pk=signup_id)
        if match.status != MatchStatus.LOCKED or signup.status != SignupStatus.ACTIVE or signup.slot != Slot.PLAYER:
            raise ArkError(_("Only an active player of a locked match can change team."))
        if signup.team == team:
            raise ArkError(_("%(governor)s is already in team %(team)s.") % {"governor": signup.governor.name, "team": team})
        before = signup.team
        signup.team = team
        signup.save(update_fields=["team", "updated_at"])
        _audit("draft_moved", actor_discord_id, match=match, signup=signup, before=before, after=team)
        _bump(match)
        return signup


def team_totals(match_id: int) -> dict[int, tuple[int, int]]:
    """Team → (players, total power) of the current draft."""
    totals = dict.fromkeys(TEAMS, (0, 0))
    for s in Signup.objects.filter(
        match_id=match_id, status=SignupStatus.ACTIVE, slot=Slot.PLAYER, team__isnull=False
    ).select_related("governor"):
        count, power = totals[s.team]
        totals[s.team] = (count + 1, power + (s.governor.power or 0))
    return totals


def publish_draft(*, match_id: int, actor_discord_id: int | None = None, now: dt.datetime | None = None) -> MessageRef:
    """Post both teams as an embed to the confirmation channel (through the outbox). Later
    changes (a move, a redraft, a promoted sub) edit that post."""
    now = _now(now)
    with transaction.atomic():
        match = _lock_match(match_id)
        if match.status != MatchStatus.LOCKED or match.drafted_at is None:
            raise ArkError(_("Draft the teams of the locked match first."))
        if not match.alliance.confirmation_channel_id:
            raise ArkError(_("%(alliance)s has no confirmation channel set.") % {"alliance": match.alliance.name})
        first = match.draft_published_at is None
        match.draft_published_at = now
        match.save(update_fields=["draft_published_at", "updated_at"])
        ref = _sync_message(match, MessageRef.Kind.DRAFT, repost=first)
        _audit("draft_published", actor_discord_id, match=match, first=first)
        return ref
