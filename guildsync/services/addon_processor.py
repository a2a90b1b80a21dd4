"""Reads the GuildSync addon's SavedVariables upload and turns it into roster records.

Why a hand-written parser: the upload is a Lua file written by the game client, and we must
never execute it (no ``eval``, no embedded Lua). Only the data subset the game writes is
accepted: top-level ``Name = value`` assignments whose values are tables, strings, numbers and
booleans. The parser is a single compiled regular expression that cuts the whole text into
tokens at C speed (``findall``), then a small recursive walk over that token list; position
information is recomputed only when there is an error to report, which keeps the happy path
several times faster than ``slpp`` (see ``bench/guildsync_parser.py``).

Two entry points:

* :func:`parse_saved_variables` — text → ``{variable name: value}``; raises
  :class:`SavedVariablesError` with ``line`` and ``column``.
* :func:`extract_addon_records` — parsed ``GuildSyncDB`` → the list of records that
  ``db_sync.sync_addon_data`` consumes; raises :class:`AddonFormatError` when the file is not
  an export of our addon.

The export format is documented in ``guildsync/addon/FORMAT.md``.
"""

from __future__ import annotations

import re
from typing import Any

from core.errors import DomainError

__all__ = [
    "AddonFormatError",
    "SavedVariablesError",
    "SavedVariablesTooLarge",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_DEPTH",
    "RECORD_KEYS",
    "SAVED_VARIABLE",
    "extract_addon_records",
    "format_saved_variables",
    "parse_saved_variables",
]

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_DEPTH = 100
SAVED_VARIABLE = "GuildSyncDB"
SUPPORTED_FORMAT_VERSIONS = frozenset({1})
RECORD_KEYS = ("character_name", "realm", "realm_name", "guild_note", "officer_note", "rank_index", "rank_name",
               "class_name", "level")


class AddonFormatError(DomainError):
    """The upload cannot be used: not a SavedVariables file, or not an export of our addon.

    The API answers 400 with this message; the officer sees it in the companion's output."""


