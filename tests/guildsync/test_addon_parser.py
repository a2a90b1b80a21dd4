"""parse_saved_variables / extract_addon_records / format_saved_variables.

The parser reads what the game writes (both styles), never executes anything, and reports
every problem as SavedVariablesError with the line and column of the offending character.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.guildsync_parser import make_export
from core.errors import DomainError
from guildsync.services.addon_processor import (
    DEFAULT_MAX_BYTES,
    RECORD_KEYS,
    AddonFormatError,
    SavedVariablesError,
    SavedVariablesTooLargeError,
    extract_addon_records,
    format_saved_variables,
    parse_saved_variables,
)

LEGACY = """\
GuildSyncDB = {
\t["formatVersion"] = 1,
\t["lastExport"] = "Pull All The Things-Sen'jin",
\t["guilds"] = {
\t\t["Pull All The Things-Sen'jin"] = {
\t\t\t["guildName"] = "Pull All The Things",
\t\t\t["exportedAt"] = 1713800000,
\t\t\t["canViewOfficerNotes"] = true,
\t\t\t["ranks"] = {
\t\t\t\t"Guild Master", -- [1]
\t\t\t\t"Officer", -- [2]
\t\t\t},
\t\t\t["members"] = {
\t\t\t\t{
\t\t\t\t\t["name"] = "Trogmoon",
\t\t\t\t\t["realm"] = "Sen'jin",
\t\t\t\t\t["rankIndex"] = 0,
\t\t\t\t\t["rankName"] = "Guild Master",
\t\t\t\t\t["level"] = 80,
\t\t\t\t\t["className"] = "Druid",
\t\t\t\t\t["note"] = "|cffff0000Main|r",
\t\t\t\t\t["officerNote"] = "Discord: trog",
\t\t\t\t\t["online"] = false,
\t\t\t\t\t["itemLevel"] = 4.84000015258789,
\t\t\t\t}, -- [1]
\t\t\t\t{
\t\t\t\t\t["name"] = "Shadowbane",
\t\t\t\t\t["realm"] = "TwistingNether",
\t\t\t\t\t["rankIndex"] = 1,
\t\t\t\t\t["rankName"] = "Officer",
\t\t\t\t\t["level"] = 79,
\t\t\t\t\t["className"] = "Death Knight",
\t\t\t\t\t["note"] = "alt of Trogmoon",
\t\t\t\t\t["officerNote"] = "",
\t\t\t\t\t["online"] = true,
\t\t\t\t}, -- [2]
\t\t\t},
\t\t},
\t},
}
OtherAddonDB = {
\t["profileKeys"] = {
\t\t["Trogmoon - Sen'jin"] = "Default",
\t},
}
"""

CURRENT = re.sub(r"^\t+", "", re.sub(r" -- \[\d+\]$", "", LEGACY, flags=re.M), flags=re.M)

PARSED = {
    "GuildSyncDB": {
        "formatVersion": 1,
        "lastExport": "Pull All The Things-Sen'jin",
        "guilds": {"Pull All The Things-Sen'jin": {
            "guildName": "Pull All The Things", "exportedAt": 1713800000, "canViewOfficerNotes": True,
            "ranks": ["Guild Master", "Officer"],
            "members": [
                {"name": "Trogmoon", "realm": "Sen'jin", "rankIndex": 0, "rankName": "Guild Master", "level": 80,
                 "className": "Druid", "note": "|cffff0000Main|r", "officerNote": "Discord: trog", "online": False,
                 "itemLevel": 4.84000015258789},
                {"name": "Shadowbane", "realm": "TwistingNether", "rankIndex": 1, "rankName": "Officer", "level": 79,
                 "className": "Death Knight", "note": "alt of Trogmoon", "officerNote": "", "online": True},
            ],
        }},
    },
    "OtherAddonDB": {"profileKeys": {"Trogmoon - Sen'jin": "Default"}},
}


# -- both file styles --------------------------------------------------------------------------

@pytest.mark.parametrize("text", [LEGACY, CURRENT, LEGACY.replace("\n", "\r\n"), "\ufeff" + CURRENT],
                         ids=["pre-10.2.7", "current", "crlf", "bom"])
def test_both_styles_parse_to_the_same_data(text):
    assert "\t" not in CURRENT and "-- [" not in CURRENT
    assert parse_saved_variables(text) == PARSED


def test_bytes_input_is_utf8():
    assert parse_saved_variables(CURRENT.encode("utf-8")) == PARSED
    assert parse_saved_variables('X = "Ðrâgøn"'.encode()) == {"X": "Ðrâgøn"}


@pytest.mark.parametrize("text", ["", "   \n\t\n", "-- only a comment", "--[[ block\n comment ]]\n", ";"])
def test_empty_files_give_no_variables(text):
    assert parse_saved_variables(text) == {}


def test_several_variables_last_assignment_wins_and_nil_is_not_stored():
    text = 'A = 1\nB = "x"; C = {}\nA = 2\nD = nil\nE = true E2 = false\n'
    assert parse_saved_variables(text) == {"A": 2, "B": "x", "C": {}, "E": True, "E2": False}


# -- strings -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("lua", "value"), [
    (r'"plain"', "plain"),
    (r'""', ""),
    (r"''", ""),
    (r'"say \"hi\""', 'say "hi"'),
    (r"'it\'s'", "it's"),
    (r"'a \"quoted\" word'", 'a "quoted" word'),
    ("'double \" inside single'", 'double " inside single'),
    (r'"back\\slash"', "back\\slash"),
    (r'"line\nbreak"', "line\nbreak"),
    ('"backslash-\\\nnewline"', "backslash-\nnewline"),
    (r'"tab\there"', "tab\there"),
    (r'"\a\b\f\r\v"', "\a\b\f\r\v"),
    (r'"\65\066\0067"', "AB\x067"),
    (r'"nul\0byte"', "nul\x00byte"),
    (r'"\195\169t\195\169"', "été"),
    (r'"\x41\x4a"', "AJ"),
    (r'"\u{20AC} \u{1F600}"', "€ 😀"),
    ('"skip \\z   \n\t  whitespace"', "skip whitespace"),
    (r'"|cff00ff00green|r and ||pipes"', "|cff00ff00green|r and ||pipes"),
    (r'"\255"', "\ufffd"),  # not UTF-8 on its own: replacement character
    ('[[long\nstring with "quotes" and \\n]]', 'long\nstring with "quotes" and \\n'),
    ('[[\nfirst newline skipped]]', "first newline skipped"),
    ('[==[contains ]] and ]=]]==]', "contains ]] and ]=]"),
    ('"Ðrâgøn 龍"', "Ðrâgøn 龍"),
])
def test_strings_and_escapes(lua, value):
    assert parse_saved_variables(f"X = {lua}") == {"X": value}
    assert parse_saved_variables(f"X = {{{lua}}}") == {"X": [value]}


# -- numbers and keywords -------------------------------------------------------------------------

@pytest.mark.parametrize(("lua", "value"), [
    ("0", 0), ("42", 42), ("-42", -42), ("3.5", 3.5), ("-4.84000015258789", -4.84000015258789),
    ("1e3", 1000.0), ("1E-2", 0.01), ("2.5e+2", 250.0), (".5", 0.5), ("5.", 5.0), ("-.25", -0.25),
    ("0x1F", 31), ("0XfF", 255), ("-0x10", -16), ("0x1p4", 16.0), ("0x.8", 0.5), ("0xA.8p1", 21.0),
    ("9007199254740993", 9007199254740993), ("1e308", 1e308),
    ("true", True), ("false", False),
])
def test_numbers_and_booleans(lua, value):
    parsed = parse_saved_variables(f"X = {lua}\nY = {{{lua}}}")
    assert parsed == {"X": value, "Y": [value]}
    assert type(parsed["X"]) is type(value)


# -- tables ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("lua", "value"), [
    ("{}", {}),
    ('{"a", "b", "c"}', ["a", "b", "c"]),
    ('{"a", "b", "c",}', ["a", "b", "c"]),
    ('{"a"; "b"; "c";}', ["a", "b", "c"]),
    ('{[1] = "a", [2] = "b"}', ["a", "b"]),
    ('{[2] = "b", [1] = "a"}', ["a", "b"]),
    ('{[1.0] = "a", [2] = "b"}', ["a", "b"]),
    ('{[2] = "b"}', {2: "b"}),
    ('{[0] = "z", [1] = "a"}', {0: "z", 1: "a"}),
    ('{[1] = "a", [3] = "c"}', {1: "a", 3: "c"}),
    ("{1, nil, 3}", {1: 1, 3: 3}),
    ("{1, 2, nil}", [1, 2]),
    ("{nil}", {}),
    ('{["x"] = nil, ["y"] = 1}', {"y": 1}),
    ('{1, ["x"] = 2}', {1: 1, "x": 2}),
    ('{[1] = "keyed", "positional"}', ["positional"]),
    ("{x = 1, _y2 = {z = true}}", {"x": 1, "_y2": {"z": True}}),
    ('{[1.5] = "f", [-1] = "n", [true] = "t"}', {1.5: "f", -1: "n", True: "t"}),
    ('{["a\\"b"] = 1, [\'c\'] = 2, [ "spaced" ] = 3}', {'a"b': 1, "c": 2, "spaced": 3}),
    ('{["k"] --[[ c ]] = --[[ d ]] 1}', {"k": 1}),
    ('{{}, {{}}, {1, {2, {3}}}}', [{}, [{}], [1, [2, [3]]]]),
    ('{\n\t"a", -- [1]\n\t{\n\t\t["x"] = 1,\n\t}, -- [2]\n}', ["a", {"x": 1}]),
])
def test_tables_become_lists_or_dicts(lua, value):
    assert parse_saved_variables(f"X = {lua}") == {"X": value}


def test_comments_everywhere():
    text = """-- written by the game
