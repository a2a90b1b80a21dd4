"""An integrity issue's summary in the reader's language, rendered from the facts it keeps.

The integrity run (a Celery job, English) stores ``AuditIssue.summary`` for search and for
issues older than these facts; the admin and the audit report render :func:`describe` at
display time instead. A module of its own (only Django's translation): the model's ``__str__``
and the services both use it without importing each other.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext


def summary_text(issue_type: str, details: dict[str, Any] | None, fallback: str = "") -> str:
    """An issue's one-line summary in the active language, rendered from the facts its
    ``details`` keep: the integrity run (a Celery job, English) stores ``AuditIssue.summary``
    for search and for issues older than these facts, while the admin and the report render
    this at display time in the reader's language (``describe``). ``fallback`` (the stored
    summary) when a fact is missing."""
    d = details or {}
    try:
        if issue_type == "orphan_wow":
            return _("%(character)s is not linked to a player") % {"character": d["character"]}
        if issue_type == "orphan_discord":
            return _("%(member)s (%(role)s) has no characters") % {"member": d["name"], "role": d["role"]}
        if issue_type == "rank_mismatch":
            either = " " + pgettext("between alternatives", "or") + " "
            return _("%(player)s: in-game %(rank)s, Discord role %(role)s (expected %(expected)s)") % {
                "player": d["player"], "rank": d["ingame_rank"], "role": d["discord_role"] or _("none"),
                "expected": either.join(d["accepted_roles"])}
        if issue_type == "stale_character":
            return ngettext("%(character)s not seen by the API for over %(days)s day",
                            "%(character)s not seen by the API for over %(days)s days", int(d["days"])) % {
                "character": d["character"], "days": d["days"]}
        if issue_type == "battlenet_conflict":
            who = _("an officer") if d["link_source"] == "manual" else _("another member's Battle.net")
            return _("%(character)s is on %(member)s's Battle.net account but %(who)s linked it to %(player)s") % {
                "character": d["character"], "member": d["proven_by"], "who": who, "player": d["linked_to"]}
    except (KeyError, TypeError, ValueError):
        pass
    return fallback


def describe(issue: Any) -> str:
    """The issue's summary in the active language (``summary_text``)."""
    return summary_text(issue.issue_type, issue.details, issue.summary)
