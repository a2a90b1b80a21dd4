"""Reads the GuildSync addon's SavedVariables upload and turns it into roster records.

The work is three modules, one job each; this module re-exports their public API so callers
import from one place:

* :func:`parse_saved_variables` (``addon_parser``) — text → ``{variable name: value}``; raises
  :class:`SavedVariablesError` with ``line`` and ``column``. Never executes the file; linear time.
* :func:`extract_addon_records` (``addon_records``) — parsed ``GuildSyncDB`` → the list of records
  that ``db_sync.sync_addon_data`` consumes; raises :class:`AddonFormatError` when the file is not
  an export of our addon (or of the origin project's).
* :func:`format_saved_variables` (``addon_lua_writer``) — the inverse of the parser, for tests,
  demo data and the benchmark.

The export format is documented in ``guildsync/addon/FORMAT.md``.
"""

from guildsync.services.addon_lua_writer import format_saved_variables
from guildsync.services.addon_parser import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_MEMBERS,
    DEFAULT_MAX_TABLES,
    SAVED_VARIABLE,
    AddonFormatError,
    SavedVariablesError,
    SavedVariablesTooLargeError,
    UploadTooLargeError,
    parse_saved_variables,
)
from guildsync.services.addon_records import RECORD_KEYS, SUPPORTED_FORMAT_VERSIONS, extract_addon_records

__all__ = [
    "AddonFormatError",
    "SavedVariablesError",
    "SavedVariablesTooLargeError",
    "UploadTooLargeError",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_MEMBERS",
    "DEFAULT_MAX_TABLES",
    "RECORD_KEYS",
    "SUPPORTED_FORMAT_VERSIONS",
    "SAVED_VARIABLE",
    "extract_addon_records",
    "format_saved_variables",
    "parse_saved_variables",
]
