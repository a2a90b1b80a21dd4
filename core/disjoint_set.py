"""Grouping things that are linked pairwise ("keep these two together", "this character is an
alt of that one") into connected groups: a union-find, shared so that each app does not carry
its own copy of the same dozen lines."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

T = TypeVar("T", bound=Hashable)


class DisjointSet(Generic[T]):
    """Union-find with path halving: ``union`` and ``find`` in near-constant time, so grouping
    n items linked by m pairs is linear in practice (no recursion, any group size)."""

    def __init__(self, items: Iterable[T]) -> None:
        self.parent: dict[T, T] = {x: x for x in items}

    def find(self, x: T) -> T:
        """The representative of ``x``'s group (the same for every member)."""
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: T, b: T) -> None:
        """Put ``a`` and ``b`` (and their groups) in one group."""
        self.parent[self.find(a)] = self.find(b)

    def groups(self) -> dict[T, list[T]]:
        """Representative → members, groups and members in the order the items were given."""
        out: dict[T, list[T]] = {}
        for x in self.parent:
            out.setdefault(self.find(x), []).append(x)
        return out