--[==[ a block
comment ]==]
X = { -- trailing comment
\t--[[ inside ]] "a", -- [1]
\t"b" --[[ before the comma ]], -- [2]
} -- after
--[[ at the end without newline ]]"""
    assert parse_saved_variables(text) == {"X": ["a", "b"]}


# -- errors with exact positions -------------------------------------------------------------------

@pytest.mark.parametrize(("text", "message", "line", "column"), [
    ('X = {\n\t["a"] = 1,\n', "unexpected end of file", 3, 1),
    ('X = {\n\t["a"] = ', "unexpected end of file where a value should be (truncated file?)", 2, 10),
    ("X = {\n\t\"a\"", "unexpected end of file inside a table (missing '}'; truncated file?)", 2, 5),
    ("X =", "unexpected end of file where a value should be", 1, 4),
    ('X = "abc', "unfinished string", 1, 5),
    ('X = {\n["a"] = "b\nc"}', "unfinished string", 2, 9),
    ("X = {1 2}", "expected ',' or '}' in table, found '2'", 1, 8),
    ('X = {["a"] = 1 ["b"] = 2}', "expected ',' or '}' in table, found '['", 1, 16),
    ("X = {,}", "expected a value, found ','", 1, 6),
    ("X = {1,,2}", "expected a value, found ','", 1, 8),
    ("X = {\n  {,}}", "expected a value, found ','", 2, 4),
    ("X = {[,1] = 2}", "expected a table key, found ','", 1, 7),
    ("X = {[", "unexpected end of file where a value should be", 1, 7),
    ("X = {[1", "expected ']' after table key, found end of file", 1, 8),
    ('X = {["a"]', "expected '=' after table key, found end of file", 1, 11),
    ('X = {["a"] =', "unexpected end of file where a value should be", 1, 13),
    ("X = 1e", "malformed number '1e'", 1, 5),
    ("X = 0x", "malformed number '0x'", 1, 5),
    ("X = 1_000", "malformed number '1_000'", 1, 5),
    ("X = 12abc", "malformed number '12abc'", 1, 5),
    ("X = 1.2.3", "malformed number '1.2.3'", 1, 5),
    ("X = {[nil] = 1}", "table key is nil", 1, 7),
    ("X = {[1] = 1, [true] = 2}", "mixes boolean keys", 1, 16),
    ("X = {true = 1}", "'true' cannot be used as a table key name", 1, 6),
    ("= 1", "expected a variable name, found '='", 1, 1),
    ("X 1", "expected '=' after X, found '1'", 1, 3),
    ("X = 1,", "unexpected ',' after a variable's value", 1, 6),
    ("true = 1", "'true' cannot be used as a variable name", 1, 1),
    ("X = {}}", "expected a variable name, found '}'", 1, 7),
    ('["X"] = 1', "expected a variable name, found '['", 1, 1),
    ("X = foo", "expected a value, found 'foo'", 1, 5),
    ("X = function() end", "expected a value, found 'function'", 1, 5),
    ("X = os.execute('rm -rf /')", "expected a value, found 'os'", 1, 5),
    ('X = - "a"', "expected a number after '-'", 1, 5),
    ('X = "\\q"', "invalid escape sequence '\\q' in string", 1, 6),
    ('X = {"ok", "a\\256"}', "decimal escape \\256 is too large", 1, 14),
    ('X = {["a\\q"] = 1}', "invalid escape sequence", 1, 9),
    ("X = --[[ never closed", "unfinished block comment", 1, 5),
    ("--[[ never closed", "unfinished block comment", 1, 1),
    ("X = \x01", "expected a value, found character U+0001", 1, 5),
    ("X = 1\r\nY = {\r\n  1 2\r\n}", "expected ',' or '}' in table, found '2'", 3, 5),
    ("X = 1\nY = 'é\n", "unfinished string", 2, 5),
])
def test_errors_report_line_and_column(text, message, line, column):
    with pytest.raises(SavedVariablesError) as info:
        parse_saved_variables(text)
    err = info.value
    assert message in err.message
    assert (err.line, err.column) == (line, column), str(err)
    assert str(err) == f"line {line}, column {column}: {err.message}"


def test_error_classes_are_domain_errors():
    assert issubclass(SavedVariablesError, AddonFormatError) and issubclass(AddonFormatError, DomainError)
    assert issubclass(SavedVariablesTooLargeError, SavedVariablesError)


# -- hostile input ---------------------------------------------------------------------------------

def test_nesting_depth_is_limited():
    nested = parse_saved_variables("X = " + "{" * 100 + "}" * 100)["X"]
    for _ in range(99):
        nested = nested[0]
    assert nested == {}
    with pytest.raises(SavedVariablesError, match="nested more than 100 levels") as info:
        parse_saved_variables("X = " + "{" * 101 + "}" * 101)
    assert (info.value.line, info.value.column) == (1, 105)
    with pytest.raises(SavedVariablesError, match="nested more than 5 levels"):
        parse_saved_variables("X = {{{{{{}}}}}}", max_depth=5)


def test_a_million_open_braces_is_a_clean_error():
    with pytest.raises(SavedVariablesError, match="nested more than 100 levels"):
        parse_saved_variables("X = " + "{" * 1_000_000, max_bytes=0)
    with pytest.raises(SavedVariablesError, match="nested too deeply"):
        parse_saved_variables("X = " + "{" * 100_000, max_bytes=0, max_depth=10**9)


def test_huge_strings():
    big = "a" * 4_000_000
    assert parse_saved_variables(f'X = "{big}"')["X"] == big
    escaped = "\\n" * 1_000_000
    assert parse_saved_variables(f'X = {{"{escaped}"}}')["X"] == ["\n" * 1_000_000]
    with pytest.raises(SavedVariablesError, match="unfinished string") as info:
        parse_saved_variables(f'X = {{"ok",\n"{big}')
    assert (info.value.line, info.value.column) == (2, 1)


def test_binary_garbage_is_rejected_clearly():
    rng = random.Random(3)
    garbage = bytes(rng.randrange(256) for _ in range(4096))
    with pytest.raises(SavedVariablesError, match="not a text file"):
        parse_saved_variables(garbage)
    # bytes that are not UTF-8 are fine inside a string (issue 12, defect 2), an error elsewhere
    assert parse_saved_variables(b'X = {\n  "ok",\n  "\xff\xfe"}') == {"X": ["ok", "\ufffd\ufffd"]}
    with pytest.raises(SavedVariablesError, match="byte 0xFF, which is not UTF-8") as info:
        parse_saved_variables(b'X = {\n  "ok",\n  \xff\xfe}')
    assert (info.value.line, info.value.column) == (3, 3)
    with pytest.raises(SavedVariablesError, match="contains NUL bytes") as info:
        parse_saved_variables("X = 1\nY = 2\x00")
    assert (info.value.line, info.value.column) == (2, 6)
    with pytest.raises(SavedVariablesError, match="not a text file"):
        parse_saved_variables(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")


def test_size_limit(settings):
    settings.ADDON_UPLOAD_MAX_BYTES = 2048
    text = 'X = "' + "é" * 1100 + '"'  # 1,100 characters but 2,206 bytes
    with pytest.raises(SavedVariablesTooLargeError, match="2,206 bytes, over the 2,048-byte limit") as info:
        parse_saved_variables(text)
    assert info.value.line is None and str(info.value) == info.value.message
    with pytest.raises(SavedVariablesTooLargeError):
        parse_saved_variables(text.encode())
    assert parse_saved_variables(text, max_bytes=4096)["X"] == "é" * 1100
    assert parse_saved_variables(text, max_bytes=0)["X"] == "é" * 1100


def test_five_megabyte_export_parses_under_the_default_limit():
    members = 1000
    db = make_export(members)
    db["guilds"].update(make_export(members, seed=2, guild="Second Guild")["guilds"])
    text = format_saved_variables({"GuildSyncDB": db}, legacy=True)
    while len(text.encode()) < 4_800_000:
        more = make_export(members, seed=len(db["guilds"]) + 1, guild=f"Guild {len(db['guilds'])}")
        db["guilds"].update(more["guilds"])
        text = format_saved_variables({"GuildSyncDB": db}, legacy=True)
    assert len(text.encode()) <= DEFAULT_MAX_BYTES
    parsed = parse_saved_variables(text, max_bytes=DEFAULT_MAX_BYTES)
    assert parsed["GuildSyncDB"] == db
    assert len(extract_addon_records(parsed)) == members


@pytest.mark.parametrize("style", [True, False], ids=["pre-10.2.7", "current"])
def test_every_truncation_is_an_error_or_a_prefix_of_the_data(style):
    text = format_saved_variables({"GuildSyncDB": make_export(3)}, legacy=style)
    for cut in range(0, len(text), 7):
        try:
            parsed = parse_saved_variables(text[:cut])
        except SavedVariablesError as err:
            assert err.line is not None and 1 <= err.line <= text[:cut].count("\n") + 1
        else:
            assert parsed == {}  # only the empty prefix and comment/whitespace-only prefixes parse


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(list('X= {}[]",;\'\\-0123456789.exnilrutfa\n\t\x00\x01é')), max_size=60))
def test_fuzz_never_crashes_with_another_exception(text):
    try:
        result = parse_saved_variables(text)
    except SavedVariablesError as err:
        assert err.line is None or err.line >= 1
    else:
        assert isinstance(result, dict)


# -- round trip ------------------------------------------------------------------------------------

NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True).filter(lambda s: s not in ("true", "false", "nil"))
SCALARS = (st.booleans() | st.integers(min_value=-(2**63), max_value=2**63 - 1)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20))
KEYS = st.text(max_size=10) | st.integers(min_value=-5, max_value=2**40)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, min_size=1, max_size=5)
    | st.dictionaries(KEYS, children, min_size=1, max_size=5),
    max_leaves=25,
)


def expected(value):
    """What the parser gives back: keys exactly 1..n → list, empty tables → dict."""
    if isinstance(value, list):
        return [expected(v) for v in value]
    if isinstance(value, dict):
        if value and all(type(k) is int for k in value) and sorted(value) == list(range(1, len(value) + 1)):
            return [expected(value[n]) for n in range(1, len(value) + 1)]
        return {k: expected(v) for k, v in value.items()}
    return value


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(NAMES, VALUES, max_size=4), st.booleans())
def test_round_trip(variables, legacy):
    text = format_saved_variables(variables, legacy=legacy)
    assert parse_saved_variables(text) == expected(variables)


def test_writer_escapes_are_unambiguous():
    assert format_saved_variables({"X": "\x000\x011"}) == 'X = "\\0000\\0011"\n'
    assert parse_saved_variables(format_saved_variables({"X": "\x000\x011"})) == {"X": "\x000\x011"}


def test_writer_styles():
    data = {"DB": {"list": ["a", {"b": 1}], "n": 1.5, "flag": True, "s": 'q"\\\n\x01'}}
    legacy = format_saved_variables(data, legacy=True)
    assert legacy == ('DB = {\n\t["list"] = {\n\t\t"a", -- [1]\n\t\t{\n\t\t\t["b"] = 1,\n\t\t}, -- [2]\n\t},\n'
                      '\t["n"] = 1.5,\n\t["flag"] = true,\n\t["s"] = "q\\"\\\\\\n\\001",\n}\n')
    current = format_saved_variables(data)
    assert current == ('DB = {\n["list"] = {\n"a",\n{\n["b"] = 1,\n},\n},\n["n"] = 1.5,\n["flag"] = true,\n'
                       '["s"] = "q\\"\\\\\\n\\001",\n}\n')
    with pytest.raises(ValueError):
        format_saved_variables({"X": float("nan")})
    with pytest.raises(TypeError):
        format_saved_variables({"X": object()})


# -- slpp agrees on what it can read -----------------------------------------------------------------

def _plain(value):
    """slpp does not decode escapes: keep samples to text without backslashes, quotes or newlines."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return re.sub(r'[\\"\n]', "_", value)
    return value


