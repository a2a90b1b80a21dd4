"""The bounded child process of ``services.addon_upload``: SavedVariables bytes on stdin →
records as JSON on stdout (or the parser's error with its line and column).

It runs under ``RLIMIT_CPU`` and ``RLIMIT_AS`` set by the parent and imports no Django: only
the parser, so it starts fast and a hostile file can cost nothing but this short-lived process.
Run as ``python -m guildsync.services.addon_parse_child '{"max_bytes": ..., ...}'``.
"""

from __future__ import annotations

import json
import sys


def _translatable(message: object) -> object:
    """The message with its catalogue template and values (``addon_parser.Message``), so the
    server shows it in the officer's language; plain text as it is."""
    return message.as_json() if hasattr(message, "as_json") else str(message)


def main() -> int:
    limits = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    try:
        from guildsync.services.addon_processor import (
            AddonFormatError,
            SavedVariablesError,
            extract_addon_records,
            parse_saved_variables,
        )

        data = sys.stdin.buffer.read()
        try:
            parsed = parse_saved_variables(data, max_bytes=limits.get("max_bytes", 0),
                                           max_tables=limits.get("max_tables"))
            answer: dict = {"records": extract_addon_records(parsed, max_members=limits.get("max_members"))}
        except SavedVariablesError as exc:
            answer = {"error": type(exc).__name__, "message": exc.message, "line": exc.line, "column": exc.column,
                      "text": _translatable(exc.message)}
        except AddonFormatError as exc:
            answer = {"error": type(exc).__name__, "message": str(exc),
                      "text": _translatable(exc.args[0] if exc.args else "")}
        sys.stdout.write(json.dumps(answer))
    except MemoryError:  # RLIMIT_AS reached: say so plainly (the parent answers 422)
        sys.stdout.write('{"error": "MemoryError"}')
    return 0


if __name__ == "__main__":
    sys.exit(main())
