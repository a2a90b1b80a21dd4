"""The SavedVariables parser against hostile and real-world input (issue 12, defects 1, 2, 9).

* Linear time: each pathological family from the issue is parsed at 1× and 8× its size and the
  CPU times are compared with each other (a linear parser takes ~8×; the old one took 64×
  for the quadratic families and never finished the exponential one). No absolute times.
* Fuzzing: arbitrary bytes and Lua-ish token soups either parse or raise SavedVariablesError,
  nothing else, each within a CPU-time budget hundreds of times what it needs.
* Bytes that are not UTF-8 inside strings (a real TradeSkillMaster export) are read, not refused.
* Memory: a file of empty tables is refused at the table limit instead of filling memory.
"""

from __future__ import annotations

import contextlib
import time
import tracemalloc
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guildsync.services.addon_processor import (
    SavedVariablesError,
    parse_saved_variables,
)

# Each family at size n; all are refused, and all used to cost more than linear time.
FAMILIES: dict[str, Callable[[int], str]] = {
    # exponential before: 53 bytes took 10.8 s, each extra "\z " tripled it
    "unterminated string of \\z": lambda n: 'X = "' + "\\z " * n,
    "unterminated single-quoted \\z across lines": lambda n: "X = '" + "\\z\n" * n,
    # quadratic before: every unterminated opening rescanned to the end
    "repeated [[": lambda n: "X = {" + "[[" * n,
    "repeated --[[": lambda n: "X = {" + "--[[" * n,
    "repeated [==[": lambda n: "X = {" + "[==[" * n,
    "repeated --[==[": lambda n: "X = {" + "--[==[" * n,
    "escaped quotes never closed": lambda n: "X = \"" + "\\'" * n,
    "alternating openers": lambda n: "X = {" + "\"\\'[[" * n,
    "keys never closed": lambda n: "X = {" + '["a' * n,
    "long run of =": lambda n: "X = {[" + "=" * n,
}
# Valid but large: the cost must stay linear too.
VALID: dict[str, Callable[[int], str]] = {
    "empty tables": lambda n: "X = {" + "{}," * n + "}",
    "numbers": lambda n: "X = {" + "1," * n + "}",
    "nested keys": lambda n: "X = {" + '["k"] = {["a"] = "b"},' * n + "}",
}


