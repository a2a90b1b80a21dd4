"""Importing Raid-Helper's sign-ups (class/spec mapping, status columns) onto attendance rows,
after the raid and every 10 minutes before it."""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from core.claims import claim_row
from core.reports import RunReport
from guildsync.models import Player, Specialization
from raids.clients import RaidHelperClient, RaidHelperError
from raids.models import RaidAttendance, RaidEvent

from .common import RaidsError, Source, Status, get_client, is_configured, said, stored
from .roster import post_roster

log = logging.getLogger(__name__)


# -- attendance import -----------------------------------------------------------------------
# What Raid-Helper answers, from real event bodies (``GET /api/v2/events/{id}``):
# - Classic: className is the WoW class ("Rogue", "Paladin") and roleName the slot ("Melee",
#   "Healers", "Tanks"), with Classic spec names ("Combat" rogues), next to "Tank" slot entries —
#   a recorded body embedded in github.com/AllinGaming/TWAssignmentsSoM, TWAssignments.lua
#   (commit 07bb283);
# - retail-style slots ("wowretail2", "wowsod"): className is the slot (Tank, Healer, Melee,
#   Ranged) with roleName "Tanks"/"Healers"/"Dps"; a Season of Discovery event lists off-role
#   specs in a slot, e.g. specName "Demonology" under className "Tank" (a Metamorphosis warlock
#   tank), "Holy1" under Melee, "Smite" under Ranged — a recorded "wowsod" event (title "SE20",
#   29-01-2026) embedded in a public Streamlit roster viewer;
# - spec names shared by two classes get a digit in the template: "Holy1" and "Protection1" are
#   the Paladin's (className "Paladin" in the Classic body; the Paladin spec emotes in both),
#   "Restoration1" the Shaman's; plain "Holy"/"Protection"/"Restoration" are Priest, Warrior and
#   Druid there;
# - the status columns Late, Bench, Tentative, Absence (a Late or Bench sign-up keeps its spec);
# - some versions answer in lowercase (``signups``, ``userid``, ``classname``; issue #12): keys
#   are read without regard to case.
CLASS_ALIASES = {"dk": "deathknight", "dh": "demonhunter"}
STATUS_CLASSES = {"tentative": Status.TENTATIVE, "late": Status.ACCEPTED, "bench": Status.BENCH,
                  "absence": Status.ABSENCE, "absent": Status.ABSENCE}
SLOT_ROLES = {"tank": "Tank", "tanks": "Tank", "healer": "Healer", "healers": "Healer", "heal": "Healer",
              "melee": "Melee DPS", "ranged": "Ranged DPS"}
# Raid-Helper spec name (lowercase, letters and digits) → (class, our spec name or None = no such spec here)
RAID_HELPER_SPECS = {
    "holy1": ("Paladin", "Holy"), "protection1": ("Paladin", "Protection"),
    "restoration1": ("Shaman", "Restoration"), "combat": ("Rogue", "Outlaw"),  # Outlaw was Combat until Legion
    "smite": ("Priest", None),  # Season of Discovery's damage priest: no spec of that name in the game data
}


def _norm(value: str | None) -> str:
    """'Holy1' → 'holy', 'Beast Mastery' → 'beastmastery': Raid-Helper suffixes a number to
    spec names shared by two classes and spells some without spaces."""
    return re.sub(r"[^a-z]", "", (value or "").lower())


def _key(value: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(value or "").lower())


@dataclass(frozen=True)
class Placement:
    """Where one Raid-Helper sign-up lands: status, spec and role signed up as (each may be
    unknown), whether it is a Late sign-up, and ``note`` saying what could not be read."""

    status: str
    spec: Specialization | None = None
    role_name: str | None = None
    late: bool = False
    note: str = ""


