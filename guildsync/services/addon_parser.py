"""The GuildSync addon's SavedVariables parser: text in, ``{variable name: value}`` out.

Why a hand-written parser: the upload is a Lua file written by the game client, and we must
never execute it (no ``eval``, no embedded Lua). Only the data subset the game writes is
accepted: top-level ``Name = value`` assignments whose values are tables, strings, numbers and
booleans. The parser is a single compiled regular expression that cuts the whole text into
tokens at C speed (``findall``), then a small recursive walk over that token list; position
information is recomputed only when there is an error to report, which keeps the happy path
several times faster than ``slpp`` (see ``bench/guildsync_parser.py``).

:func:`parse_saved_variables` raises :class:`SavedVariablesError` with ``line`` and ``column``.
The errors every step of reading an upload raises live here too. Turning the parsed data into
roster records is ``addon_records``; writing SavedVariables text is ``addon_lua_writer``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import Any

from core.deferred_text import Message, gettext_noop
from core.errors import DomainError

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_DEPTH = 100
DEFAULT_MAX_TABLES = 200_000  # a 1,000-member export has ~2,000; 5 MB of "{}," would be 1.7 million
DEFAULT_MAX_MEMBERS = 5_000   # a guild holds at most 1,000 members
SAVED_VARIABLE = "GuildSyncDB"


class AddonFormatError(DomainError):
    """The upload cannot be used: not a SavedVariables file, or not an export of our addon.

    The API answers 400 with this message; the officer sees it in the companion's output."""


class SavedVariablesError(AddonFormatError):
    """The file is not valid SavedVariables Lua. ``line`` and ``column`` are 1-based and point
    at the offending character so the officer (or we) can open the file and look."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None,
                 translate: Callable[[str], str] | None = None) -> None:
        self.message = message
        self.line = line
        self.column = column
        if line is None:
            super().__init__(message)
        else:
            where = gettext_noop("line %(line)s, column %(column)s: %(message)s")
            super().__init__((translate or str)(where) % {"line": line, "column": column, "message": message})


class UploadTooLargeError(AddonFormatError):
    """The upload is over a size limit: bytes, tables or members (the API answers 413)."""


class SavedVariablesTooLargeError(SavedVariablesError, UploadTooLargeError):
    """The file is over ``ADDON_UPLOAD_MAX_BYTES`` or holds more tables than the parser builds."""


# ---------------------------------------------------------------------------------------------
# Tokenizer. One regex cuts the text into *entries*, one per line of a typical file: it skips
# whitespace and comments, then optionally takes a key in the forms the game writes
# (``["name"] =``, ``[12] =``, ``name =``), then exactly one token, then an optional ``,``/``;``.
# Anything unusual (a key with escapes, a float key, comments between key and ``=``) simply
# does not match the key part and comes through as plain tokens (``[``, key, ``]``, ``=``) that
# the walker handles on a slower path. Groups: 1 string key (quoted), 2 integer key, 3 name
# key, 4 token ("" only at the end of the input), 5 separator, 6 an unfinished string, long
# string or block comment.
#
# Why every scan is linear (issue 12: ``"\z \z \z ...`` was exponential, ``[[[[...``, ``--[[``
# and ``[==[`` repeated were quadratic):
# * every repetition is possessive (``*+``, ``++``) or inside an atomic group ``(?>...)``, and
#   the alternatives inside a repetition start with different characters, so no stretch of
#   input can be matched two ways and nothing is ever backtracked into;
# * an attempt that can scan far (a string, a long bracket, a block comment) either succeeds,
#   or group 6 takes everything from its opening to the end of the input: the walker reports it
#   as unfinished (Lua's lexer stops there too), so nothing is scanned a second time from a
#   later position;
# * the walker pulls entries one at a time (``finditer``): an error stops the scan, and memory
#   holds only the values built so far, never a list of every token.
# Lazy ``.*?`` in a long bracket tries a fixed-length closing ``]==]`` at each position: linear.
_WS = r"[ \t\r\n\f\v]"
_LONG_LEVELS = 8
_LONG = "|".join(rf"\[{'=' * n}\[.*?\]{'=' * n}\]" for n in range(_LONG_LEVELS))  # [[..]] .. [=======[..]=======]
# Whitespace, then any number of comments (each followed by whitespace): "--" + a long bracket is
# a block comment, anything else after "--" a line comment (incl. the old "-- [n]" markers).
_SKIP = rf"{_WS}*+(?:--(?>(?!\[=*\[)[^\n]*+|{_LONG}){_WS}*+)*+"
_ESCAPED = rf"\\(?>z{_WS}*+|\r\n|\n\r|.)"  # one escape; \<newline> and \z span lines like in Lua
_QUOTED = rf"""(?>"(?:[^"\\\n\r]++|{_ESCAPED})*+"|'(?:[^'\\\n\r]++|{_ESCAPED})*+')"""
_ENTRY_RE = re.compile(
    rf"""
    {_SKIP}
    (?:\[[ \t]*+(?:("[^"\\\n\r]*+")|(-?[0-9]++))[ \t]*+\][ \t]*+=(?!=){_SKIP}   # ["key"] = / [12] =
      |([A-Za-z_][A-Za-z0-9_]*+)[ \t]*+=(?!=){_SKIP}                         # name =
    )?
    (?:
      (
         {_QUOTED}                                                          # "string" / 'string'
        |(?>{_LONG})                                                        # [[long string]]
        |-?\.?[0-9](?:[eEpP][+-]|[0-9A-Za-z_.])*+                           # numeral (checked on conversion)
        |[A-Za-z_][A-Za-z0-9_]*+                                            # name / keyword
        |(?!["']|\[=*\[|--\[=*\[).                                          # punctuation or garbage
        |\Z                                                                 # end of input
      )
      [ \t]*+([,;]?)
    |
      (["'\[-][\s\S]*+)                                                     # unfinished: the rest of the input
    )
    """,
    re.VERBOSE | re.DOTALL,
)
_TOK, _SEP, _BAD = 4, 5, 6
_SURROGATES = re.compile("[\ud800-\udfff]")

