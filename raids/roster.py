"""The live roster of a raid event by role, against its raid night's wanted composition
(issue #14 point 1). Read-only: the admin's event page, ``/raid roster`` and the channel post
the sign-up sync queues 24 hours before the start all render this one computation.

A player's role is the role they signed up as (the Raid-Helper slot: a Demonology warlock in
the Tank slot tanks), else their sign-up spec's usual role, else their main spec's: the spec an
officer set on the player (an override), else their main character's active spec
(``effective_main_spec``). A sign-up whose role stays unknown is listed under "No role" with why.

Every word is translated when it is rendered (``gettext``), in the reader's language: the
officer's in the admin, the member's for ``/raid roster``, the server language for the channel
post (``raids.services.roster.post_roster`` renders it inside ``core.i18n.public`` /
``for_post``). Role and spec names as WoW's localized clients say them (the glossaries;
``guildsync.reference_data.spec_label``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext, pgettext_lazy

from bot.outbox import discord_timestamp
from guildsync.models import Player, Specialization
from guildsync.reference_data import spec_label
from raids.models import RaidAttendance, RaidEvent

Status = RaidAttendance.Status
# (role name as stored in guildsync.Role, the roster's label, the wanted-composition field)
ROLES = (("Tank", pgettext_lazy("wow roles", "Tanks"), "wanted_tanks"),
         ("Healer", pgettext_lazy("wow roles", "Healers"), "wanted_healers"),
         ("Melee DPS", pgettext_lazy("wow roles", "Melee"), "wanted_melee"),
         ("Ranged DPS", pgettext_lazy("wow roles", "Ranged"), "wanted_ranged"))


def missing_text(role: str, count: int) -> str:
    """"2 tanks", "1 healer"... in the active language (the roster post's "Missing:" line)."""
    if role == "Tank":
        text = ngettext("%(count)s tank", "%(count)s tanks", count)
    elif role == "Healer":
        text = ngettext("%(count)s healer", "%(count)s healers", count)
    elif role == "Melee DPS":
        text = ngettext("%(count)s melee", "%(count)s melee", count)
    else:
        text = ngettext("%(count)s ranged", "%(count)s ranged", count)
    return text % {"count": count}


@dataclass
class Roster:
    event: RaidEvent
    by_role: dict[str, list[str]] = field(default_factory=dict)  # role → accepted players ("Name (Spec)")
    wanted: dict[str, int] = field(default_factory=dict)
    no_role: list[str] = field(default_factory=list)  # accepted without a known role
    late: list[str] = field(default_factory=list)
    tentative: list[str] = field(default_factory=list)
    bench: list[str] = field(default_factory=list)
    absence: list[str] = field(default_factory=list)

    def missing(self) -> dict[str, int]:
        return {role: max(self.wanted.get(role, 0) - len(self.by_role.get(role, [])), 0) for role, _l, _f in ROLES}

    def lines(self) -> list[str]:
        """One line per role ("Tanks 1/2 — missing 1: Name (Spec), …"), then the other columns."""
        out = []
        missing = self.missing()
        for role, label, _field in ROLES:
            names = self.by_role.get(role, [])
            head = f"{label} {len(names)}/{self.wanted.get(role, 0)}"
            if missing[role]:
                head += " — " + _("missing %(count)s") % {"count": missing[role]}
            out.append(head + (": " + ", ".join(names) if names else ""))
        for label, names in ((pgettext("raid roster", "No role"), self.no_role),
                             (pgettext("raid roster", "Late"), self.late),
                             (pgettext("raid roster", "Tentative"), self.tentative),
                             (pgettext("raid roster", "Bench"), self.bench),
                             (pgettext("raid roster", "Absent"), self.absence)):
            if names:
                out.append(f"{label} ({len(names)}): " + ", ".join(names))
        return out

    def text(self) -> str:
        """The Discord message: title, start in each reader's time zone, composition, missing roles."""
        missing = [missing_text(role, n) for role, n in self.missing().items() if n]
        summary = (_("Missing: %(roles)s") % {"roles": ", ".join(missing)} if missing
                   else _("Composition complete."))
        lines = [f"**{self.event.title}** — {discord_timestamp(self.event.start_time_utc)} "
                 f"({discord_timestamp(self.event.start_time_utc, 'R')})", summary, *self.lines()]
        if self.event.raid_helper_url:
            lines.append(_("Sign up: %(url)s") % {"url": self.event.raid_helper_url})
        text = "\n".join(lines)
        return text if len(text) <= 2000 else text[:1990] + "\n…"


def effective_main_spec(player: Player) -> Specialization | None:
    """The spec a player raids as by default: the officer's choice (``Player.main_spec``), else
    the main character's active spec as Blizzard last reported it."""
    if player.main_spec_id:
        return player.main_spec
    character = player.main_character
    return character.active_spec if character is not None and character.active_spec_id else None


def _no_role_reason(player: Player) -> str:
    if player.main_character_id is None:
        return _("no main character")
    return _("no spec on the sign-up or the player; main character's spec unknown")


def live_roster(event: RaidEvent) -> Roster:
    night = event.recurring_event
    roster = Roster(event, wanted={role: getattr(night, attr) if night else 0 for role, _l, attr in ROLES})
    rows = (event.attendance.select_related("player", "role", "specialization__default_role",
                                            "player__main_spec__default_role",
                                            "player__main_character__active_spec__default_role")
            .order_by("player__display_name"))
    for row in rows:
        spec = row.specialization or effective_main_spec(row.player)
        label = row.player.display_name + (f" ({spec_label(spec.name)})" if spec else "")
        if row.status == Status.TENTATIVE:
            roster.tentative.append(label)
        elif row.status == Status.BENCH:
            roster.bench.append(label)
        elif row.status == Status.ABSENCE:
            roster.absence.append(label)
        else:
            role = row.role.name if row.role_id else (spec.default_role.name if spec and spec.default_role_id else None)
            if role:
                roster.by_role.setdefault(role, []).append(label)
            else:
                roster.no_role.append(f"{label} ({_no_role_reason(row.player)})")
            if row.signed_up_late:
                roster.late.append(label)
    return roster


def booking_summary(event: RaidEvent) -> str:
    """Who was signed up how, and why (the auto-invite rules of ``booking.signup_status``):
    "12 accepted; 65 tentative: their players don't have Auto invite; …" for the booking messages."""
    counts: dict[str, int] = {}
    for status in event.attendance.values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    reasons = {
        Status.ACCEPTED: _("%(count)s accepted (Auto invite on, rank level 2 or higher)"),
        Status.TENTATIVE: _("%(count)s tentative: their players don't have Auto invite (Players › Auto invite "
                            "events)"),
        Status.BENCH: _("%(count)s bench: their guild rank is below level 2 (raiders)"),
        Status.ABSENCE: _("%(count)s absent: on raid hiatus"),
    }
    parts = [text % {"count": counts[status]} for status, text in reasons.items() if counts.get(status)]
    others = sum(n for status, n in counts.items() if status not in reasons)
    if others:
        parts.append(_("%(count)s other") % {"count": others})
    return "; ".join(parts) if parts else _("nobody signed up (no active player with a main character)")


def next_roster_text() -> str:
    """``/raid roster``: the live roster of the next raid."""
    event = (RaidEvent.objects.filter(start_time_utc__gt=timezone.now()).select_related("recurring_event")
             .order_by("start_time_utc").first())
    if event is None:
        return _("No raid is scheduled yet.")
    return live_roster(event).text()