def map_signup(class_name: str, spec_name: str | None, specs: list[Specialization],
               main_spec: Specialization | None = None, role_name: str | None = None) -> Placement:
    """Raid-Helper's (className, specName, roleName) → a ``Placement``.

    ``className`` is a status column (Tentative, Late, Bench, Absence), a role slot (Tank,
    Healer, Melee, Ranged), a WoW class ("Paladin", "DK": Classic templates, with the slot in
    ``roleName``) or a template's own column. The spec is found by name within the class when
    known, then within the slot's role; a spec signed up off its usual role (a Demonology tank)
    keeps the slot's role. An ambiguous spec ("Holy" in the Healer slot) resolves to the
    player's main spec when it fits, else stays unknown with a note."""
    cls = CLASS_ALIASES.get(_norm(class_name), _norm(class_name))
    status, late = Status.ACCEPTED, cls == "late"
    if cls in STATUS_CLASSES:
        status = STATUS_CLASSES[cls]
    slot_role = SLOT_ROLES.get(cls) or SLOT_ROLES.get(_norm(role_name))
    classes = {_norm(s.wow_class.name) for s in specs}
    wow_class = cls if cls in classes else None
    note = ""
    if not (cls in STATUS_CLASSES or slot_role or wow_class):
        note = said(gettext_noop("unknown sign-up column %(column)s"), column=repr(class_name))
    spec = None
    raw = (spec_name or "").strip()
    if raw:
        alias = RAID_HELPER_SPECS.get(_key(raw))
        if alias is not None:
            wow_class = _norm(alias[0])
            candidates = [s for s in specs if _norm(s.wow_class.name) == wow_class and s.name == alias[1]]
        else:
            wanted = _norm(raw)
            candidates = [s for s in specs if _norm(s.name) == wanted
                          or (len(wanted) >= 5 and _norm(s.name).startswith(wanted))
                          or (len(_norm(s.name)) >= 5 and wanted.startswith(_norm(s.name)))]
            if wow_class:
                candidates = [s for s in candidates if _norm(s.wow_class.name) == wow_class]
        if len(candidates) > 1 and slot_role:
            in_role = [s for s in candidates if s.default_role.name == slot_role]
            candidates = in_role or candidates
        if len(candidates) == 1:
            spec = candidates[0]
        elif main_spec is not None and main_spec in candidates:
            spec = main_spec
        elif candidates:
            note = note or said(gettext_noop("spec %(spec)s is ambiguous (%(classes)s)"), spec=repr(raw),
                                classes=" / ".join(sorted(s.wow_class.name for s in candidates)))
        elif alias:
            note = note or said(gettext_noop("spec %(spec)s matches no spec of a %(wow_class)s"), spec=repr(raw),
                                wow_class=alias[0])
        else:
            note = note or said(gettext_noop("spec %(spec)s matches no spec"), spec=repr(raw))
    elif status == Status.ACCEPTED and not slot_role:
        note = note or said(gettext_noop("no spec given"))
    role = slot_role or (spec.default_role.name if spec else None)
    return Placement(status, spec, role, late, note)


def signup_list(body: object) -> list[dict]:
    """The sign-ups of a Raid-Helper event body, keys casefolded (``signUps`` as documented,
    ``signups`` in some versions). An answer without a sign-up list is an error, never 0."""
    if not isinstance(body, dict):
        raise RaidsError(_("Raid-Helper's answer is not an event."))
    keys = {str(k).casefold(): k for k in body}
    if "signups" not in keys:
        raise RaidsError(_("Raid-Helper's answer has no sign-up list (keys: %(keys)s).")
                         % {"keys": ", ".join(sorted(map(str, body)))[:200]})
    entries = body[keys["signups"]] or []
    if not isinstance(entries, list):
        raise RaidsError(_("Raid-Helper's sign-up list is not a list."))
    return [{str(k).casefold(): v for k, v in e.items()} if isinstance(e, dict) else {"_raw": e} for e in entries]


@dataclass
class ImportReport(RunReport):
    LIST_LIMIT = 100
    COUNTED_LISTS = ("unplaced", "incomplete")
    NOT_STORED = ("unmatched", "busy")

    created: int = 0  # attendance rows new to the event
    updated: int = 0  # the event's attendance rows rewritten from their sign-up
    unmatched: int = 0  # sign-ups not placed on the attendance (see ``unplaced``)
    busy: bool = False  # nothing done: another worker held the event, or it was imported after its end already
    signups: int = 0  # entries in Raid-Helper's sign-up list
    unplaced: list[dict] = field(default_factory=list)  # {user_id, name, class, spec, reason}
    incomplete: list[dict] = field(default_factory=list)  # placed, but spec/role unknown: {…, reason}

    def summary(self) -> str:
        """What the import did, for the officer (the admin action's message)."""
        text = ngettext("%(count)s sign-up: %(created)s new, %(updated)s updated",
                        "%(count)s sign-ups: %(created)s new, %(updated)s updated", self.signups) % {
            "count": self.signups, "created": self.created, "updated": self.updated}
        if self.unplaced:
            names = "; ".join(f"{u['name'] or u['user_id']}: {u['reason']}" for u in self.unplaced[:5])
            text += ", " + _("%(count)s not placed (%(names)s)") % {
                "count": len(self.unplaced), "names": names + (", …" if len(self.unplaced) > 5 else "")}
        if self.incomplete:
            text += ", " + _("%(count)s without spec or role") % {"count": len(self.incomplete)}
        return text


