"""The pairing draw: a permutation without fixed points that avoids forbidden pairs.

Pure Python, no database: ``ratmas.services.generate_pairings`` feeds it participant ids and
the forbidden pairs (exclusions, last year's pairs) and stores the answer.

How it draws, and why:

1. **Rejection sampling** of a random permutation, built by Fisher–Yates and abandoned at the
   first forbidden position. Conditioned on acceptance this is *exactly* uniform over all
   valid assignments, and with few constraints it succeeds in a handful of tries (about
   ``e^(1 + average forbidden per person)``). Its work is capped so it never dominates.
2. When constraints bite, a **randomised bipartite perfect matching** on the allowed graph
   (giver → receiver, self and forbidden pairs removed): start from a random permutation
   with its forbidden positions dropped, then augment along alternating paths (BFS, visiting
   receivers in random order). A perfect matching of that graph *is* a valid assignment, so
   this finds one whenever one exists (Berge). The graph is dense and stored by its sparse
   complement, so a BFS costs O(n + forbidden pairs) with the "unvisited set" trick.
   The result is then mixed by random valid swaps of two Santas' recipients (a symmetric
   Markov chain whose stationary distribution is uniform over the assignments it reaches).
3. When the BFS from a Santa finds no augmenting path, the Santas it reached (S) can only
   give to the recipients it reached (N(S)), and |N(S)| = |S| - 1: Hall's condition fails,
   which is the proof of impossibility, and those people are named in the error.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Container, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain

REJECTION_WORK_PER_PERSON = 40  # Fisher–Yates steps per participant before falling back
MIN_REJECTION_WORK = 20_000
MIX_SWEEPS = 3  # random swap proposals per participant after a matching


@dataclass
class InfeasibleError(Exception):
    """No valid assignment exists. ``givers`` can only give to ``receivers`` between them
    (fewer receivers than givers): Hall's condition fails for that group."""

    kind: str  # "too_few" | "no_receivers" | "no_givers" | "group"
    givers: list[Hashable] = field(default_factory=list)
    receivers: list[Hashable] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.kind}: givers {self.givers} can only give to {self.receivers}"


@dataclass
class Draw:
    assignment: dict[Hashable, Hashable]  # santa → recipient
    method: str  # "rejection" (exactly uniform) | "matching" (matching + swap mixing)


def draw(ids: Sequence[Hashable], forbidden: Mapping[Hashable, Iterable[Hashable]],
         rng: random.Random | None = None) -> Draw:
    """A random valid assignment of ``ids`` (each gives once, receives once, never to
    themselves nor to a receiver in ``forbidden[giver]``), or :class:`InfeasibleError`."""
    rng = rng or random.Random()
    n = len(ids)
    if len(set(ids)) != n:
        raise ValueError("participant ids must be distinct")
    if n < 2:
        raise InfeasibleError("too_few", list(ids), [])
    index = {pid: i for i, pid in enumerate(ids)}
    forb: list[frozenset[int]] = [frozenset()] * n
    known = index.keys()
    for giver, receivers in forbidden.items():
        if giver not in index:
            continue
        wanted = known & set(receivers)  # set operations and map(): C speed for big clusters
        wanted.discard(giver)
        forb[index[giver]] = frozenset(map(index.__getitem__, wanted))

    _check_degrees(ids, forb)
    perm = _rejection(forb, rng)
    method = "rejection"
    if perm is None:
        perm = _matching(ids, forb, rng)
        _mix(perm, forb, rng)
        method = "matching"
    return Draw({ids[g]: ids[r] for g, r in enumerate(perm)}, method)


def _check_degrees(ids: Sequence[Hashable], forb: list[frozenset[int]]) -> None:
    """The obvious impossibilities, named precisely: someone who may give to nobody, or
    whom nobody may give to."""
    n = len(ids)
    for g, fg in enumerate(forb):
        if len(fg) >= n - 1:
            raise InfeasibleError("no_receivers", [ids[g]], [])
    givers_forbidding = Counter(chain.from_iterable(forb))
    for r, count in givers_forbidding.items():
        if count >= n - 1:
            raise InfeasibleError("no_givers", [], [ids[r]])


