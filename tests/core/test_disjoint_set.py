"""``core.disjoint_set``: the groups are exactly the connected components of the links."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core.disjoint_set import DisjointSet


def components(items: list[int], links: list[tuple[int, int]]) -> set[frozenset[int]]:
    """The reference: grow each component by search over the links."""
    seen: set[int] = set()
    out = set()
    for start in items:
        if start in seen:
            continue
        comp, todo = {start}, [start]
        while todo:
            x = todo.pop()
            for a, b in links:
                for y in ((b,) if a == x else ()) + ((a,) if b == x else ()):
                    if y not in comp:
                        comp.add(y)
                        todo.append(y)
        seen |= comp
        out.add(frozenset(comp))
    return out


@given(st.integers(1, 30).flatmap(lambda n: st.tuples(
    st.just(list(range(n))), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=40))))
def test_groups_are_the_connected_components(case):
    items, links = case
    ds = DisjointSet(items)
    for a, b in links:
        ds.union(a, b)
    groups = ds.groups()
    assert {frozenset(g) for g in groups.values()} == components(items, links)
    assert all(ds.find(x) == root for root, members in groups.items() for x in members)
    assert [x for g in groups.values() for x in g] == sorted(items, key=lambda x: list(groups).index(ds.find(x)))


def test_groups_keep_the_given_order():
    ds = DisjointSet(["c", "a", "b", "d"])
    ds.union("d", "c")
    ds.union("b", "a")
    assert list(ds.groups().values()) == [["c", "d"], ["a", "b"]]
