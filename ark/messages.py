"""Rendering of the Ark Discord messages (pure functions: no database writes, no Discord calls).

Buttons carry ``custom_id = "ark:<action>:<match_id>"``; ``ark.discord_commands`` routes them.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from bot.outbox import discord_timestamp
from core.i18n import number

from .models import Match, MessageRef, Signup

NAME_WIDTH = 32
FIELD_SIZE = 15
COLOURS = {"Scheduled": 0x2ECC71, "Locked": 0xF1C40F, "Cancelled": 0x95A5A6, "Completed": 0x3498DB}


def button(label: str, action: str, match_id: int, style: int = 1) -> dict[str, Any]:
    return {"type": 2, "style": style, "label": label, "custom_id": f"ark:{action}:{match_id}"}


def registration_buttons(match_id: int) -> list[dict[str, Any]]:
    return [
        {
            "type": 1,
            "components": [
                button(_("Join as Player"), "join_player", match_id, 3),
                button(_("Join as Sub"), "join_sub", match_id, 1),
                button(_("Leave"), "leave", match_id, 4),
                button(_("Switch Governor"), "switch", match_id, 2),
            ],
        }
    ]


def confirmation_buttons(match_id: int) -> list[dict[str, Any]]:
    return [
        {
            "type": 1,
            "components": [
                button(_("Check in"), "checkin", match_id, 3),
                button(_("Emergency withdraw"), "withdraw", match_id, 4),
            ],
        }
    ]


MARKDOWN = set("\\*_~`|>[]<")


def governor_label(name: str, width: int = NAME_WIDTH) -> str:
    """A governor name as Discord shows it literally: one line, markdown escaped, at most
    ``width`` characters *after* escaping, so a roster line never outgrows its field budget
    (30 players + 15 subs of 64-character names still fit Discord's 1024 per field)."""
    out: list[str] = []
    used = 0
    for ch in " ".join(name.split()):
        piece = "\\" + ch if ch in MARKDOWN else ch
        if used + len(piece) > width:
            break
        out.append(piece)
        used += len(piece)
    return "".join(out) or "?"


def _lines(signups: list[Signup], start: int, show_checkin: bool) -> str:
    lines = []
    for i, s in enumerate(signups, start=start):
        mark = " ✅" if show_checkin and s.checked_in_at else ""
        lines.append(f"{i}. {governor_label(s.governor.name)}{mark}")
    return "\n".join(lines) or "—"


def _roster_fields(label: str, signups: list[Signup], cap: int, show_checkin: bool) -> list[dict[str, Any]]:
    """One inline field per FIELD_SIZE names (≤ 15 × 38 characters, well under 1024)."""
    fields = []
    for start in range(0, max(len(signups), 1), FIELD_SIZE):
        chunk = signups[start : start + FIELD_SIZE]
        name = f"{label} ({len(signups)}/{cap})" if start == 0 else _("%(label)s (cont.)") % {"label": label}
        fields.append({"name": name, "value": _lines(chunk, start + 1, show_checkin), "inline": True})
    return fields


def match_when(match: Match) -> str:
    return f"{discord_timestamp(match.match_time_utc, 'F')} ({discord_timestamp(match.match_time_utc, 'R')})"


def power_label(power: int | None) -> str:
    """12_345_678 → "12.3M" (what officers say in game; "12,3M" for a German reader)."""
    if power is None:
        return "?"
    for unit, size in (("B", 1_000_000_000), ("M", 1_000_000), ("k", 1_000)):
        if power >= size:
            return f"{number(round(power / size, 1), 1)}{unit}"
    return number(power)


def day_label(match: Match) -> str:
    return {"Sat": _("Saturday"), "Sun": _("Sunday")}.get(match.match_day) or match.get_match_day_display()


def result_label(result: str) -> str:
    return {"Win": _("Win"), "Loss": _("Loss"), "No-show": _("No-show")}.get(result, result)


def footer(match: Match) -> str:
    return _("Match #%(number)s · weekend of %(weekend)s") % {"number": match.pk, "weekend": match.ark_weekend_date}


def render_draft(match: Match, roster: list[Signup]) -> dict[str, Any]:
    """The published team draft: one field per team with its players and total power."""
    fields = []
    for team in (1, 2):
        members = sorted(
            (s for s in roster if s.slot == Signup.Slot.PLAYER and s.team == team),
            key=lambda s: -(s.governor.power or 0),
        )
        total = sum(s.governor.power or 0 for s in members)
        lines = "\n".join(
            f"{i}. {governor_label(s.governor.name)} · {power_label(s.governor.power)}" for i, s in enumerate(members, 1)
        )
        fields.append(
            {"name": _("Team %(team)s") % {"team": team} + f" ({len(members)}) · {power_label(total)}",
             "value": lines or "—", "inline": True}
        )
    embed = {
        "title": (_("Ark of Osiris — %(alliance)s · Teams") % {"alliance": match.alliance.name})[:256],
        "description": f"**{day_label(match)}** {match_when(match)}",
        "fields": fields,
        "color": COLOURS[match.status],
        "footer": {"text": footer(match)},
    }
    return {"content": None, "embeds": [embed], "components": []}


def render(match: Match, roster: list[Signup], kind: str) -> dict[str, Any]:
    """The body (content, embeds, components) of a match's registration, confirmation or draft message."""
    if kind == MessageRef.Kind.DRAFT:
        return render_draft(match, roster)
    alliance = match.alliance
    players = [s for s in roster if s.slot == Signup.Slot.PLAYER]
    subs = [s for s in roster if s.slot == Signup.Slot.SUB]
    confirmation = kind == MessageRef.Kind.CONFIRMATION
    state = {
        Match.Status.SCHEDULED: _("Signups close %(when)s (%(relative)s).") % {
            "when": discord_timestamp(match.signup_close_utc, "F"),
            "relative": discord_timestamp(match.signup_close_utc, "R")},
        Match.Status.LOCKED: _("Signups are closed. Check in from 12 hours before the start."),
        Match.Status.CANCELLED: _("**This match was cancelled.**"),
        Match.Status.COMPLETED: _("Result: **%(result)s**") % {"result": result_label(match.result)}
        + (f" — {match.result_notes}" if match.result_notes else ""),
    }[match.status]
    description = f"**{day_label(match)}** {match_when(match)}\n{state}"
    if match.notes:
        description += f"\n\n{match.notes[:1000]}"
    fields = _roster_fields(_("Players"), players, alliance.player_cap, confirmation) + _roster_fields(
        _("Subs"), subs, alliance.sub_cap, confirmation
    )
    title = (_("Ark of Osiris — %(alliance)s · Confirmed roster") if confirmation
             else _("Ark of Osiris — %(alliance)s")) % {"alliance": alliance.name}
    embed = {
        "title": title[:256],
        "description": description,
        "fields": fields,
        "color": COLOURS[match.status],
        "footer": {"text": footer(match)},
    }
    if match.status == Match.Status.SCHEDULED and not confirmation:
        components = registration_buttons(match.pk)
    elif match.status == Match.Status.LOCKED and confirmation:
        components = confirmation_buttons(match.pk)
    else:
        components = []
    return {"content": None, "embeds": [embed], "components": components}


def reminder_text(match: Match, template: Any) -> str:
    """A reminder in the active language (a channel's: ``i18n.public``; a member's DM:
    ``i18n.for_member``). ``template`` is a reminder type's text: a default (lazy, so it is
    translated here) or, once officers write their own, their words as written."""
    body = str(template).format(
        start_rel=match_when(match),
        close_rel=f"{discord_timestamp(match.signup_close_utc, 'F')} ({discord_timestamp(match.signup_close_utc, 'R')})",
    )
    return _("**Ark of Osiris — %(alliance)s** · %(text)s") % {"alliance": match.alliance.name, "text": body}
