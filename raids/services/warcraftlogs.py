"""Attendance from Warcraft Logs: who was in the raid's report, placed on the players."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.claims import claim_lease
from core.reports import RunReport
from core.secrets import get_secret
from raids.models import RaidAttendance, RaidEvent, RaidHelperSettings
from raids.warcraftlogs import SeenCharacter, WarcraftLogsClient, WarcraftLogsError, realm_key

from .common import AttendedSource, RaidsError, Source, Status, said, stored

log = logging.getLogger(__name__)


# -- attendance from Warcraft Logs (issue #14 point 2) ------------------------------------------
WCL_CLAIM = dt.timedelta(minutes=10)  # a worker that died mid-import frees the event after this
WCL_REPORT_MARGIN = dt.timedelta(hours=1)  # logging starts before the invite and ends after the last pull
WCL_UNPLACED_KEPT = 200


def wcl_guild() -> dict | None:
    """The guild whose reports are read, as the ``reports`` query's arguments: its Warcraft
    Logs id (``WCL_GUILD_ID``), else name + realm slug + region; None when neither is set.
    The environment's ``WCL_GUILD_*`` first, else what officers set in Raid-Helper settings."""
    row = RaidHelperSettings.objects.filter(pk=RaidHelperSettings.SINGLETON_PK).first()
    if getattr(settings, "WCL_GUILD_ID", 0):
        return {"guildID": int(settings.WCL_GUILD_ID)}
    if row is not None and row.wcl_guild_id and not getattr(settings, "WCL_GUILD_NAME", ""):
        return {"guildID": int(row.wcl_guild_id)}
    name = getattr(settings, "WCL_GUILD_NAME", "") or (row.wcl_guild_name if row else "")
    slug = (row.wcl_guild_server_slug if row and row.wcl_guild_name and not settings.WCL_GUILD_NAME else "") or \
        getattr(settings, "WCL_GUILD_SERVER_SLUG", "")
    region = (row.wcl_guild_server_region if row and row.wcl_guild_name and not settings.WCL_GUILD_NAME else "") or \
        getattr(settings, "WCL_GUILD_SERVER_REGION", "")
    if name and slug and region:
        return {"guildName": name, "guildServerSlug": slug, "guildServerRegion": region.lower()}
    return None


def wcl_is_configured() -> bool:
    """On when the WCL client id and secret are set (environment, else the admin's encrypted
    settings, read now) and the guild is known."""
    return bool(get_secret("WCL_CLIENT_ID") and get_secret("WCL_CLIENT_SECRET") and wcl_guild())


@dataclass
class WclImport(RunReport):
    """The outcome of one event's import: ``status`` imported / waiting (no report yet) /
    gave_up / report_gone (an officer's re-import of an imported event found its report deleted:
    the last import is kept) / busy (another worker holds it, or already imported)."""

    LIST_LIMIT = WCL_UNPLACED_KEPT
    COUNTED_LISTS = ("unplaced",)
    NOT_STORED = ("status",)

    status: str
    reports: list[str] = field(default_factory=list)  # codes of the guild's Warcraft Logs reports read
    seen: int = 0  # distinct characters those reports name
    marked: int = 0  # attendance rows already on the event, now marked attended
    created: int = 0  # attendance rows added attended (the player was not on the event's roster)
    already: int = 0  # attendance rows attended already, left as they were
    overrides_kept: int = 0  # attendance rows an officer set by hand, left as they were
    unplaced: list[dict] = field(default_factory=list)  # {name, server, reason}

    def summary(self) -> str:
        """What the import did, for the officer (the admin action's message)."""
        if self.status != "imported":
            return {"waiting": _("no Warcraft Logs report for this evening yet (tried again next run)"),
                    "gave_up": _("no Warcraft Logs report appeared: gave up"),
                    "report_gone": _("the Warcraft Logs report of this evening is gone (deleted or made private): "
                                     "the last import is kept, nothing changed and nothing will retry it"),
                    "busy": _("being imported by another worker right now")}.get(self.status, self.status)
        text = _("%(seen)s character(s) in %(reports)s report(s): %(marked)s marked attended (%(created)s not on the "
                 "roster before), %(already)s already attended, %(kept)s officer override(s) kept") % {
            "seen": self.seen, "reports": len(self.reports), "marked": self.marked + self.created,
            "created": self.created, "already": self.already, "kept": self.overrides_kept}
        if self.unplaced:
            names = "; ".join(f"{u['name']}-{u['server']}: {u['reason']}" for u in self.unplaced[:5])
            text += ", " + _("%(count)s not placed (%(names)s)") % {
                "count": len(self.unplaced), "names": names + (", …" if len(self.unplaced) > 5 else "")}
        return text