@pytest.mark.parametrize("legacy", [True, False], ids=["pre-10.2.7", "current"])
@pytest.mark.parametrize("members", [1, 25, 200])
def test_same_result_as_slpp_on_sample_files(legacy, members):
    from slpp import slpp as lua

    text = format_saved_variables({"GuildSyncDB": _plain(make_export(members, seed=members))}, legacy=legacy)
    ours = parse_saved_variables(text)["GuildSyncDB"]
    theirs = lua.decode(text.split("=", 1)[1])
    assert ours == theirs


def test_same_result_as_slpp_on_the_hand_written_samples():
    from slpp import slpp as lua

    for text in (LEGACY, CURRENT):
        first = text.split("OtherAddonDB =")[0]
        assert parse_saved_variables(first)["GuildSyncDB"] == lua.decode(first.split("=", 1)[1])


# -- records -----------------------------------------------------------------------------------------

def test_records_from_an_export():
    records = extract_addon_records(PARSED)
    assert [tuple(r) for r in records] == [RECORD_KEYS] * 2
    assert records[0] == {"character_name": "Trogmoon", "realm": "Sen'jin", "realm_name": "",
                          "guild_note": "|cffff0000Main|r", "officer_note": "Discord: trog", "rank_index": 0, "rank_name": "Guild Master",
                          "class_name": "Druid", "level": 80}
    assert records[1]["realm"] == "TwistingNether" and records[1]["class_name"] == "Death Knight"


