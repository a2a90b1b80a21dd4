"""The live roster of a raid event by role, against its raid night's wanted composition
(issue #14 point 1). Read-only: the admin's event page, ``/raid roster`` and the channel post
the sign-up sync queues 24 hours before the start all render this one computation.

A player's role is the role they signed up as (the Raid-Helper slot: a Demonology warlock in
the Tank slot tanks), else their spec's usual role, else their main spec's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone

from bot.outbox import discord_timestamp
from raids.models import RaidAttendance, RaidEvent

Status = RaidAttendance.Status
ROLES = (("Tank", "Tanks", "wanted_tanks"), ("Healer", "Healers", "wanted_healers"),
         ("Melee DPS", "Melee", "wanted_melee"), ("Ranged DPS", "Ranged", "wanted_ranged"))


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
                head += f" — missing {missing[role]}"
            out.append(head + (": " + ", ".join(names) if names else ""))
        for label, names in (("No role", self.no_role), ("Late", self.late), ("Tentative", self.tentative),
                             ("Bench", self.bench), ("Absent", self.absence)):
            if names:
                out.append(f"{label} ({len(names)}): " + ", ".join(names))
        return out

    def text(self) -> str:
        """The Discord message: title, start in each reader's time zone, composition, missing roles."""
        missing = {label: n for (role, label, _f), n in zip(ROLES, self.missing().values(), strict=True) if n}
        summary = ("Missing: " + ", ".join(f"{n} {label.lower()}" for label, n in missing.items())
                   if missing else "Composition complete.")
        lines = [f"**{self.event.title}** — {discord_timestamp(self.event.start_time_utc)} "
                 f"({discord_timestamp(self.event.start_time_utc, 'R')})", summary, *self.lines()]
        if self.event.raid_helper_url:
            lines.append(f"Sign up: {self.event.raid_helper_url}")
        text = "\n".join(lines)
        return text if len(text) <= 2000 else text[:1990] + "\n…"


def live_roster(event: RaidEvent) -> Roster:
    night = event.recurring_event
    roster = Roster(event, wanted={role: getattr(night, attr) if night else 0 for role, _l, attr in ROLES})
    rows = (event.attendance.select_related("player", "role", "specialization__default_role",
                                            "player__main_spec__default_role")
            .order_by("player__display_name"))
    for row in rows:
        spec = row.specialization or row.player.main_spec
        label = row.player.display_name + (f" ({spec.name})" if spec else "")
        if row.status == Status.TENTATIVE:
            roster.tentative.append(label)
        elif row.status == Status.BENCH:
            roster.bench.append(label)
        elif row.status == Status.ABSENCE:
            roster.absence.append(label)
        else:
            role = row.role.name if row.role_id else (spec.default_role.name if spec else None)
            (roster.by_role.setdefault(role, []) if role else roster.no_role).append(label)
            if row.signed_up_late:
                roster.late.append(label)
    return roster


def next_roster_text() -> str:
    """``/raid roster``: the live roster of the next raid."""
    event = (RaidEvent.objects.filter(start_time_utc__gt=timezone.now()).select_related("recurring_event")
             .order_by("start_time_utc").first())
    if event is None:
        return "No raid is scheduled yet."
    return live_roster(event).text()