def _claim_wcl(event_id: int, now: dt.datetime, *, force: bool) -> bool:
    """Take the event for this worker: a lease (one conditional UPDATE, ``core.claims``), since
    the import talks to Warcraft Logs for seconds outside any transaction; a dead worker's
    lease lapses after ``WCL_CLAIM``."""
    rows = RaidEvent.objects.filter(pk=event_id)
    if not force:
        rows = rows.filter(wcl_import_status="")
    return claim_lease(rows, until=now + WCL_CLAIM, now=now, field="wcl_claimed_until") == 1


def _release_wcl(event_id: int, **fields) -> None:
    RaidEvent.objects.filter(pk=event_id).update(wcl_claimed_until=None, **fields)


def place_characters(seen: list[SeenCharacter]) -> tuple[dict[int, list[str]], list[dict]]:
    """Characters seen in the logs → players, through the character → player link
    (``guildsync.PlayerCharacter``): name (any case) and realm (WCL's "TarrenMill" against the
    slug "tarren-mill" or the realm's name). Returns {player id: [character names]} and the
    characters that could not be placed, each with the reason. Two queries."""
    from guildsync.models import WowCharacter

    by_name: dict[str, list[WowCharacter]] = {}
    names = {c.name.casefold() for c in seen}
    for character in (WowCharacter.objects.annotate(lname=Lower("character_name")).filter(lname__in=names)
                      .select_related("player_link")):
        by_name.setdefault(character.lname, []).append(character)
    players: dict[int, list[str]] = {}
    unplaced: list[dict] = []
    for char in seen:
        candidates = by_name.get(char.name.casefold(), [])
        key = realm_key(char.server)
        found = [c for c in candidates if key and key in (realm_key(c.realm_slug), realm_key(c.realm_name or ""))]
        if not found and not key and len(candidates) == 1:
            found = candidates  # the log names no realm and only one character has this name
        reason = None
        if not found:
            reason = (said(gettext_noop("no character with this name here")) if not candidates else
                      said(gettext_noop("no character with this name on this realm here (there is %(others)s)"),
                           others=", ".join(f"{c.character_name}-{c.realm_slug}" for c in candidates[:3])))
        else:
            link = getattr(found[0], "player_link", None)
            if link is None:
                reason = said(gettext_noop(
                    "the character is not linked to a player (link it in Guild officers → Players)"))
            else:
                players.setdefault(link.player_id, []).append(char.name)
        if reason:
            unplaced.append({"name": char.name[:64], "server": char.server[:64], **stored(reason)})
    return players, unplaced