def _rejection(forb: list[frozenset[int]], rng: random.Random) -> list[int] | None:
    n = len(forb)
    forbidden_total = n + sum(len(f) for f in forb)
    acceptance = math.exp(-forbidden_total / n)  # Poisson estimate of P(random permutation is valid)
    budget = max(REJECTION_WORK_PER_PERSON * n, MIN_REJECTION_WORK)
    if acceptance * budget / n < 0.5:  # hopeless: not even half a success expected
        return None
    rnd = rng.random
    work = 0
    while work < budget:
        perm = list(range(n))
        ok = True
        for i in range(n):
            j = i + int(rnd() * (n - i))
            perm[i], perm[j] = perm[j], perm[i]
            r = perm[i]
            if r == i or r in forb[i]:
                ok = False
                work += i + 1
                break
        if ok:
            return perm
    return None


def _matching(ids: Sequence[Hashable], forb: list[frozenset[int]], rng: random.Random) -> list[int]:
    n = len(forb)
    start = list(range(n))
    rng.shuffle(start)
    match: list[int] = [-1] * n  # giver → receiver
    owner: list[int] = [-1] * n  # receiver → giver
    for g, r in enumerate(start):
        if r != g and r not in forb[g]:
            match[g], owner[r] = r, g
    free_givers = [g for g in range(n) if match[g] < 0]
    free_receivers = [r for r in range(n) if owner[r] < 0]
    rng.shuffle(free_givers)
    order = list(range(n))  # one random visiting order, rotated per search
    rng.shuffle(order)
    for u in free_givers:
        rng.shuffle(free_receivers)
        stuck = _augment(u, match, owner, forb, free_receivers, order, int(rng.random() * n))
        if stuck is not None:
            givers, receivers = stuck
            raise InfeasibleError("group", sorted((ids[g] for g in givers), key=str),
                             sorted((ids[r] for r in receivers), key=str))
    return match


def _allowed(g: int, r: int, forb: list[frozenset[int]]) -> bool:
    return r != g and r not in forb[g]


LOOKAHEAD = 32  # free receivers tried from each newly reached Santa before queuing them


def _augment(u: int, match: list[int], owner: list[int], forb: list[frozenset[int]], free: list[int],
             order: list[int], offset: int) -> tuple[list[int], list[int]] | None:
    """Match free giver ``u`` along an alternating path (BFS) to a free receiver; ``free``
    (the free receivers) is updated in place.

    Returns None on success; otherwise the givers and receivers the search reached: every
    receiver those givers may give to is among them and already taken by one of them, and
    there is one receiver fewer than givers (the Hall violator).
    """
    def take(f: int, via: dict[int, int]) -> None:
        free.remove(f)
        _flip(f, via, match, owner)

    for f in free:  # the common case: a direct edge to a free receiver
        if _allowed(u, f, forb):
            take(f, {f: u})
            return None
    lookahead = free[:LOOKAHEAD]
    unvisited = order[offset:] + order[:offset]
    via: dict[int, int] = {}  # receiver → giver it was reached from
    queue = [u]
    head = 0
    while head < len(queue):
        g = queue[head]
        head += 1
        keep: list[int] = []
        for r in unvisited:
            if not _allowed(g, r, forb):
                keep.append(r)  # charged to the forbidden pair (g, r): O(n + F) per search
                continue
            via[r] = g
            if owner[r] < 0:
                take(r, via)
                return None
            nxt = owner[r]
            for f in lookahead:  # short cut: the Santa just reached can take a free receiver
                if f not in via and _allowed(nxt, f, forb):
                    via[f] = nxt
                    take(f, via)
                    return None
            queue.append(nxt)
        unvisited = keep
    return queue, list(via)


def _flip(r: int, via: dict[int, int], match: list[int], owner: list[int]) -> None:
    while True:
        g = via[r]
        previous = match[g]
        match[g], owner[r] = r, g
        if previous < 0:
            return
        r = previous


def _mix(perm: list[int], forb: list[frozenset[int]], rng: random.Random) -> None:
    n = len(perm)
    rnd = rng.random
    for _ in range(MIX_SWEEPS * n):
        i = int(rnd() * n)
        j = int(rnd() * n)
        ri, rj = perm[i], perm[j]
        if i != j and _allowed(i, rj, forb) and _allowed(j, ri, forb):
            perm[i], perm[j] = rj, ri


def is_valid(assignment: Mapping[Hashable, Hashable], ids: Iterable[Hashable],
             forbidden: Mapping[Hashable, Container[Hashable]]) -> bool:
    """Independent check used by replace_pairings and the tests."""
    ids = set(ids)
    if set(assignment) != ids or set(assignment.values()) != ids:
        return False
    empty: frozenset = frozenset()
    return all(r != g and r not in forbidden.get(g, empty) for g, r in assignment.items())