class SavedVariablesError(AddonFormatError):
    """The file is not valid SavedVariables Lua. ``line`` and ``column`` are 1-based and point
    at the offending character so the officer (or we) can open the file and look."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        self.message = message
        self.line = line
        self.column = column
        where = f"line {line}, column {column}: " if line is not None else ""
        super().__init__(f"{where}{message}")


class SavedVariablesTooLarge(SavedVariablesError):
    """The upload is over the size limit (the API maps this one to 413)."""


# ---------------------------------------------------------------------------------------------
# Tokenizer. One regex cuts the text into *entries*, one per line of a typical file: it skips
# whitespace and comments, then optionally takes a key in the forms the game writes
# (``["name"] =``, ``[12] =``, ``name =``), then exactly one token, then an optional ``,``/``;``.
# Anything unusual (a key with escapes, a float key, comments between key and ``=``) simply
# does not match the key part and comes through as plain tokens (``[``, key, ``]``, ``=``) that
# the walker handles on a slower path. The last token alternatives catch any single character
# (garbage) and the end of input (empty token), so the entry list always ends with an empty
# token and the walker never indexes past it. Groups: 1 string key (quoted), 2 integer key,
# 3 name key, 4 token, 5 separator.
_LONG = "|".join(rf"\[{'=' * n}\[.*?\]{'=' * n}\]" for n in range(5))  # [[...]], [=[...]=] .. level 4
# Whitespace, then any number of comments (each followed by whitespace): "--" + a long bracket is
# a block comment, anything else after "--" a line comment (incl. the old "-- [n]" markers).
_SKIP = rf"[ \t\r\n\f\v]*(?:--(?:(?!\[=*\[)[^\n]*|{_LONG})[ \t\r\n\f\v]*)*"
_ENTRY_RE = re.compile(
    rf"""
    {_SKIP}
    (?:\[[ \t]*(?:("[^"\\\n]*")|(-?[0-9]+))[ \t]*\][ \t]*=(?!=){_SKIP}     # ["key"] = / [12] =
      |([A-Za-z_][A-Za-z0-9_]*)[ \t]*=(?!=){_SKIP}                         # name =
    )?
    (
       "[^"\\\n]*(?:\\(?:z[ \t\r\n\f\v]*|.)[^"\\\n]*)*"                   # "string" (\\. covers \<newline>)
      |'[^'\\\n]*(?:\\(?:z[ \t\r\n\f\v]*|.)[^'\\\n]*)*'                   # 'string'
      |{_LONG}                                                            # [[long string]]
      |-?\.?[0-9](?:[eEpP][+-]|[0-9A-Za-z_.])*                            # numeral (checked on conversion)
      |[A-Za-z_][A-Za-z0-9_]*                                             # name / keyword
      |--\[=*\[                                                           # unfinished block comment
      |.                                                                  # punctuation or garbage
      |$                                                                  # end of input
    )
    [ \t]*([,;]?)
    """,
    re.VERBOSE | re.DOTALL,
)
_TOK, _SEP = 4, 5

_ESCAPE_RE = re.compile(r"""\\(?:([abfnrtv\\"'])|(\r\n|\n\r|\n|\r)|z[ \t\r\n\f\v]*|([0-9]{1,3})|x([0-9A-Fa-f]{2})|u\{([0-9A-Fa-f]{1,8})\}|(.?))""", re.DOTALL)
_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
                   "\\": "\\", '"': '"', "'": "'"}
_KEYWORDS: dict[str, Any] = {"true": True, "false": False, "nil": None}
_NUMBER_START = frozenset("0123456789.-")
_NAME_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_NIL = object()  # internal marker: "this value was nil"
_POSITIONAL = object()  # internal marker: "this table item has no key"
_DIGITS = frozenset("0123456789")
_BOOLEANS = {"true": True, "false": False}

Entry = tuple[str, str, str, str, str]


class _Fail(Exception):
    """Raised inside the walk with the entry index; turned into a positioned error outside."""

    def __init__(self, message: str, index: int, group: int = _TOK, offset: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.index = index
        self.group = group    # which part of the entry the error is about
        self.offset = offset  # characters into that part (for bad escapes inside a string)


def _unescape(body: str, index: int, group: int) -> str:
    """Decode Lua escapes. Lua strings are bytes: ``\\ddd`` and ``\\xXX`` give raw bytes that
    usually form UTF-8 together (``\\195\\169`` is "é"), so we build bytes and decode once;
    byte sequences that are not UTF-8 become U+FFFD."""
    out = bytearray()
    pos = 0
    for m in _ESCAPE_RE.finditer(body):
        out += body[pos:m.start()].encode("utf-8", "surrogatepass")
        pos = m.end()
        simple, newline, decimal, hexa, uni, bad = m.groups()
        if simple is not None:
            out += _SIMPLE_ESCAPES[simple].encode()
        elif newline is not None:
            out += b"\n"
        elif decimal is not None:
            value = int(decimal)
            if value > 255:
                raise _Fail(f"decimal escape \\{decimal} is too large (maximum \\255)", index, group, m.start() + 1)
            out.append(value)
        elif hexa is not None:
            out.append(int(hexa, 16))
        elif uni is not None:
            value = int(uni, 16)
            if value > 0x7FFFFFFF:
                raise _Fail(f"UTF-8 escape \\u{{{uni}}} is too large", index, group, m.start() + 1)
            out += chr(value).encode("utf-8", "surrogatepass") if value <= 0x10FFFF else b"\xef\xbf\xbd"
        elif bad is not None:
            raise _Fail(f"invalid escape sequence '\\{bad}' in string", index, group, m.start() + 1)
    out += body[pos:].encode("utf-8", "surrogatepass")
    return out.decode("utf-8", "replace")


def _number(tok: str, index: int) -> int | float:
    """Convert a numeral token. Lua's rules: decimal integers, decimal floats with optional
    exponent, hexadecimal integers and hexadecimal floats (``0x1p4``); no underscores."""
    negative = tok[:1] == "-"
    body = tok[1:] if negative else tok
    try:
        if "_" not in body:
            if body.isdigit():
                value: int | float = int(body)
            elif body[:2] in ("0x", "0X"):
                value = float.fromhex(body) if ("." in body or "p" in body or "P" in body) else int(body, 16)
            elif body.lower().lstrip(".0123456789e+-") == "" and body[:1] != "-":
                value = float(body)
            else:
                raise ValueError
            return -value if negative else value
    except ValueError:
        pass
    raise _Fail(f"malformed number '{tok}'", index)


def _string(tok: str, index: int, group: int = _TOK) -> str:
    quote = tok[0]
    if quote == "[":
        level = tok.index("[", 1) + 1
        body = tok[level:-level]
        if body[:2] == "\r\n" or body[:2] == "\n\r":
            return body[2:]
        if body[:1] in ("\n", "\r"):
            return body[1:]
        return body
    if len(tok) < 2 or tok[-1] != quote:
        raise _Fail("unfinished string (missing closing quote before the end of the line)", index, group)
    body = tok[1:-1]
    if "\\" in body:
        return _unescape(body, index, group)
    return body


def _describe(tok: str) -> str:
    if tok == "":
        return "end of file"
    if tok.isprintable():
        return f"'{tok[:30]}'"
    return f"character U+{ord(tok[0]):04X}"


def _scalar(tok: str, index: int) -> Any:
    """Convert a non-table value token (``_NIL`` for nil)."""
    c = tok[:1]
    if c == '"' or c == "'":
        return _string(tok, index)
    if c in _NUMBER_START and c:
        if tok[:3] == "--[":
            raise _Fail("unfinished block comment (missing ']]')", index)
        if tok == "-":
            raise _Fail("expected a number after '-'", index)
        return _number(tok, index)
    if tok in _KEYWORDS:
        value = _KEYWORDS[tok]
        return _NIL if value is None else value
    if c == "[" and len(tok) > 1:
        return _string(tok, index)
    if tok == "":
        raise _Fail("unexpected end of file where a value should be (truncated file?)", index)
    raise _Fail(f"expected a value, found {_describe(tok)}", index)


def _key(entries: list[Entry], i: int) -> tuple[Any, int]:
    """Slow path for a ``[key] =`` the fast regex did not take (escapes, floats, comments...).
    ``i`` is the entry holding ``[``; returns the key and the index of the value's entry."""
    if entries[i][4]:
        raise _Fail(f"expected a table key, found '{entries[i][4]}'", i, _SEP)
    key_entry = entries[i + 1]
    if key_entry[0] or key_entry[1] or key_entry[2] or key_entry[4]:
        raise _Fail("malformed table key", i + 1)
    key = _scalar(key_entry[3], i + 1)
    if key is _NIL:
        raise _Fail("table key is nil", i + 1)
    if type(key) is float and key.is_integer():
        key = int(key)  # Lua normalises 1.0 to the integer key 1
    close, equals = entries[i + 2], entries[i + 3]
    if close[3] != "]" or close[4] or close[0] or close[1] or close[2]:
        raise _Fail(f"expected ']' after table key, found {_describe(close[3])}", i + 2)
    if equals[3] != "=" or equals[4] or equals[0] or equals[1] or equals[2]:
        raise _Fail(f"expected '=' after table key, found {_describe(equals[3])}", i + 3)
    value_entry = entries[i + 4]
    if value_entry[0] or value_entry[1] or value_entry[2]:
        raise _Fail("expected a value after '='", i + 4, 1 if value_entry[0] else 2 if value_entry[1] else 3)
    return key, i + 4


def _table(entries: list[Entry], i: int, depth: int, max_depth: int) -> tuple[Any, str, int]:
    """Parse a table body; ``i`` is the entry after the one holding ``{``. Returns the value,
    the separator written after the closing ``}`` and the next entry index. Positional items
    go to a list, explicit keys to a dict; the result is a list when the keys are exactly 1..n."""
    if depth > max_depth:
        raise _Fail(f"tables nested more than {max_depth} levels deep", i - 1)
    if entries[i - 1][4]:  # "{," : the regex took the comma as the brace's separator
        raise _Fail(f"expected a value, found '{entries[i - 1][4]}'", i - 1, _SEP)
    items: list[Any] = []
    keyed: dict[Any, Any] = {}
    has_nil = False
    while True:
        skey, ikey, nkey, tok, sep = entries[i]
        if skey:  # the common case first: ["key"] = value
            key: Any = skey[1:-1] if "\\" not in skey else _string(skey, i, 1)
        elif ikey:
            key = int(ikey)
        elif nkey:
            if nkey in _KEYWORDS:
                raise _Fail(f"'{nkey}' cannot be used as a table key name", i, 3)
            key = nkey
        elif tok == "}":
            i += 1
            break
        elif tok == "[":
            key, i = _key(entries, i)
            if type(key) is bool and any(type(k) is not bool and k == key for k in keyed):
                raise _Fail("table mixes boolean keys with the numeric keys 0/1", i - 3)
            tok, sep = entries[i][3], entries[i][4]
        else:  # a positional item
            if tok == "{":
                value, sep, i = _table(entries, i + 1, depth + 1, max_depth)
            else:
                value = _scalar(tok, i)
                if value is _NIL:
                    has_nil = True
                i += 1
            items.append(value)
            if not sep:
                i = _separator(entries, i)
            continue
        # The keyed value; the common scalars inline, since this loop runs once per line.
        c = tok[:1]
        if c == '"' and "\\" not in tok and len(tok) > 1:
            keyed[key] = tok[1:-1]
            i += 1
        elif c in _DIGITS:
            keyed[key] = int(tok) if tok.isdigit() else _number(tok, i)
            i += 1
        elif c == "{":
            keyed[key], sep, i = _table(entries, i + 1, depth + 1, max_depth)
        elif tok in _BOOLEANS:
            keyed[key] = _BOOLEANS[tok]
            i += 1
        else:
            value = _scalar(tok, i)
            if value is _NIL:
                keyed.pop(key, None)
            else:
                keyed[key] = value
            i += 1
        if not sep:
            i = _separator(entries, i)
    closing_sep = entries[i - 1][4]
    if not keyed:
        if not has_nil:
            return (items if items else {}), closing_sep, i
    elif not items and type(next(iter(keyed))) is not int:
        return keyed, closing_sep, i
    return _finish_table(items, keyed), closing_sep, i


def _separator(entries: list[Entry], i: int) -> int:
    """After a value written without its ``,``: accept a separate ``,``/``;`` or a ``}``."""
    nxt = entries[i]
    if nxt[0] or nxt[1] or nxt[2]:
        raise _Fail("expected ',' or '}' in table, found '['" if not nxt[2] else
                    f"expected ',' or '}}' in table, found '{nxt[2]}'", i, 1 if nxt[0] else 2 if nxt[1] else 3)
    tok = nxt[3]
    if tok == "}":
        return i
    if (tok == "," or tok == ";") and not nxt[4]:
        return i + 1
    if tok == "":
        raise _Fail("unexpected end of file inside a table (missing '}'; truncated file?)", i)
    raise _Fail(f"expected ',' or '}}' in table, found {_describe(tok)}", i)


def _finish_table(items: list[Any], keyed: dict[Any, Any]) -> list[Any] | dict[Any, Any]:
    """Merge positional items into the keyed part (positional wins, as in Lua) and decide list vs dict."""
    merged = keyed
    for n, value in enumerate(items, 1):
        if value is _NIL:
            merged.pop(n, None)
        else:
            merged[n] = value
    size = len(merged)
    if size and all(type(k) is int and 1 <= k <= size for k in merged):
        return [merged[n] for n in range(1, size + 1)]
    return merged


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _max_bytes_setting() -> int:
    try:
        from django.conf import settings

        return int(getattr(settings, "ADDON_UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES))
    except Exception:  # Django not configured (benchmarks, scripts): the documented default
        return DEFAULT_MAX_BYTES


def _decode(data: str | bytes, max_bytes: int | None) -> str:
    limit = _max_bytes_setting() if max_bytes is None else max_bytes
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        if limit and len(raw) > limit:
            raise SavedVariablesTooLarge(f"file is {len(raw):,} bytes, over the {limit:,}-byte limit")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            good = raw[:exc.start].decode("utf-8")
            line, column = _position(good, len(good))
            raise SavedVariablesError(
                f"not a text file: byte 0x{raw[exc.start]:02X} is not valid UTF-8 (binary garbage?)",
                line, column) from None
    else:
        text = data
        if limit and len(text) * 4 > limit:
            size = len(text.encode("utf-8", "surrogatepass"))
            if size > limit:
                raise SavedVariablesTooLarge(f"file is {size:,} bytes, over the {limit:,}-byte limit")
    nul = text.find("\x00")
    if nul >= 0:
        line, column = _position(text, nul)
        raise SavedVariablesError("not a text file: it contains NUL bytes (binary garbage?)", line, column)
    return text[1:] if text[:1] == "\ufeff" else text


def parse_saved_variables(text: str | bytes, *, max_bytes: int | None = None,
                          max_depth: int = DEFAULT_MAX_DEPTH) -> dict[str, Any]:
    """Parse a SavedVariables file into ``{variable name: value}``.

    Accepts both styles the game has written (tab-indented with ``-- [n]`` comments before
    patch 10.2.7, unindented since). Tables whose keys are exactly 1..n become lists, other
    non-empty tables dicts; an empty table is an empty dict; nil values are not stored.
    ``text`` may be ``bytes`` (must be UTF-8) or ``str``. ``max_bytes`` defaults to
    ``settings.ADDON_UPLOAD_MAX_BYTES`` (0 disables the limit); ``max_depth`` bounds table
    nesting so hostile input cannot exhaust the stack. An empty file gives ``{}``.
    Never executes anything.
    """
    text = _decode(text, max_bytes)
    entries: list[Entry] = _ENTRY_RE.findall(text)
    entries += [("", "", "", "", "")] * 5  # lookahead past the end (a truncated "[key] =") sees end of file
    result: dict[str, Any] = {}
    i = 0
    try:
        while True:
            skey, ikey, name, tok, sep = entries[i]
            if not name:
                if skey or ikey:
                    raise _Fail("expected a variable name, found '['", i, 1 if skey else 2)
                if tok == "":
                    break
                if tok == ";" and not sep:
                    i += 1
                    continue
                if tok[:3] == "--[":
                    raise _Fail("unfinished block comment (missing ']]')", i)
                if tok[:1] in _NAME_START and tok not in _KEYWORDS:
                    raise _Fail(f"expected '=' after {tok}, found {_describe(entries[i + 1][3])}", i + 1)
                raise _Fail(f"expected a variable name, found {_describe(tok)}", i)
            if name in _KEYWORDS:
                raise _Fail(f"'{name}' cannot be used as a variable name", i, 3)
            if tok == "{":
                value, sep, i = _table(entries, i + 1, 1, max_depth)
            else:
                value = _scalar(tok, i)
                i += 1
            if sep == ",":
                raise _Fail("unexpected ',' after a variable's value", i - 1, _SEP)
            if value is _NIL:
                result.pop(name, None)
            else:
                result[name] = value
    except _Fail as fail:
        offset = _entry_offset(text, fail.index, fail.group) + fail.offset
        line, column = _position(text, offset)
        raise SavedVariablesError(fail.message, line, column) from None
    except RecursionError:  # max_depth set above what the interpreter's stack allows
        raise SavedVariablesError("tables nested too deeply", None, None) from None
    return result


def _entry_offset(text: str, index: int, group: int) -> int:
    """Start offset of one part of entry number ``index`` (computed only to report an error)."""
    for n, m in enumerate(_ENTRY_RE.finditer(text)):
        if n == index:
            start = m.start(group)
            if start < 0:
                return m.start(_TOK)
            if group in (1, 2):  # point at the key's "[", not at its content
                return text.rfind("[", m.start(), start)
            return start
    return len(text)

# ---------------------------------------------------------------------------------------------
# The addon's export → records for db_sync.sync_addon_data.

def _squash(realm: str) -> str:
    """A realm's letters and digits only, casefolded ("Twisting Nether" = "TwistingNether")."""
    return "".join(ch for ch in realm.casefold() if ch.isalnum())


def _require(mapping: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(mapping, dict) or key not in mapping:
        raise AddonFormatError(f"{where} has no '{key}' field; is this the GuildSync addon's file?")
    value = mapping[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise AddonFormatError(f"{where}.{key} has the wrong type ({type(value).__name__}).")
    return value


def _text(member: dict[str, Any], key: str, where: str) -> str:
    value = member.get(key, "")
    if not isinstance(value, str):
        raise AddonFormatError(f"{where}.{key} should be text, not {type(value).__name__}.")
    return value


def extract_addon_records(parsed: dict[str, Any], *, guild: str | None = None) -> list[dict[str, Any]]:
    """Turn a parsed GuildSync SavedVariables file into roster records.

    Each record has exactly the keys of :data:`RECORD_KEYS` (what ``sync_addon_data`` reads):
    ``realm`` is the realm as the game gives it in "Name-Realm" (normalised, without spaces:
    "TwistingNether"); ``realm_name`` is the display name with spaces ("Twisting Nether", the
    export's ``realmName``) for members of the exporter's own realm, "" for the others (the game
    gives no display name for connected realms);
    ``rank_index`` is 0 for the guild master, like Blizzard's API. ``guild`` picks one guild's
    export by name (case-insensitive) when the officer's account exported several; by default
    the most recent export is used. Exports made by a character who cannot read officer notes
    are refused, since syncing them would erase every officer note on the site.
    """
    if not isinstance(parsed, dict) or SAVED_VARIABLE not in parsed:
        found = ", ".join(sorted(str(k) for k in parsed)) if isinstance(parsed, dict) and parsed else "nothing"
        raise AddonFormatError(f"This file is not a GuildSync export: no {SAVED_VARIABLE} variable (found {found}). "
                               "Upload WTF/Account/<ACCOUNT>/SavedVariables/GuildSync.lua.")
    db = parsed[SAVED_VARIABLE]
    if not isinstance(db, dict):
        raise AddonFormatError(f"{SAVED_VARIABLE} should be a table of settings and exports.")
    version = _require(db, "formatVersion", int, SAVED_VARIABLE)
    if version not in SUPPORTED_FORMAT_VERSIONS:
        raise AddonFormatError(f"GuildSync export format {version} is not supported by this server "
                               f"(supported: {', '.join(map(str, sorted(SUPPORTED_FORMAT_VERSIONS)))}).")
    guilds = db.get("guilds")
    if not isinstance(guilds, dict) or not guilds:
        raise AddonFormatError("The file holds no guild export yet: log in with an officer, open the game, "
                               "type /guildsync and then /reload (or log out) so the game writes the file.")
    if guild is not None:
        wanted = guild.casefold()
        matches = [k for k, v in guilds.items()
                   if str(k).casefold() == wanted or isinstance(v, dict) and str(v.get("guildName", "")).casefold() == wanted]
        if not matches:
            raise AddonFormatError(f"The file has no export for the guild '{guild}' "
                                   f"(it has: {', '.join(sorted(map(str, guilds)))}).")
        key = matches[0]
    else:
        key = db.get("lastExport")
        if key not in guilds:
            key = max(guilds, key=lambda k: guilds[k].get("exportedAt", 0) if isinstance(guilds[k], dict) else 0)
    where = f"{SAVED_VARIABLE}.guilds[{key!r}]"
    export = guilds[key]
    if not isinstance(export, dict):
        raise AddonFormatError(f"{where} should be a table.")
    if export.get("canViewOfficerNotes") is False:
        raise AddonFormatError("This export was made by a character who cannot read officer notes; "
                               "syncing it would erase them. Export again with an officer's character.")
    home_realm = export.get("guildRealm") if isinstance(export.get("guildRealm"), str) else ""
    home_realm_name = export.get("realmName") if isinstance(export.get("realmName"), str) else ""
    members = export.get("members", [])
    if isinstance(members, dict) and not members:
        members = []
    if not isinstance(members, list):
        raise AddonFormatError(f"{where}.members should be a list of members.")
    records: list[dict[str, Any]] = []
    for n, member in enumerate(members, 1):
        mwhere = f"{where}.members[{n}]"
        if not isinstance(member, dict):
            raise AddonFormatError(f"{mwhere} should be a table.")
        name = _require(member, "name", str, mwhere).strip()
        if not name:
            raise AddonFormatError(f"{mwhere}.name is empty.")
        rank_index = _require(member, "rankIndex", int, mwhere)
        level = member.get("level", 0)
        if not isinstance(level, int) or isinstance(level, bool):
            raise AddonFormatError(f"{mwhere}.level should be a whole number.")
        realm = _text(member, "realm", mwhere) or home_realm  # same-realm names may come without one
        records.append({
            "character_name": name,
            "realm": realm,
            "realm_name": home_realm_name if realm and _squash(realm) == _squash(home_realm) else "",
            "guild_note": _text(member, "note", mwhere),
            "officer_note": _text(member, "officerNote", mwhere),
            "rank_index": rank_index,
            "rank_name": _text(member, "rankName", mwhere),
            "class_name": _text(member, "className", mwhere),
            "level": level,
        })
    return records


# ---------------------------------------------------------------------------------------------
# Writer: the inverse of the parser, producing text the way the game writes SavedVariables.
# Used to build upload files in tests, demo data and the benchmark.

_LUA_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}  # others: \ddd
_NEEDS_ESCAPE = re.compile(r'[\\"\x00-\x1f\x7f]')


def _lua_string(value: str) -> str:
    return '"' + _NEEDS_ESCAPE.sub(lambda m: _LUA_ESCAPES.get(m.group(), f"\\{ord(m.group()):03d}"), value) + '"'


def _lua_scalar(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("Lua SavedVariables cannot hold inf or nan")
        text = repr(value)
        return text
    if isinstance(value, str):
        return _lua_string(value)
    raise TypeError(f"cannot write {type(value).__name__} as Lua")


def _write(value: Any, out: list[str], indent: str, legacy: bool) -> None:
    if isinstance(value, (list, tuple)):
        inner = indent + "\t" if legacy else ""
        out.append("{\n")
        for n, item in enumerate(value, 1):
            out.append(inner)
            _write(item, out, inner, legacy)
            out.append(f", -- [{n}]\n" if legacy else ",\n")
        out.append(indent + "}")
    elif isinstance(value, dict):
        inner = indent + "\t" if legacy else ""
        out.append("{\n")
        for key, item in value.items():
            out.append(f"{inner}[{_lua_scalar(key)}] = ")
            _write(item, out, inner, legacy)
            out.append(",\n")
        out.append(indent + "}")
    else:
        out.append(_lua_scalar(value))


def format_saved_variables(variables: dict[str, Any], *, legacy: bool = False) -> str:
    """Write ``{name: value}`` as a SavedVariables file: ``legacy=True`` gives the tab-indented
    style with ``-- [n]`` comments that clients wrote before patch 10.2.7, otherwise the
    unindented current style. Lists become positional tables, dicts keyed tables."""
    out: list[str] = []
    for name, value in variables.items():
        out.append(f"{name} = ")
        _write(value, out, "", legacy)
        out.append("\n")
    return "".join(out)