def _describe(entry: dict, reason: str) -> dict:
    """One sign-up in the report, with the reason as written now and its source (``stored``:
    the admin shows it in the officer's language, whoever ran the import)."""
    return {"user_id": str(entry.get("userid") or "")[:24], "name": str(entry.get("name") or "")[:64],
            "class": str(entry.get("classname") or "")[:40], "spec": str(entry.get("specname") or "")[:40],
            **stored(reason)}


def import_signups(event: RaidEvent, *, client: RaidHelperClient | None = None, now: dt.datetime | None = None,
                   once_after_end: bool = False, triggered_by: str = "") -> ImportReport:
    """Import the sign-ups of ``event`` from Raid-Helper (``GET /events/{id}``) into attendance:
    one row per matched player with the status, spec, role and Late flag of their sign-up;
    ``attended`` is left to the officers. Every sign-up that could not be placed (no Discord
    id, nobody here with that Discord account) is counted with its reason, and so is every
    sign-up placed without a spec or role: on the event (``signup_import_report``, shown in
    the admin), in a ``SyncLog`` (source Raid-Helper) and in the log.
    ``once_after_end`` (the periodic job): skip when another worker already imported it after
    the event ended — checked under the row lock, so each ended event is fetched once."""
    from guildsync.models import Role, SyncLog

    now = now or timezone.now()
    if not event.raid_helper_event_id:
        raise RaidsError(_("“%(event)s” has no Raid-Helper event to import from.") % {"event": event})
    client = client or get_client()
    report = ImportReport()
    with transaction.atomic():
        locked = claim_row(RaidEvent.objects.all(), event.pk)
        if locked is None or (once_after_end and locked.signups_imported_at
                               and locked.signups_imported_at >= locked.end_time_utc):
            report.busy = True
            return report
        entries = signup_list(client.get_event(locked.raid_helper_event_id))
        report.signups = len(entries)
        ids = [int(e["userid"]) for e in entries if str(e.get("userid") or "").strip().isdigit()]
        players = {p.discord_user.discord_id: p for p in Player.objects.select_related("discord_user", "main_spec")
                   .filter(discord_user__discord_id__in=ids)}
        specs = list(Specialization.objects.select_related("wow_class", "default_role"))
        roles = {r.name: r for r in Role.objects.all()}
        rows = {a.player_id: a for a in locked.attendance.all()}
        to_create, to_update = [], []
        for entry in entries:
            user_id = str(entry.get("userid") or "").strip()
            if "_raw" in entry:
                report.unplaced.append(_describe({}, said(gettext_noop("not a sign-up object: %(entry)s"),
                                                          entry=repr(str(entry["_raw"])[:60]))))
                continue
            if not user_id.isdigit():
                report.unplaced.append(_describe(entry, said(gettext_noop("no Discord user id"))))
                continue
            player = players.get(int(user_id))
            if player is None:
                report.unplaced.append(_describe(entry, said(gettext_noop(
                    "this Discord account is no player here (link it in Guild officers → Players)"))))
                continue
            placed = map_signup(str(entry.get("classname") or ""), entry.get("specname"), specs, player.main_spec,
                                entry.get("rolename"))
            if placed.note:
                report.incomplete.append(_describe(entry, placed.note))
            row = rows.get(player.pk)
            if row is None:
                row = RaidAttendance(event=locked, player=player)
                rows[player.pk] = row
                to_create.append(row)
            elif row not in to_update and row not in to_create:
                to_update.append(row)
            row.status, row.signed_up, row.source = placed.status, placed.status == Status.ACCEPTED, Source.RAID_HELPER
            row.specialization = placed.spec or row.specialization
            row.role = roles.get(placed.role_name) if placed.role_name else row.role
            row.signed_up_late = placed.late
            row.raid_helper_signup_id = str(entry.get("id") or row.raid_helper_signup_id)[:32]
        RaidAttendance.objects.bulk_create(to_create)
        if to_update:
            for row in to_update:
                row.updated_at = now
            RaidAttendance.objects.bulk_update(
                to_update, ["status", "signed_up", "source", "specialization", "role", "signed_up_late", "raid_helper_signup_id",
                            "updated_at"]
            )
        report.created, report.updated = len(to_create), len(to_update)
        report.unmatched = len(report.unplaced)
        locked.signups_imported_at = now
        locked.signup_import_report = {"at": now.isoformat(), **report.as_dict()}
        locked.save(update_fields=["signups_imported_at", "signup_import_report"])
        SyncLog.objects.create(
            source=SyncLog.Source.RAID_HELPER, started_at=now, finished_at=timezone.now(),
            status=SyncLog.Status.PARTIAL if report.unplaced else SyncLog.Status.SUCCESS,
            stats={"event_id": locked.pk, "event": str(locked)[:120], **report.as_dict()},
            error="; ".join(f"{u['name'] or u['user_id']}: {u['reason']}" for u in report.unplaced)[:4000],
            triggered_by=triggered_by[:150])
    for item in report.unplaced:
        log.warning("Raid-Helper sign-up not placed on raid_event_id=%s: %s", event.pk, item)
    return report