def test_records_carry_the_display_name_of_the_home_realm():
    """The game writes "TwistingNether" in "Name-Realm"; the export's realmName ("Twisting
    Nether") is the display name of the exporter's realm, so members there get it too."""
    db = make_export(4)
    export = next(iter(db["guilds"].values()))
    export.update(guildRealm="TwistingNether", realmName="Twisting Nether")
    for member, realm in zip(export["members"], ["TwistingNether", "twisting-nether", "Sen'jin", None], strict=True):
        member["realm"] = realm
    del export["members"][3]["realm"]  # a member without realm is on the exporter's
    records = extract_addon_records({"GuildSyncDB": db})
    assert [(r["realm"], r["realm_name"]) for r in records] == [
        ("TwistingNether", "Twisting Nether"), ("twisting-nether", "Twisting Nether"), ("Sen'jin", ""),
        ("TwistingNether", "Twisting Nether")]


def _db(**changes):
    db = make_export(2)
    export = next(iter(db["guilds"].values()))
    for key, value in changes.items():
        if key.startswith("member_"):
            field = key[len("member_"):]
            if value is None:
                export["members"][0].pop(field)
            else:
                export["members"][0][field] = value
        elif key.startswith("export_"):
            export[key[len("export_"):]] = value
        else:
            db[key] = value
    return {"GuildSyncDB": db}