_ESCAPE_RE = re.compile(r"""\\(?:([abfnrtv\\"'])|(\r\n|\n\r|\n|\r)|z[ \t\r\n\f\v]*+|([0-9]{1,3})|x([0-9A-Fa-f]{2})|u\{([0-9A-Fa-f]{1,8})\}|(.?))""", re.DOTALL)
_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
                   "\\": "\\", '"': '"', "'": "'"}
_KEYWORDS: dict[str, Any] = {"true": True, "false": False, "nil": None}
_NUMBER_START = frozenset("0123456789.-")
_NAME_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_NIL = object()  # internal marker: "this value was nil"
_TRUE_KEY, _FALSE_KEY = object(), object()  # boolean keys while a table is built (True == 1 in Python)
_DIGITS = frozenset("0123456789")
_BOOLEANS = {"true": True, "false": False}


class _FailError(Exception):
    """Raised inside the walk with the entry's match; turned into a positioned error outside."""

    error_class: type[SavedVariablesError] = SavedVariablesError

    def __init__(self, message: str, match: re.Match, group: int = _TOK, offset: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.match = match
        self.group = group    # which part of the entry the error is about
        self.offset = offset  # characters into that part (for bad escapes inside a string)


class _TooManyError(_FailError):
    error_class = SavedVariablesTooLargeError


def _raw_bytes(text: str) -> bytes:
    """The file's bytes back: bytes that were not UTF-8 are U+DC80..U+DCFF (``surrogateescape``)."""
    return text.encode("utf-8", "surrogateescape")


def _unescape(body: str, match: re.Match, group: int) -> str:
    """Decode Lua escapes. Lua strings are bytes: ``\\ddd`` and ``\\xXX`` give raw bytes that
    usually form UTF-8 together (``\\195\\169`` is "é"), so we build bytes and decode once;
    byte sequences that are not UTF-8 (escaped or raw) become U+FFFD."""
    out = bytearray()
    pos = 0
    for m in _ESCAPE_RE.finditer(body):
        out += _raw_bytes(body[pos:m.start()])
        pos = m.end()
        simple, newline, decimal, hexa, uni, bad = m.groups()
        if simple is not None:
            out += _SIMPLE_ESCAPES[simple].encode()
        elif newline is not None:
            out += b"\n"
        elif decimal is not None:
            value = int(decimal)
            if value > 255:
                raise _FailError(Message(gettext_noop("decimal escape \\%(decimal)s is too large (maximum \\255)"),
                                         decimal=decimal), match, group, m.start() + 1)
            out.append(value)
        elif hexa is not None:
            out.append(int(hexa, 16))
        elif uni is not None:
            value = int(uni, 16)
            if value > 0x7FFFFFFF:
                raise _FailError(Message(gettext_noop("UTF-8 escape \\u{%(code)s} is too large"), code=uni),
                                 match, group, m.start() + 1)
            out += chr(value).encode("utf-8", "surrogatepass") if value <= 0x10FFFF else b"\xef\xbf\xbd"
        elif bad is not None:
            raise _FailError(Message(gettext_noop("invalid escape sequence '\\%(escape)s' in string"), escape=bad),
                             match, group, m.start() + 1)
    out += _raw_bytes(body[pos:])
    return out.decode("utf-8", "replace")


def _int(digits: str) -> int | float:
    """A decimal integer. Like Lua, one too long to be an integer is read as a float (Python
    refuses to convert more than 4,300 digits to int; such a numeral is ``inf`` in Lua too)."""
    try:
        return int(digits)
    except ValueError:
        return float(digits)


def _number(tok: str, match: re.Match) -> int | float:
    """Convert a numeral token. Lua's rules: decimal integers, decimal floats with optional
    exponent, hexadecimal integers and hexadecimal floats (``0x1p4``); no underscores."""
    negative = tok[:1] == "-"
    body = tok[1:] if negative else tok
    try:
        if "_" not in body:
            if body.isdigit():
                value: int | float = _int(body)
            elif body[:2] in ("0x", "0X"):
                value = float.fromhex(body) if ("." in body or "p" in body or "P" in body) else int(body, 16)
            elif body.lower().lstrip(".0123456789e+-") == "" and body[:1] != "-":
                value = float(body)
            else:
                raise ValueError
            return -value if negative else value
    except (ValueError, OverflowError):
        pass
    raise _FailError(Message(gettext_noop("malformed number '%(number)s'"), number=tok), match)


def _string(tok: str, match: re.Match, group: int = _TOK) -> str:
    """A complete string token (the regex guarantees the closing quote or bracket)."""
    quote = tok[0]
    if quote == "[":
        level = tok.index("[", 1) + 1
        body = tok[level:-level]
        if body[:2] == "\r\n" or body[:2] == "\n\r":
            return body[2:]
        if body[:1] in ("\n", "\r"):
            return body[1:]
        return body
    body = tok[1:-1]
    if "\\" in body:
        return _unescape(body, match, group)
    return body


def _describe(tok: str) -> str:
    if tok == "":
        return Message(gettext_noop("end of file"))
    if "\udc80" <= tok[0] <= "\udcff":
        return Message(gettext_noop("byte 0x%(byte)s, which is not UTF-8 (allowed only inside strings and "
                                    "comments)"), byte=f"{ord(tok[0]) - 0xDC00:02X}")
    if tok.isprintable():
        return f"'{tok[:30]}'"
    return Message(gettext_noop("character U+%(code)s"), code=f"{ord(tok[0]):04X}")


def _scalar(tok: str, match: re.Match) -> Any:
    """Convert a non-table value token (``_NIL`` for nil)."""
    c = tok[:1]
    if c == '"' or c == "'":
        return _string(tok, match)
    if c in _NUMBER_START and c:
        if tok == "-":
            raise _FailError(Message(gettext_noop("expected a number after '-'")), match)
        return _number(tok, match)
    if tok in _KEYWORDS:
        value = _KEYWORDS[tok]
        return _NIL if value is None else value
    if c == "[" and len(tok) > 1:
        return _string(tok, match)
    if tok == "":
        raise _FailError(Message(gettext_noop("unexpected end of file where a value should be (truncated file?)")),
                         match)
    raise _FailError(Message(gettext_noop("expected a value, found %(found)s"), found=_describe(tok)), match)


def _plain(match: re.Match) -> bool:
    """The entry is a lone token: no key part in front of it and no separator after it."""
    return not (match.group(1) or match.group(2) or match.group(3) or match.group(_SEP))


def _key(nxt: Callable[[], re.Match], opening: re.Match) -> tuple[Any, re.Match, re.Match]:
    """Slow path for a ``[key] =`` the fast regex did not take (escapes, floats, comments...).
    ``opening`` is the entry holding ``[``; returns the key, the value's entry and the key's."""
    if opening.group(_SEP):
        raise _FailError(Message(gettext_noop("expected a table key, found '%(found)s'"), found=opening.group(_SEP)),
                         opening, _SEP)
    key_entry = nxt()
    if not _plain(key_entry):
        raise _FailError(Message(gettext_noop("malformed table key")), key_entry)
    key = _scalar(key_entry.group(_TOK) or "", key_entry)
    if key is _NIL:
        raise _FailError(Message(gettext_noop("table key is nil")), key_entry)
    if type(key) is float and key.is_integer():
        key = int(key)  # Lua normalises 1.0 to the integer key 1
    elif type(key) is bool:
        key = _TRUE_KEY if key else _FALSE_KEY
    close = nxt()
    if close.group(_TOK) != "]" or not _plain(close):
        raise _FailError(Message(gettext_noop("expected ']' after table key, found %(found)s"),
                                 found=_describe(close.group(_TOK) or "")), close)
    equals = nxt()
    if equals.group(_TOK) != "=" or not _plain(equals):
        raise _FailError(Message(gettext_noop("expected '=' after table key, found %(found)s"),
                                 found=_describe(equals.group(_TOK) or "")), equals)
    value_entry = nxt()
    if value_entry.group(1) or value_entry.group(2) or value_entry.group(3):
        raise _FailError(Message(gettext_noop("expected a value after '='")), value_entry,
                    1 if value_entry.group(1) else 2 if value_entry.group(2) else 3)
    return key, value_entry, key_entry


class _Limits:
    """What one parse may still build (tables), and how deep it may nest."""

    __slots__ = ("max_depth", "tables_left", "max_tables")

    def __init__(self, max_depth: int, max_tables: int) -> None:
        self.max_depth = max_depth
        self.max_tables = max_tables
        self.tables_left = max_tables if max_tables else -1


def _table(nxt: Callable[[], re.Match], opening: re.Match, depth: int, limits: _Limits) -> tuple[Any, re.Match]:
    """Parse a table body; ``opening`` is the entry holding ``{``. Returns the value and the
    entry holding the closing ``}`` (whose separator follows the table). Positional items go
    to a list, explicit keys to a dict; the result is a list when the keys are exactly 1..n."""
    if depth > limits.max_depth:
        raise _FailError(Message(gettext_noop("tables nested more than %(depth)s levels deep"), depth=limits.max_depth),
                         opening)
    limits.tables_left -= 1
    if limits.tables_left == -1:
        raise _TooManyError(Message(gettext_noop("more than %(count)s tables in one file (ADDON_UPLOAD_MAX_TABLES)"),
                                    count=f"{limits.max_tables:,}"), opening)
    if opening.group(_SEP):  # "{," : the regex took the comma as the brace's separator
        raise _FailError(Message(gettext_noop("expected a value, found '%(found)s'"), found=opening.group(_SEP)),
                         opening, _SEP)
    items: list[Any] = []
    keyed: dict[Any, Any] = {}
    has_nil = False
    bool_key: re.Match | None = None
    while True:
        m = nxt()
        skey, ikey, nkey, tok, sep, _bad = m.groups("")
        if skey:  # the common case first: ["key"] = value (the regex allows no escapes here)
            key: Any = skey[1:-1]
        elif ikey:
            key = _int(ikey)
        elif nkey:
            if nkey in _KEYWORDS:
                raise _FailError(Message(gettext_noop("'%(name)s' cannot be used as a table key name"), name=nkey), m, 3)
            key = nkey
        elif tok == "}":
            close = m
            break
        elif tok == "[":
            key, m, key_entry = _key(nxt, m)
            if key is _TRUE_KEY or key is _FALSE_KEY:
                bool_key = bool_key or key_entry
            tok, sep = m.group(_TOK) or "", m.group(_SEP) or ""
        else:  # a positional item
            if tok == "{":
                value, inner = _table(nxt, m, depth + 1, limits)
                sep = inner.group(_SEP)
            else:
                value = _scalar(tok, m)
                if value is _NIL:
                    has_nil = True
            items.append(value)
            if not sep:
                close = _separator(nxt)
                if close is not None:
                    break
            continue
        # The keyed value; the common scalars inline, since this loop runs once per line.
        c = tok[:1]
        if c == '"' and "\\" not in tok:
            keyed[key] = tok[1:-1]
        elif c in _DIGITS:
            keyed[key] = _int(tok) if tok.isdigit() else _number(tok, m)
        elif c == "{":
            keyed[key], inner = _table(nxt, m, depth + 1, limits)
            sep = inner.group(_SEP)
        elif tok in _BOOLEANS:
            keyed[key] = _BOOLEANS[tok]
        else:
            value = _scalar(tok, m)
            if value is _NIL:
                keyed.pop(key, None)
            else:
                keyed[key] = value
        if not sep:
            close = _separator(nxt)
            if close is not None:
                break
    if bool_key is not None:
        return _finish_table(items, keyed, bool_key), close
    if not keyed:
        if not has_nil:
            return (items if items else {}), close
    elif not items and type(next(iter(keyed))) is not int:
        return keyed, close
    return _finish_table(items, keyed, None), close


def _separator(nxt: Callable[[], re.Match]) -> re.Match | None:
    """After a value written without its ``,``: accept a separate ``,``/``;`` (``None``) or the
    table's ``}`` (returned: the table ends there)."""
    m = nxt()
    if m.group(1) or m.group(2) or m.group(3):
        name = m.group(3)
        found = Message(gettext_noop("expected ',' or '}' in table, found '%(found)s'"), found=name or "[")
        raise _FailError(found, m, 3 if name else 1 if m.group(1) else 2)
    tok = m.group(_TOK) or ""
    if tok == "}":
        return m
    if (tok == "," or tok == ";") and not m.group(_SEP):
        return None
    if tok == "":
        raise _FailError(Message(gettext_noop("unexpected end of file inside a table (missing '}'; truncated file?)")), m)
    raise _FailError(Message(gettext_noop("expected ',' or '}' in table, found %(found)s"), found=_describe(tok)), m)


def _finish_table(items: list[Any], keyed: dict[Any, Any], bool_key: re.Match | None) -> list[Any] | dict[Any, Any]:
    """Merge positional items into the keyed part (positional wins, as in Lua) and decide list
    vs dict. Boolean keys are put in last: in Python ``True == 1``, so a table holding both
    ``[true]`` and ``[1]`` (or ``[false]`` and ``[0]``) cannot be represented and is refused."""
    merged = keyed
    for n, value in enumerate(items, 1):
        if value is _NIL:
            merged.pop(n, None)
        else:
            merged[n] = value
    if bool_key is not None:
        for marker, flag in ((_TRUE_KEY, True), (_FALSE_KEY, False)):
            if marker in merged:
                if int(flag) in merged:
                    raise _FailError(Message(gettext_noop("table mixes boolean keys with the numeric keys 0/1")), bool_key)
                merged[flag] = merged.pop(marker)
    size = len(merged)
    if size and all(type(k) is int and 1 <= k <= size for k in merged):
        return [merged[n] for n in range(1, size + 1)]
    return merged


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _setting(name: str, default: int) -> int:
    try:
        from django.conf import settings

        return int(getattr(settings, name, default))
    except Exception:  # Django not configured (benchmarks, the parse subprocess): the documented default
        return default


def _decode(data: str | bytes, max_bytes: int | None) -> str:
    """Bytes → text. Lua strings are bytes, and the game writes whatever bytes a string holds
    (a TradeSkillMaster export stores raw binary in strings), so bytes that are not UTF-8 are
    kept as U+DC80..U+DCFF (``surrogateescape``); inside a string they end up as U+FFFD, anywhere
    else (outside comments) they are a positioned error."""
    limit = _setting("ADDON_UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES) if max_bytes is None else max_bytes
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        if limit and len(raw) > limit:
            raise SavedVariablesTooLargeError(Message(gettext_noop("file is %(size)s bytes, over the %(limit)s-byte limit"),
                                                      size=f"{len(raw):,}", limit=f"{limit:,}"))
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("utf-8", "surrogateescape")
    else:
        text = data
        if limit and len(text) * 4 > limit:
            size = len(text.encode("utf-8", "surrogatepass"))
            if size > limit:
                raise SavedVariablesTooLargeError(Message(gettext_noop("file is %(size)s bytes, over the %(limit)s-byte "
                                                                       "limit"), size=f"{size:,}", limit=f"{limit:,}"))
        if _SURROGATES.search(text):  # only escaped bytes U+DC80..U+DCFF from here on
            try:  # text decoded elsewhere with surrogateescape: those are bytes already
                raw = text.encode("utf-8", "surrogateescape")
            except UnicodeEncodeError:  # other lone surrogates: their (invalid) UTF-8 bytes
                raw = text.encode("utf-8", "surrogatepass")
            text = raw.decode("utf-8", "surrogateescape")
    nul = text.find("\x00")
    if nul >= 0:
        line, column = _position(text, nul)
        raise SavedVariablesError(Message(gettext_noop("not a text file: it contains NUL bytes (binary garbage?)")),
                                  line, column)
    return text[1:] if text[:1] == "\ufeff" else text


def _repair(value: Any) -> Any:
    """Strings holding bytes that are not UTF-8 (U+DC80..U+DCFF after decoding): each invalid
    sequence becomes U+FFFD, exactly as for the same bytes written as ``\\ddd`` escapes."""
    if isinstance(value, str):
        return _raw_bytes(value).decode("utf-8", "replace") if _SURROGATES.search(value) else value
    if isinstance(value, list):
        return [_repair(v) for v in value]
    if isinstance(value, dict):
        return {_repair(k): _repair(v) for k, v in value.items()}
    return value


def _unfinished(match: re.Match) -> tuple[str, int]:
    """The message and offset for group 6: a string, long string or block comment never closed."""
    start = match.start(_BAD)
    opening = match.group(_BAD)
    if opening[:1] in "\"'":
        return Message(gettext_noop("unfinished string (missing closing quote before the end of the line)")), start
    if opening[:1] == "-":
        return Message(gettext_noop("unfinished block comment (missing ']]')")), start
    return Message(gettext_noop("unfinished long string (missing ']]')")), start


def parse_saved_variables(text: str | bytes, *, max_bytes: int | None = None,
                          max_depth: int = DEFAULT_MAX_DEPTH, max_tables: int | None = None) -> dict[str, Any]:
    """Parse a SavedVariables file into ``{variable name: value}``.

    Accepts both styles the game has written (tab-indented with ``-- [n]`` comments before
    patch 10.2.7, unindented since). Tables whose keys are exactly 1..n become lists, other
    non-empty tables dicts; an empty table is an empty dict; nil values are not stored.
    ``text`` may be ``bytes`` (UTF-8; other bytes inside strings become U+FFFD) or ``str``.
    ``max_bytes`` defaults to ``settings.ADDON_UPLOAD_MAX_BYTES`` (0 disables the limit);
    ``max_depth`` bounds table nesting so hostile input cannot exhaust the stack;
    ``max_tables`` (default ``settings.ADDON_UPLOAD_MAX_TABLES``, 0 = no limit) bounds the
    memory a file of empty tables could claim. An empty file gives ``{}``. Time is linear in
    the size of the input. Never executes anything.
    """
    text = _decode(text, max_bytes)
    limits = _Limits(max_depth, _setting("ADDON_UPLOAD_MAX_TABLES", DEFAULT_MAX_TABLES)
                     if max_tables is None else max_tables)
    end = _ENTRY_RE.match(text, len(text))  # the empty entry at the end, repeated for lookahead
    nxt = itertools.chain(_ENTRY_RE.finditer(text), itertools.repeat(end)).__next__
    result: dict[str, Any] = {}
    try:
        while True:
            m = nxt()
            skey, ikey, name, tok, sep, bad = m.groups("")
            if not name:
                if bad:
                    raise _FailError("unfinished", m, _BAD)
                if skey or ikey:
                    raise _FailError(Message(gettext_noop("expected a variable name, found '['")), m, 1 if skey else 2)
                if tok == "":
                    break
                if tok == ";" and not sep:
                    continue
                if tok[:1] in _NAME_START and tok not in _KEYWORDS:
                    after = nxt()
                    raise _FailError(Message(gettext_noop("expected '=' after %(name)s, found %(found)s"), name=tok,
                                             found=_describe(after.group(_TOK) or "")), after)
                raise _FailError(Message(gettext_noop("expected a variable name, found %(found)s"), found=_describe(tok)), m)
            if name in _KEYWORDS:
                raise _FailError(Message(gettext_noop("'%(name)s' cannot be used as a variable name"), name=name), m, 3)
            if tok == "{":
                value, m = _table(nxt, m, 1, limits)
                sep = m.group(_SEP)
            else:
                value = _scalar(tok, m)
            if sep == ",":
                raise _FailError(Message(gettext_noop("unexpected ',' after a variable's value")), m, _SEP)
            if value is _NIL:
                result.pop(name, None)
            else:
                result[name] = value
    except _FailError as fail:
        if fail.match.group(_BAD):  # whatever the walker expected there, the real problem is this
            message, offset = _unfinished(fail.match)
        else:
            message = fail.message
            start = fail.match.start(fail.group)
            if start < 0:
                start = fail.match.start(_TOK)
            elif fail.group in (1, 2):  # point at the key's "[", not at its content
                start = text.rfind("[", fail.match.start(), start)
            offset = start + fail.offset
        line, column = _position(text, offset)
        raise fail.error_class(message, line, column) from None
    except RecursionError:  # max_depth set above what the interpreter's stack allows
        raise SavedVariablesError(Message(gettext_noop("tables nested too deeply")), None, None) from None
    if _SURROGATES.search(text):
        result = _repair(result)
    return result
