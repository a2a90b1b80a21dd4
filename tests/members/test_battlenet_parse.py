"""The Account Profile Summary parser (``guildsync.clients.parse_account_profile``) on anything a
broken or hostile answer could hold: it returns characters or says the answer was not a profile
(``BlizzardError``), never another exception, in time linear in the answer's size."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from guildsync.clients import BlizzardError, parse_account_profile

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=30)
character = st.fixed_dictionaries({
    "name": st.one_of(st.text(max_size=40), json_values), "id": st.one_of(st.integers(), json_values),
    "realm": st.one_of(st.fixed_dictionaries({"slug": st.one_of(st.text(max_size=80), json_values),
                                              "name": json_values}), json_values),
    "level": json_values})
profile = st.one_of(json_values, st.fixed_dictionaries({"wow_accounts": st.one_of(
    json_values, st.lists(st.fixed_dictionaries({"characters": st.one_of(st.lists(character, max_size=5),
                                                                          json_values)}), max_size=3))}))


@settings(max_examples=300, deadline=None)
@given(profile)
def test_any_answer_is_characters_or_a_clear_error(data):
    try:
        found = parse_account_profile(data)
    except BlizzardError:
        return
    for char in found:
        assert isinstance(char["id"], int) and char["name"] and char["realm_slug"]
        assert len(char["name"]) <= 24 and len(char["realm_slug"]) <= 64


def test_time_grows_linearly():
    def answer(n: int) -> dict:
        return {"wow_accounts": [{"characters": [{"name": f"C{i}", "id": i, "realm": {"slug": "area-52"},
                                                  "level": 70} for i in range(n)]}]}

    timings = []
    for n in (2_000, 20_000):
        data = answer(n)
        start = time.perf_counter()
        assert len(parse_account_profile(data)) == n
        timings.append(time.perf_counter() - start)
    assert timings[1] < timings[0] * 30  # ten times the characters, far from a hundred times the time
