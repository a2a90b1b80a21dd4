"""Governor stats (power, kill points, city hall, troop tier) imported from the CSV export of
the community's tools, with a per-row report, and the alliance's minimum city hall.

Why not django-import-export: its resources write rows through their own ``save()`` (the house
rule is that only services write), create unknown rows by default, and report per-row diffs in
its own generic terms. Officers need the opposite: an unknown governor is *refused* (the
registry belongs to the members), a duplicate id in one file is refused, and every row says
what changed. That is one small, linear parser plus one service transaction.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from core.i18n import number

from ..models import MAX_CITY_HALL, Governor
from .common import _audit, _now
from .errors import ArkError

MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_IMPORT_ROWS = 5000

# header (lower-cased, spaces/underscores/dashes removed) → field
HEADERS = {
    "governorid": "governor_id", "govid": "governor_id", "id": "governor_id",
    "name": "name", "governorname": "name", "governor": "name",
    "power": "power",
    "killpoints": "kill_points", "kp": "kill_points", "kills": "kill_points",
    "cityhall": "city_hall", "ch": "city_hall", "cityhalllevel": "city_hall",
    "trooptier": "troop_tier", "tier": "troop_tier",
}
STAT_FIELDS = ("power", "kill_points", "city_hall", "troop_tier")
LIMITS = {"power": (0, 10**12), "kill_points": (0, 10**13), "city_hall": (1, MAX_CITY_HALL), "troop_tier": (1, 5)}
_NUMBER = re.compile(r"^\d{1,3}(?:[,. ']\d{3})+$|^\d+$")


@dataclass
class RowReport:
    line: int
    governor_id: str
    outcome: str  # "updated" | "unchanged" | "refused"
    message: str

    @property
    def outcome_label(self) -> str:
        """The outcome in the reader's language (the import page's column)."""
        return {"updated": _("updated"), "unchanged": _("unchanged"), "refused": _("refused")}.get(self.outcome,
                                                                                                 self.outcome)


@dataclass
class ImportReport:
    rows: list[RowReport] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.rows if r.outcome == outcome)

    def __str__(self) -> str:
        return _("%(updated)s updated, %(unchanged)s unchanged, %(refused)s refused") % {
            "updated": self.count("updated"), "unchanged": self.count("unchanged"), "refused": self.count("refused")}


def _label(field_name: str) -> str:
    """A stat's name as the reader says it ("kill points", "Tötungspunkte")."""
    return str(Governor._meta.get_field(field_name).verbose_name)


def _header_key(text: str) -> str:
    return re.sub(r"[\s_\-]", "", text.strip().lower().lstrip("\ufeff"))


def _number(text: str, name: str) -> int | None:
    raw = (text or "").strip()
    if not raw:
        return None
    if not _NUMBER.match(raw):
        raise ValueError(_("%(name)s %(raw)s is not a whole number") % {"name": _label(name), "raw": repr(raw[:20])})
    value = int(re.sub(r"[,. ']", "", raw))
    low, high = LIMITS[name]
    if not low <= value <= high:
        raise ValueError(_("%(name)s %(value)s is outside %(low)s–%(high)s") % {"name": _label(name), "value": value, "low": low,
                                                                      "high": high})
    return value


def parse_stats_csv(data: bytes | str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The CSV's known columns and its rows as (line number, {field: text}). Refuses a file
    without a governor id column or one over the size limits. Linear in the input."""
    if isinstance(data, bytes):
        if len(data) > MAX_IMPORT_BYTES:
            raise ArkError(_("The file is over %(size)s MB.") % {"size": MAX_IMPORT_BYTES // 1024 // 1024})
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ArkError(_("The file is not UTF-8 text (export it as CSV, UTF-8).")) from None
    if len(data) > MAX_IMPORT_BYTES:
        raise ArkError(_("The file is over %(size)s MB.") % {"size": MAX_IMPORT_BYTES // 1024 // 1024})
    sample = data[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(data, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
        if not header:
            raise ArkError(_("The file is empty."))
        columns = [HEADERS.get(_header_key(h)) for h in header]
        if "governor_id" not in columns:
            raise ArkError(_("No governor id column: the first line must name the columns (governor id, name, power, …)."))
        rows = []
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if len(rows) >= MAX_IMPORT_ROWS:
                raise ArkError(_("At most %(count)s rows per import.") % {"count": number(MAX_IMPORT_ROWS)})
            rows.append((reader.line_num, {c: v for c, v in zip(columns, values, strict=False) if c}))
    except csv.Error as exc:
        raise ArkError(_("The CSV cannot be read (line %(line)s): %(error)s.") % {"line": reader.line_num, "error": exc}) from None
    return [c for c in columns if c], rows


def import_governor_stats(
    *, data: bytes | str, actor_discord_id: int | None = None, now: dt.datetime | None = None
) -> ImportReport:
    """Update registered governors' stats from a CSV; one transaction, one report line per row.
    Refused rows (unknown governor, bad number, duplicate id) change nothing; the others apply."""
    now = _now(now)
    _header, rows = parse_stats_csv(data)
    report = ImportReport()
    parsed: list[tuple[int, int, dict[str, int | None], str]] = []
    seen: dict[int, int] = {}
    for line, row in rows:
        raw_id = (row.get("governor_id") or "").strip()
        try:
            gid = int(raw_id) if raw_id.isdigit() and len(raw_id) <= 18 else None
            if gid is None:
                raise ValueError(_("governor id %(raw)s is not a number") % {"raw": repr(raw_id[:20])})
            values = {f: _number(row[f], f) for f in STAT_FIELDS if f in row}
        except ValueError as exc:
            report.rows.append(RowReport(line, raw_id[:20], "refused", _("bad number: %(error)s") % {"error": exc}))
            continue
        if gid in seen:
            report.rows.append(RowReport(line, raw_id, "refused", _("duplicate: governor %(governor)s is also on line %(line)s") % {"governor": gid, "line": seen[gid]}))
            continue
        seen[gid] = line
        parsed.append((line, gid, values, (row.get("name") or "").strip()))
    with transaction.atomic():
        govs = Governor.objects.select_for_update().in_bulk([gid for _line, gid, _name, _values in parsed], field_name="governor_id")
        updated = []
        for line, gid, values, name in parsed:
            gov = govs.get(gid)
            if gov is None:
                report.rows.append(RowReport(line, str(gid), "refused", _("unknown governor %(governor)s (%(name)s): register it first") % {"governor": gid,
                                                                                        "name": name or _("no name")}))
                continue
            changes = {f: (getattr(gov, f), v) for f, v in values.items() if v is not None and getattr(gov, f) != v}
            for f, (_old, v) in changes.items():
                setattr(gov, f, v)
            gov.stats_updated_at = gov.updated_at = now
            updated.append(gov)
            if changes:
                text = ", ".join(f"{_label(f)} {number(old) if old is not None else '—'} → {number(new)}"
                                 for f, (old, new) in changes.items())
                report.rows.append(RowReport(line, str(gid), "updated", f"{gov.name}: {text}"))
            else:
                report.rows.append(RowReport(line, str(gid), "unchanged", _("%(governor)s: no change") % {"governor": gov.name}))
        Governor.objects.bulk_update(updated, [*STAT_FIELDS, "stats_updated_at", "updated_at"])
        _audit("stats_imported", actor_discord_id, updated=report.count("updated"),
               unchanged=report.count("unchanged"), refused=report.count("refused"))
    report.rows.sort(key=lambda r: r.line)
    return report
