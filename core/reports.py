"""One base for the reports that runs and syncs return (a delivery run, a roster sync, the
minute task, a booking poll…), so their plumbing is written once.

Why: each report used to re-implement the same plumbing by hand: an ``add`` that listed its
counters, an ``as_dict`` that listed its fields and cut its lists. A hand list that forgets a
newly added counter drops it silently from the merged total or from the JSON a ``SyncLog``
stores. Here everything is derived from ``dataclasses.fields()``: a new field is summed,
stored and cut without anyone remembering to.

A report subclasses ``RunReport`` and is itself a ``@dataclass``; it keeps its own ``__str__``
or ``summary`` sentence (officers read those). What a field holds decides what happens to it:
an ``int`` (not a ``bool``) is a counter, a ``list`` collects items (names, errors, ids);
anything else (a flag, a date, a dict) is carried as it is.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, ClassVar, Self


def json_safe(value: Any) -> Any:
    """``value`` as JSON can store it: dates as ISO 8601 text, tuples and sets as lists, dict
    keys as text, nested reports as their ``as_dict``; anything else unknown as its ``str``."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, RunReport):
        return value.as_dict()
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    return str(value)


def _is_counter(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclasses.dataclass
class RunReport:
    """Base of the run reports: ``counters``, ``add`` and ``as_dict`` from the fields.

    Class settings a report may override:

    - ``LIST_LIMIT``: how many items of each list ``as_dict`` keeps (a run over a whole
      roster can name thousands; the stored JSON needs the first few).
    - ``COUNTED_LISTS``: lists whose full length ``as_dict`` also stores, as ``<name>_count``
      (so a cut list still says how many there were).
    - ``NOT_STORED``: fields ``as_dict`` leaves out (a status said elsewhere, a flag only the
      caller acts on).
    """

    LIST_LIMIT: ClassVar[int] = 50
    COUNTED_LISTS: ClassVar[tuple[str, ...]] = ()
    NOT_STORED: ClassVar[tuple[str, ...]] = ()

    def counters(self) -> dict[str, int]:
        """The counter fields (ints, not flags) by name, in declaration order."""
        return {f.name: value for f in dataclasses.fields(self) if _is_counter(value := getattr(self, f.name))}

    def add(self, other: Self) -> Self:
        """Fold a partial report of the same run into this one (per batch, lane or event):
        counters are summed, lists extended; other fields keep this report's value. Returns
        ``self`` so a total can be written ``total.add(part)``."""
        if not isinstance(other, type(self)):
            raise TypeError(f"cannot add a {type(other).__name__} to a {type(self).__name__}")
        for f in dataclasses.fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if _is_counter(mine) and _is_counter(theirs):
                setattr(self, f.name, mine + theirs)
            elif isinstance(mine, list) and isinstance(theirs, list):
                mine.extend(theirs)
        return self

    def as_dict(self, list_limit: int | None = None) -> dict[str, Any]:
        """The report as JSON-safe data (what a ``SyncLog`` or an import report stores): every
        field but ``NOT_STORED``, lists cut to ``list_limit`` (default ``LIST_LIMIT``) items,
        and ``<name>_count`` beside each list of ``COUNTED_LISTS``."""
        limit = self.LIST_LIMIT if list_limit is None else list_limit
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name in self.NOT_STORED:
                continue
            value = getattr(self, f.name)
            if isinstance(value, list):
                if f.name in self.COUNTED_LISTS:
                    out[f"{f.name}_count"] = len(value)
                value = value[:limit]
            out[f.name] = json_safe(value)
        return out