def _cpu(fn: Callable[[], object], repeat: int = 3) -> float:
    """Best CPU time of a few runs (CPU time, not wall time: the machine is shared)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return max(best, 1e-6)


def _parse_or_error(text: str) -> None:
    with contextlib.suppress(SavedVariablesError):
        parse_saved_variables(text, max_bytes=0, max_tables=0)


@pytest.mark.parametrize("family", sorted(FAMILIES) + sorted(VALID))
def test_parse_time_grows_linearly(family):
    make = FAMILIES.get(family) or VALID[family]
    base = 20_000
    small, large = make(base), make(base * 8)
    if family in FAMILIES:
        with pytest.raises(SavedVariablesError):
            parse_saved_variables(small, max_bytes=0)
    ratio = _cpu(lambda: _parse_or_error(large)) / _cpu(lambda: _parse_or_error(small))
    # linear is ~8; quadratic would be ~64. 24 leaves room for noise and allocator effects.
    assert ratio < 24, f"{family}: 8× the input took {ratio:.1f}× the time"


def test_issue_examples_are_refused_with_a_position():
    with pytest.raises(SavedVariablesError, match="unfinished string") as info:
        parse_saved_variables('X = "' + "\\z " * 16)  # 53 bytes, 10.8 s before
    assert (info.value.line, info.value.column) == (1, 5)
    with pytest.raises(SavedVariablesError, match="unfinished long string") as info:
        parse_saved_variables("X = {" + "[[" * 40_000)  # 80 KB, about 46 s before
    assert (info.value.line, info.value.column) == (1, 6)
    with pytest.raises(SavedVariablesError, match="unfinished block comment"):
        parse_saved_variables("X = {" + "--[[" * 40_000)
    with pytest.raises(SavedVariablesError, match="unfinished long string"):
        parse_saved_variables("X = {" + "[==[" * 40_000)


# -- fuzzing ---------------------------------------------------------------------------------------

BUDGET = 0.5  # CPU seconds per input; a few-KB input takes about a millisecond
TOKENS = ["X", "Y", "_", " = ", "=", "==", "{", "}", "[", "]", "[[", "]]", "[=[", "]=]", "[==[", "]==]", "--",
          "--[[", "--[==[", "-- [1]", "\n", "\r\n", "\t", " ", ",", ";", '"', "'", "\\", "\\z", "\\z ", "\\z\n",
          "\\\n", "\\x", "\\x4", "\\u{", "\\u{41}", "\\255", "\\256", "\\ddd", '"a"', "'b'", '"\\""', "[[x]]",
          "1", "-1", "1.5", "1e", "1e+5", "0x", "0x1p4", ".5", "-", "true", "false", "nil", "function",
          '["k"] = ', "[1] = ", "k = ", "é", "\x93", "\x00", "\ufeff", "|cff00ff00", "\u0416"]


def _check(data: str | bytes) -> None:
    start = time.process_time()
    try:
        result = parse_saved_variables(data, max_bytes=0)
    except SavedVariablesError as err:
        assert err.line is None or (err.line >= 1 and err.column >= 1)
        assert err.message
    else:
        assert isinstance(result, dict)
        assert all(isinstance(k, str) for k in result)
    spent = time.process_time() - start
    assert spent < BUDGET, f"{spent:.3f} s of CPU for {len(data)} characters"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_fuzz_arbitrary_bytes(data):
    _check(data)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=300).map("".join))
def test_fuzz_lua_token_soup(text):
    _check(text)
    _check(text.encode("utf-8", "surrogatepass"))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=12), st.integers(min_value=50, max_value=400))
def test_fuzz_repeated_token_soup(pattern, times):
    """A short soup repeated many times: the shape of every pathological family above."""
    _check("X = {" + "".join(pattern) * times)


def test_numerals_too_long_for_an_int_are_floats_like_in_lua():
    digits = "9" * 5000  # past Python's 4,300-digit int conversion limit
    parsed = parse_saved_variables(f"X = {{[{digits}] = {digits}, {digits}, a = -{digits}}}", max_bytes=0)["X"]
    assert parsed == {float("inf"): float("inf"), 1: float("inf"), "a": float("-inf")}


# -- bytes that are not UTF-8 (defect 2) ----------------------------------------------------------

# The first lines are a real TradeSkillMaster.lua SavedVariables file as the client wrote it
# (leading newline, tabs, "-- [n]" markers): kokonutkrew/warcraft-ui,
# _retail_/WTF/Account/384591484#1/SavedVariables/TradeSkillMaster.lua (commit 0b63673b).
# The string with raw bytes is the one the issue found in a real TSM export: TSM stores binary
# data in strings and the client writes the bytes as they are ("\x16\x93\x1e...").
TSM_EXPORT = (
    b'\nTradeSkillMasterDB = {\n'
    b'\t["f@Horde - Tichondrius@internalData@guildGoldLogLastUpdate"] = {\n\t},\n'
    b'\t["s@Samoantotems - Horde - Tichondrius@internalData@goldLogLastUpdate"] = 0,\n'
    b'\t["p@KokonutKrew-Backup@gatheringOptions@sources"] = {\n'
    b'\t\t"vendor", -- [1]\n\t\t"guildBank", -- [2]\n\t},\n'
    b'\t["s@\xc3\x90evastation - Horde - Tichondrius@internalData@playerProfessions"] = {\n\t},\n'
    b'\t["_syncData"] = "\x16\x93\x1e\xe9\x80AB\xff",\n'
    b'}\n'
    b'--[[ a comment with \x93 raw bytes ]]\n'
)


def test_raw_bytes_that_are_not_utf8_inside_strings_are_read_like_lua():
    """Defect 2: the whole file was refused with "not a text file: byte 0x93"."""
    db = parse_saved_variables(TSM_EXPORT)["TradeSkillMasterDB"]
    # each invalid sequence becomes U+FFFD; valid UTF-8 around it is kept ("\xe9\x80" is cut short)
    assert db["_syncData"] == "\x16\ufffd\x1e\ufffdAB\ufffd"
    assert db["p@KokonutKrew-Backup@gatheringOptions@sources"] == ["vendor", "guildBank"]
    assert "s@Ðevastation - Horde - Tichondrius@internalData@playerProfessions" in db
    # the same bytes written as \ddd escapes give the same value
    escaped = TSM_EXPORT.replace(b"\x16\x93\x1e\xe9\x80AB\xff", b"\\022\\147\\030\\233\\128AB\\255")
    assert parse_saved_variables(escaped)["TradeSkillMasterDB"] == db


def test_raw_bytes_in_keys_long_strings_and_text_input():
    data = b'X = {["k\x93"] = [[long \x93]], [1.5] = "\x93\\n"}'
    assert parse_saved_variables(data) == {"X": {"k\ufffd": "long \ufffd", 1.5: "\ufffd\n"}}
    # str input holding lone surrogates (e.g. decoded elsewhere with surrogateescape) is the same
    assert parse_saved_variables(data.decode("utf-8", "surrogateescape")) == {
        "X": {"k\ufffd": "long \ufffd", 1.5: "\ufffd\n"}}


def test_raw_bytes_outside_strings_are_a_positioned_error():
    with pytest.raises(SavedVariablesError, match=r"byte 0x93, which is not UTF-8") as info:
        parse_saved_variables(b"X = {\n  1,\n  \x93}")
    assert (info.value.line, info.value.column) == (3, 3)


# -- memory (defect 9) ------------------------------------------------------------------------------

def test_a_file_of_empty_tables_is_refused_before_it_fills_memory():
    """5 MB of "{}," cost about 430 MiB before; now the table limit stops it early."""
    text = "X = {" + "{}," * 1_700_000 + "}"
    tracemalloc.start()
    try:
        with pytest.raises(SavedVariablesError, match="more than 200,000 tables") as info:
            parse_saved_variables(text, max_bytes=0)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.line == 1 and info.value.column == 6 + 3 * 199_999
    assert peak < 40 * 1024 * 1024, f"peak {peak / 2**20:.0f} MiB"
    assert len(parse_saved_variables("X = {" + "{}," * 1000 + "}", max_tables=1001)["X"]) == 1000
    with pytest.raises(SavedVariablesError, match="more than 1,000 tables"):
        parse_saved_variables("X = {" + "{}," * 1000 + "}", max_tables=1000)


def test_memory_of_a_valid_five_megabyte_file_stays_a_small_multiple_of_its_size():
    text = "X = {" + '"ab",' * 1_000_000 + "}"
    tracemalloc.start()
    try:
        assert len(parse_saved_variables(text, max_bytes=0)["X"]) == 1_000_000
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * len(text), f"peak {peak / 2**20:.0f} MiB for {len(text) / 2**20:.0f} MiB"
