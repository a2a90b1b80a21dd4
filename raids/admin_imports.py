"""The raid event page's import reports in words (the Raid-Helper sign-up import and the
Warcraft Logs attendance import), in the officer's language; reasons the periodic jobs stored
are shown in it too (``services.shown``). Read-only: ``raids.admin`` displays them."""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.translation import gettext as _

from raids import services
from raids.models import RaidEvent


def as_html(lines: list[str]) -> str:
    """One line each, escaped."""
    return format_html("<br>".join(["{}"] * len(lines)), *lines)


def signup_import_lines(report: dict) -> list[str]:
    """Counts and every sign-up the import could not place or placed without spec/role, with
    the reason in the officer's language (``services.shown``)."""
    if not report:
        return ["—"]
    lines = [_("%(signups)s sign-up(s): %(created)s new, %(updated)s updated; %(unplaced)s not placed, "
               "%(incomplete)s without spec or role.") % {
        "signups": report.get("signups", 0), "created": report.get("created", 0),
        "updated": report.get("updated", 0), "unplaced": report.get("unplaced_count", 0),
        "incomplete": report.get("incomplete_count", 0)}]
    for kind, items in ((_("not placed"), report.get("unplaced") or []),
                        (_("no spec/role"), report.get("incomplete") or [])):
        for item in items:
            lines.append(format_html("{} — {} ({} {}): {}", kind, item.get("name") or item.get("user_id"),
                                     item.get("class"), item.get("spec"), services.shown(item)))
    return lines


def wcl_state(obj: RaidEvent) -> str:
    """Import state from the event's own columns (no query per row)."""
    report = obj.wcl_import_report or {}
    if obj.wcl_import_status == "imported":
        unplaced = report.get("unplaced_count", 0)
        state = _("imported, %(count)s not placed") % {"count": unplaced} if unplaced else _("imported")
        return _("%(state)s (report gone, kept)") % {"state": state} if report.get("report_gone") else state
    if obj.wcl_import_status == "gave_up":
        return _("no report (gave up)")
    return _("error — retried") if report.get("last_error") else "—"


def wcl_import_lines(obj: RaidEvent) -> list[str]:
    """Imported at, the reports read, the counts and every character that could not be placed
    (reasons in the officer's language: ``services.shown``; an error from Warcraft Logs as stored)."""
    report = obj.wcl_import_report or {}
    if obj.wcl_import_status == "gave_up":
        lines = [_("Gave up at %(at)s: %(reason)s") % {"at": obj.wcl_imported_at, "reason": services.shown(report)}]
    elif obj.wcl_import_status == "imported":
        lines = [_(
            "Imported at %(at)s from report(s) %(reports)s: %(seen)s character(s) seen; %(marked)s marked "
            "attended, %(created)s added to the attendance, %(already)s already attended, %(kept)s officer "
            "override(s) kept; %(unplaced)s not placed.") % {
            "at": obj.wcl_imported_at, "reports": ", ".join(report.get("reports") or []) or "—",
            "seen": report.get("seen", 0), "marked": report.get("marked", 0), "created": report.get("created", 0),
            "already": report.get("already", 0), "kept": report.get("overrides_kept", 0),
            "unplaced": report.get("unplaced_count", 0)}]
        lines += [_("not placed — %(name)s-%(server)s: %(reason)s") % {
            "name": item.get("name"), "server": item.get("server"), "reason": services.shown(item)}
            for item in report.get("unplaced") or []]
        if gone := report.get("report_gone"):
            lines.append(_("Report gone from Warcraft Logs (found by %(by)s at %(at)s): the import above is kept.")
                         % {"by": gone.get("by") or _("a re-import"), "at": gone.get("at", "")})
    elif report.get("waiting"):
        lines = [_("Waiting: %(why)s (%(attempts)s attempt(s), last %(last)s).") % {
            "why": services.shown(report, "waiting"), "attempts": report.get("attempts", 0),
            "last": report.get("last_try", "")}]
    else:
        lines = [_("Not imported yet.")]
    if obj.wcl_import_status != "imported" and report.get("last_error"):
        lines.append(_("Last error (%(at)s): %(error)s — retried next run.") % {
            "at": report.get("last_try", ""), "error": report["last_error"]})
    return lines
