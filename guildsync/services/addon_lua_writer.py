"""Writes SavedVariables text the way the game does: the inverse of ``addon_parser``. Used to
build upload files in tests, demo data, the companion's tests and the benchmark."""

from __future__ import annotations

import re
from typing import Any

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
        return repr(value)
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