@pytest.mark.parametrize(("parsed", "message"), [
    ({}, "no GuildSyncDB variable (found nothing)"),
    ({"SomethingElseDB": {}}, "no GuildSyncDB variable (found SomethingElseDB)"),
    ({"GuildSyncDB": "x"}, "GuildSyncDB should be a table"),
    ({"GuildSyncDB": {"guilds": {}}}, "has no formatVersion and is not an export of the origin addon"),
    (_db(formatVersion="1"), "formatVersion has the wrong type (str)"),
    (_db(formatVersion=2), "export format 2 is not supported"),
    (_db(guilds={}), "holds no guild export yet"),
    (_db(guilds=[1]), "holds no guild export yet"),
    (_db(export_canViewOfficerNotes=False), "cannot read officer notes"),
    (_db(export_members={"a": 1}), "members should be a list"),
    (_db(member_name=None), "has no 'name' field"),
    (_db(member_name="  "), "name is empty"),
    (_db(member_rankIndex=True), "rankIndex has the wrong type (bool)"),
    (_db(member_level="80"), "level should be a whole number"),
    (_db(member_note=5), "note should be text, not int"),
    (_db(export_members=["x"]), "members[1] should be a table"),
])
def test_records_reject_files_that_are_not_our_export(parsed, message):
    with pytest.raises(AddonFormatError, match=re.escape(message)):
        extract_addon_records(parsed)


