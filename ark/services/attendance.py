"""Results per governor: officers mark each signup of a started match played, no-show or
excused; a governor's record adds these up (with the totals the retention job archived); and
the alliance's no-show rule *suggests* a ban (never bans by itself)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.reports import RunReport

from ..models import Alliance, Governor, GovernorRecord, Match, Signup
from .bans import ark_weekend_of, get_active_ban_for
from .common import MatchStatus, SignupStatus, _audit, _lock_match, _now
from .errors import ArkError, NotFoundError

Attendance = Signup.Attendance


def set_attendance(
    *,
    match_id: int,
    governor_id: int,
    attendance: str,
    actor_discord_id: int | None = None,
    now: dt.datetime | None = None,
) -> Signup:
    """Record whether a governor signed up for a started match played, did not show or was excused."""
    now = _now(now)
    value = str(attendance or "").strip().lower().replace("-", "_").replace(" ", "_")
    if value not in (Attendance.PLAYED, Attendance.NO_SHOW, Attendance.EXCUSED):
        raise ArkError(_("Attendance is played, no_show or excused."))
    with transaction.atomic():
        match = _lock_match(match_id)
        if match.status == MatchStatus.CANCELLED:
            raise ArkError(_("This match was cancelled."))
        if now < match.match_time_utc:
            raise ArkError(_("Attendance is recorded once the match has started."))
        signup = (
            Signup.objects.select_for_update(of=("self",))
            .select_related("governor")
            .filter(match=match, governor__governor_id=governor_id)
            .exclude(status=SignupStatus.REMOVED)
            .order_by("-created_at")
            .first()
        )
        if signup is None:
            raise NotFoundError(_("Governor %(governor_id)s was not signed up for match #%(match)s.") % {"governor_id": governor_id, "match": match.pk})
        before = signup.attendance
        signup.attendance = value
        signup.save(update_fields=["attendance", "updated_at"])
        _audit("attendance_set", actor_discord_id, match=match, signup=signup,
               governor_id=governor_id, before=before, after=value)
        return signup


def set_match_attendance(
    *,
    match_id: int,
    marks: dict[int, str],
    actor_discord_id: int | None = None,
    now: dt.datetime | None = None,
) -> list[tuple[Signup, str]]:
    """Several governors' attendance of one started match at once (the match page's sheet):
    ``{governor_id: played|no_show|excused}``. One transaction: a refused mark (unknown
    governor, match not started) leaves every mark as it was. Returns each changed signup with
    its attendance before; a mark equal to the current one is left alone (no audit row)."""
    if not marks:
        raise ArkError(_("Nothing to mark: choose Played, No-show or Excused for at least one governor."))
    changed = []
    with transaction.atomic():
        current = dict(Signup.objects.filter(match_id=match_id, governor__governor_id__in=list(marks))
                       .exclude(status=SignupStatus.REMOVED).values_list("governor__governor_id", "attendance"))
        for governor_id, value in marks.items():
            if current.get(governor_id) == value:
                continue
            signup = set_attendance(match_id=match_id, governor_id=governor_id, attendance=value,
                                    actor_discord_id=actor_discord_id, now=now)
            changed.append((signup, current.get(governor_id, "")))
    return changed


@dataclass
class GovernorStats(RunReport):
    signed_up: int = 0  # signups, except those an officer removed (live and archived)
    checked_in: int = 0  # of those: checked in
    played: int = 0  # of those: attendance marked played
    no_show: int = 0  # of those: attendance marked no-show
    excused: int = 0  # of those: attendance marked excused


def governor_record(governor: Governor | int) -> GovernorStats:
    """Matches signed up (not removed by an officer), checked in, played, no-show, excused:
    the live signups plus the totals archived by the retention job."""
    gov_pk = governor.pk if isinstance(governor, Governor) else governor
    live = Signup.objects.filter(governor_id=gov_pk).exclude(status=SignupStatus.REMOVED).aggregate(
        signed_up=Count("id"),
        checked_in=Count("id", filter=Q(checked_in_at__isnull=False)),
        played=Count("id", filter=Q(attendance=Attendance.PLAYED)),
        no_show=Count("id", filter=Q(attendance=Attendance.NO_SHOW)),
        excused=Count("id", filter=Q(attendance=Attendance.EXCUSED)),
    )
    archived = GovernorRecord.objects.filter(governor_id=gov_pk).first()
    return GovernorStats(**{k: v + (getattr(archived, k) if archived else 0) for k, v in live.items()})


@dataclass
class BanSuggestion:
    governor: Governor
    alliance: Alliance
    no_shows: int
    window: int

    @property
    def reason(self) -> str:
        return ngettext("%(count)s no-show in the last %(window)s Ark matches (%(alliance)s)",
                        "%(count)s no-shows in the last %(window)s Ark matches (%(alliance)s)", self.no_shows) % {
            "count": self.no_shows, "window": self.window, "alliance": self.alliance.name}


def no_show_suggestions(alliance: Alliance | None = None, now: dt.datetime | None = None) -> list[BanSuggestion]:
    """Governors who reached their alliance's rule (N no-shows within their last M matches with
    a recorded attendance) and are not banned already. Suggestions only: an officer decides.
    One query for the attendance, one per suggestion for its ban check."""
    now = _now(now)
    rows = (
        Signup.objects.filter(match__alliance__is_active=True)
        .exclude(attendance="")
        .exclude(match__status=MatchStatus.CANCELLED)
        .select_related("governor", "match__alliance")
        .order_by("match__alliance_id", "governor_id", "-ark_weekend_date", "-id")
    )
    if alliance is not None:
        rows = rows.filter(match__alliance=alliance)
    recent: dict[tuple[int, int], list[Signup]] = {}
    for s in rows:
        bucket = recent.setdefault((s.match.alliance_id, s.governor_id), [])
        if len(bucket) < s.match.alliance.no_show_window:
            bucket.append(s)
    out = []
    weekend = ark_weekend_of(now.date())
    for signups in recent.values():
        ally = signups[0].match.alliance
        misses = sum(1 for s in signups if s.attendance == Attendance.NO_SHOW)
        if misses < ally.no_show_threshold:
            continue
        gov = signups[0].governor
        if get_active_ban_for(discord_user_id=gov.discord_user_id, governor_id=gov.governor_id, ark_weekend_date=weekend):
            continue
        out.append(BanSuggestion(gov, ally, misses, ally.no_show_window))
    return out


def match_attendance(match: Match) -> list[Signup]:
    """The signups whose attendance matters (everyone who was on the roster at the start)."""
    return list(
        Signup.objects.filter(match=match).exclude(status=SignupStatus.REMOVED).select_related("governor")
        .order_by("slot", "created_at")
    )