def import_wcl_attendance(event: RaidEvent, *, client: WarcraftLogsClient | None = None,
                          now: dt.datetime | None = None, force: bool = False, triggered_by: str = "") -> WclImport:
    """Read the guild's Warcraft Logs report(s) of ``event``'s evening and mark ``attended``
    for every character seen in a fight, through the character → player link.

    - The event is claimed first (conditional update; ``force``, the officers' action, also
      re-imports an imported or given-up event), so two workers never import it together.
    - Warcraft Logs is read before anything is written: an outage or refusal raises
      ``WarcraftLogsError`` and changes no attendance (the error is noted on the event).
    - No report yet: the event stays pending for the next run, until
      ``WCL_IMPORT_GIVE_UP_HOURS`` after its end, then it is given up (recorded).
    - An officer's re-import of an imported event whose report is gone from Warcraft Logs keeps
      the last import (its attendance stands) and records when the report was found gone
      (``report_gone`` in ``wcl_import_report``); no run retries it, and the status says so.
    - Then, in one transaction: new rows for players seen but not on the roster (accepted, not
      signed up), ``attended`` set on the others — except rows whose mark an officer set by hand
      (``attended_source`` officer), which are never changed. Characters it could not place are
      listed with the reason on the event (``wcl_import_report``, the admin shows them) and in
      the log. Rerunning changes nothing."""
    now = now or timezone.now()
    if not wcl_is_configured():
        raise RaidsError(_("Warcraft Logs is not configured: set WCL_CLIENT_ID and WCL_CLIENT_SECRET (environment "
                           "or Secret settings) and the guild (Raid-Helper settings › Warcraft Logs, or WCL_GUILD_ID "
                           "/ WCL_GUILD_NAME with its realm and region in the environment)."))
    if now < event.end_time_utc:
        raise RaidsError(_("“%(event)s” has not ended yet: its attendance is read from the logs after %(end)s UTC.")
                         % {"event": event, "end": date_format(event.end_time_utc.astimezone(dt.UTC), "D d M H:i")})
    if not _claim_wcl(event.pk, now, force=force):
        return WclImport(status="busy")
    event.refresh_from_db(fields=["wcl_import_status", "wcl_import_report"])
    client = client or WarcraftLogsClient()
    start = event.start_time_utc - WCL_REPORT_MARGIN
    end = event.end_time_utc + WCL_REPORT_MARGIN
    try:
        reports = client.guild_reports(wcl_guild(), int(start.timestamp() * 1000), int(end.timestamp() * 1000))
        found = [client.report_players(r.code) for r in reports]
    except WarcraftLogsError as exc:
        note = {**(event.wcl_import_report or {}), "last_error": str(exc).replace("\x00", "")[:300],
                "last_try": now.isoformat()}
        _release_wcl(event.pk, wcl_import_report=note)
        log.error("Warcraft Logs import failed for raid_event_id=%s (retried next run): %s", event.pk, exc)
        raise
    except BaseException:
        _release_wcl(event.pk)
        raise
    if not reports and event.wcl_import_status == "imported":  # an officer's re-run: the report went away
        gone = {"at": now.isoformat(), "by": triggered_by[:150], "reports": (event.wcl_import_report or {}).get(
            "reports", [])}
        _release_wcl(event.pk, wcl_import_report={**(event.wcl_import_report or {}), "report_gone": gone})
        log.warning("Warcraft Logs report(s) of raid_event_id=%s gone; the last import is kept", event.pk)
        return WclImport(status="report_gone")
    if not reports and event.wcl_import_status:  # an officer's re-run of a given-up event: still nothing
        _release_wcl(event.pk)
        return WclImport(status="gave_up")
    if not reports:
        give_up = now >= event.end_time_utc + dt.timedelta(hours=settings.WCL_IMPORT_GIVE_UP_HOURS)
        attempts = int((event.wcl_import_report or {}).get("attempts") or 0) + 1
        if give_up:
            _release_wcl(event.pk, wcl_import_status="gave_up", wcl_imported_at=now, wcl_import_report={
                "at": now.isoformat(), "attempts": attempts, **stored(said(gettext_noop(
                    "no Warcraft Logs report of the guild covers this raid %(hours)s h after it ended: mark "
                    "attendance by hand"), hours=settings.WCL_IMPORT_GIVE_UP_HOURS))})
            log.warning("Warcraft Logs import gave up on raid_event_id=%s: no report", event.pk)
            return WclImport(status="gave_up")
        _release_wcl(event.pk, wcl_import_report={**stored(said(gettext_noop("no report uploaded yet")), "waiting"),
                                                  "attempts": attempts,
                                                  "last_try": now.isoformat()})
        return WclImport(status="waiting")
    result = WclImport(status="imported", reports=[r.code for r in reports])
    seen = list(dict.fromkeys(c for report in found for c in report.seen))
    result.seen = len(seen)
    for report in found:
        result.unplaced += [{"name": "?", "server": "", **stored(said(gettext_noop("report %(code)s: %(problem)s"),
                                                                      code=report.code, problem=text))}
                            for text in report.rejected]
    try:
        with transaction.atomic():
            locked = RaidEvent.objects.select_for_update().get(pk=event.pk)
            players, unplaced = place_characters(seen)
            result.unplaced = unplaced + result.unplaced
            rows = {row.player_id: row for row in RaidAttendance.objects.select_for_update().filter(event=locked)}
            to_create, to_update = [], []
            for player_id in players:
                row = rows.get(player_id)
                if row is None:
                    to_create.append(RaidAttendance(
                        event=locked, player_id=player_id, status=Status.ACCEPTED, signed_up=False, attended=True,
                        attended_source=AttendedSource.WARCRAFT_LOGS, source=Source.WARCRAFT_LOGS))
                elif row.attended_source == AttendedSource.OFFICER:
                    result.overrides_kept += 1
                elif row.attended:
                    result.already += 1
                else:
                    row.attended, row.attended_source, row.updated_at = True, AttendedSource.WARCRAFT_LOGS, now
                    to_update.append(row)
            RaidAttendance.objects.bulk_create(to_create)
            RaidAttendance.objects.bulk_update(to_update, ["attended", "attended_source", "updated_at"])
            result.created, result.marked = len(to_create), len(to_update)
            locked.wcl_import_status, locked.wcl_imported_at, locked.wcl_claimed_until = "imported", now, None
            locked.wcl_import_report = {"at": now.isoformat(), "by": triggered_by[:150], **result.as_dict()}
            locked.save(update_fields=["wcl_import_status", "wcl_imported_at", "wcl_claimed_until",
                                       "wcl_import_report"])
    except BaseException:
        _release_wcl(event.pk)
        raise
    for item in result.unplaced:
        log.warning("Warcraft Logs character not placed on raid_event_id=%s: %s", event.pk, item)
    return result