def import_finished_events(now: dt.datetime | None = None, lookback: dt.timedelta = dt.timedelta(days=2)) -> dict:
    """Import the sign-ups of every Raid-Helper event that ended in the last ``lookback`` and
    has not been imported since it ended."""
    now = now or timezone.now()
    counts = {"imported": 0, "skipped": 0, "failed": 0}
    events = RaidEvent.objects.filter(end_time_utc__lte=now, end_time_utc__gte=now - lookback).exclude(
        raid_helper_event_id="").order_by("end_time_utc")
    client = None
    for event in events:
        if event.signups_imported_at and event.signups_imported_at >= event.end_time_utc:
            counts["skipped"] += 1
            continue
        client = client or get_client()
        try:
            report = import_signups(event, client=client, now=now, once_after_end=True)
        except (RaidsError, RaidHelperError) as exc:
            counts["failed"] += 1
            log.error("Attendance import failed for raid_event_id=%s: %s", event.pk, exc)
            continue
        counts["skipped" if report.busy else "imported"] += 1
    return counts


# -- live sign-up sync (issue #14 point 1) ----------------------------------------------------
SYNC_AHEAD = dt.timedelta(days=14)


def sync_upcoming_signups(now: dt.datetime | None = None) -> dict:
    """Every 10 minutes: import the sign-ups of each Raid-Helper event starting in the next 14
    days (status, spec, role, Late, bench: ``import_signups``), then queue or edit its roster
    post once it starts within 24 hours. Reads share the sign-up pushes' pacing window. An
    outage changes nothing: ``import_signups`` reads before it writes, the event is counted
    failed and the next run tries again."""
    now = now or timezone.now()
    counts = {"synced": 0, "busy": 0, "failed": 0, "posted": 0, "edited": 0}
    if not is_configured():
        return {**counts, "configured": False}
    events = (RaidEvent.objects.filter(start_time_utc__gt=now, start_time_utc__lte=now + SYNC_AHEAD)
              .exclude(raid_helper_event_id="").select_related("recurring_event").order_by("start_time_utc"))
    client = get_client()
    for event in events:
        try:
            report = import_signups(event, client=client, now=now, triggered_by="schedule")
        except (RaidsError, RaidHelperError) as exc:
            counts["failed"] += 1
            log.error("Sign-up sync failed for raid_event_id=%s (retried next run): %s", event.pk, exc)
            continue
        counts["busy" if report.busy else "synced"] += 1
        outcome = post_roster(event, now=now)
        if outcome in ("posted", "edited"):
            counts[outcome] += 1
    return {**counts, "configured": True}