def test_records_pick_a_guild_and_accept_an_empty_roster():
    db = make_export(3)
    db["guilds"].update(make_export(1, guild="Bank Guild")["guilds"])
    parsed = {"GuildSyncDB": db}
    assert len(extract_addon_records(parsed)) == 3  # lastExport points at the first guild
    assert len(extract_addon_records(parsed, guild="bank guild")) == 1
    assert len(extract_addon_records(parsed, guild="Bank Guild-Sen'jin")) == 1
    with pytest.raises(AddonFormatError, match="no export for the guild 'Nope'"):
        extract_addon_records(parsed, guild="Nope")
    del db["lastExport"]
    db["guilds"]["Bank Guild-Sen'jin"]["exportedAt"] += 10
    assert len(extract_addon_records(parsed)) == 1  # otherwise the most recent export
    db["guilds"]["Bank Guild-Sen'jin"]["members"] = {}
    db["lastExport"] = "Bank Guild-Sen'jin"
    text = format_saved_variables(parsed)
    assert extract_addon_records(parse_saved_variables(text)) == []


def test_the_documented_example_is_a_valid_export():
    doc = (Path(__file__).resolve().parents[2] / "guildsync" / "addon" / "FORMAT.md").read_text(encoding="utf-8")
    example = re.search(r"```lua\n(.*?)```", doc, re.S).group(1)
    parsed = parse_saved_variables(example)
    assert extract_addon_records(parsed) == [
        {"character_name": "Trogmoon", "realm": "Sen'jin", "realm_name": "Sen'jin", "guild_note": "Discord: trog",
         "officer_note": "alt of Shadowbane", "rank_index": 0, "rank_name": "Guild Master", "class_name": "Druid",
         "level": 80}]
    member = parsed["GuildSyncDB"]["guilds"]["Pull All The Things-Sen'jin"]["members"][0]
    assert member["lastOnlineAt"] == 1763780000 - ((30 + 2) * 24 + 3) * 3600