def import_wcl_finished_events(now: dt.datetime | None = None) -> dict:
    """Every 30 minutes: import attendance from Warcraft Logs for each event that ended at least
    ``WCL_IMPORT_AFTER_MINUTES`` ago and is still pending (no report yet → retried next run,
    given up ``WCL_IMPORT_GIVE_UP_HOURS`` after its end). Quiet when not configured. A 429 that
    asks for a long wait ends the run: the next one goes on."""
    now = now or timezone.now()
    counts = {"imported": 0, "waiting": 0, "gave_up": 0, "busy": 0, "failed": 0}
    if not wcl_is_configured():
        return {**counts, "configured": False}
    latest_end = now - dt.timedelta(minutes=settings.WCL_IMPORT_AFTER_MINUTES)
    earliest_end = now - dt.timedelta(hours=settings.WCL_IMPORT_GIVE_UP_HOURS) - dt.timedelta(days=1)
    events = (RaidEvent.objects.filter(wcl_import_status="", end_time_utc__lte=latest_end,
                                       end_time_utc__gte=earliest_end).order_by("end_time_utc"))
    client = WarcraftLogsClient()  # one per run: credentials read now (a rotation is used right away)
    for event in events:
        try:
            outcome = import_wcl_attendance(event, client=client, now=now, triggered_by="schedule")
        except (RaidsError, WarcraftLogsError) as exc:
            counts["failed"] += 1
            if isinstance(exc, WarcraftLogsError) and exc.status in (401, 429):
                break  # refused credentials or a long rate limit: every other event would fail the same way
            continue
        counts[outcome.status] += 1
    return {**counts, "configured": True}
