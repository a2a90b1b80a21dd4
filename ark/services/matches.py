"""Matches: create, amend, cancel, lock, repost their messages, record the result."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import dateformat
from django.utils.translation import gettext as _

from bot import outbox
from core import i18n

from ..models import (
    Alliance,
    Match,
    MessageRef,
    SentReminder,
    Signup,
)
from .alliances import get_alliance
from .common import OPEN, MatchStatus, SignupStatus, _audit, _aware, _bounded_text, _counts, _lock_match, _now
from .discord_events import cancel_match_event, mirror_match
from .discord_sync import _bump, _channel_for, _sync_message
from .errors import ArkError, NotFoundError

# --- matches ---------------------------------------------------------------------------------


def _validate_schedule(weekend: dt.date, match_day: str, start: dt.datetime, close: dt.datetime) -> None:
    if weekend.weekday() != 5:
        raise ArkError(_("The Ark weekend date must be a Saturday; %(weekend)s is a %(weekend2)s.") % {"weekend": weekend, "weekend2": dateformat.format(weekend, "l")})
    if match_day not in Match.Day.values:
        raise ArkError(_("The match day is Sat or Sun."))
    expected = weekend + dt.timedelta(days=0 if match_day == Match.Day.SATURDAY else 1)
    if start.date() != expected:
        raise ArkError(
            _("A %(match_day)s match of the weekend of %(weekend)s starts on %(expected)s (UTC), not %(start)s.") % {"match_day": match_day, "weekend": weekend, "expected": expected, "start": start.date()}
        )
    if close > start:
        raise ArkError(_("Signups must close before the match starts."))


def _resolve_alliance(alliance: str | int | Alliance) -> Alliance:
    found = get_alliance(alliance)
    if found is None:
        raise NotFoundError(_("Unknown alliance %(alliance)s.") % {"alliance": repr(alliance)})
    return found


def create_match(
    *,
    alliance: str | int | Alliance,
    ark_weekend_date: dt.date,
    match_day: str,
    match_time_utc: dt.datetime,
    signup_close_utc: dt.datetime,
    notes: str = "",
    actor_discord_id: int | None = None,
    now: dt.datetime | None = None,
    scheduled: bool = False,
) -> Match:
    """Schedule a match and queue its registration message (``scheduled``: by the calendar)."""
    now = _now(now)
    start, close = _aware(match_time_utc, "match_time_utc"), _aware(signup_close_utc, "signup_close_utc")
    notes = _bounded_text(notes, Match, "notes", _("The match notes"))
    with transaction.atomic():
        ally = _resolve_alliance(alliance)
        if not ally.is_active:
            raise ArkError(_("Alliance %(alliance)s is inactive.") % {"alliance": ally.name})
        for missing in ally.missing_channels:
            raise ArkError(
                _("Alliance %(alliance)s has no %(missing)s set: an officer sets it in the admin under "
                  "Ark of Osiris › Alliances › %(alliance)s.") % {"alliance": ally.name, "missing": missing}
            )
        _validate_schedule(ark_weekend_date, match_day, start, close)
        if close <= now:
            raise ArkError(_("The signup close time is already past."))
        if (
            Match.objects.filter(alliance=ally, ark_weekend_date=ark_weekend_date)
            .exclude(status=MatchStatus.CANCELLED)
            .exists()
        ):
            raise ArkError(_("%(alliance)s already has a match on the weekend of %(ark_weekend_date)s.") % {"alliance": ally.name, "ark_weekend_date": ark_weekend_date})
        try:
            with transaction.atomic():
                match = Match.objects.create(
                    alliance=ally,
                    ark_weekend_date=ark_weekend_date,
                    match_day=match_day,
                    match_time_utc=start,
                    signup_close_utc=close,
                    notes=notes or "",
                    created_by_discord_id=actor_discord_id,
                    roster_version=1,
                    scheduled_by_calendar=scheduled,
                )
        except IntegrityError:
            raise ArkError(_("%(alliance)s already has a match on the weekend of %(ark_weekend_date)s.") % {"alliance": ally.name, "ark_weekend_date": ark_weekend_date}) from None
        _audit(
            "match_created",
            actor_discord_id,
            match=match,
            alliance=ally.name,
            weekend=ark_weekend_date,
            day=match_day,
            start=start,
            close=close,
        )
        _sync_message(match, MessageRef.Kind.REGISTRATION)
        mirror_match(match, now)
        return match


def amend_match(
    *,
    match_id: int,
    match_day: str | None = None,
    match_time_utc: dt.datetime | None = None,
    signup_close_utc: dt.datetime | None = None,
    notes: str | None = None,
    alliance: str | int | Alliance | None = None,
    actor_discord_id: int | None = None,
    now: dt.datetime | None = None,
) -> Match:
    """Change day/time/notes (the alliance only while nobody signed up). A new time re-plans
    the reminders: they are keyed by their planned time, so the ones already sent for the old
    time stay sent and the new ones go out once; reminders queued for the old time are dropped.
    The signed-up members are told the new start by DM. A locked match keeps its (past) signup
    close: re-opening signups behind the confirmation message would confuse everyone."""
    now = _now(now)
    with transaction.atomic():
        match = _lock_match(match_id)
        if match.status not in OPEN:
            raise ArkError(_("A %(status)s match cannot be amended.") % {"status": match.get_status_display().lower()})
        before = {
            "day": match.match_day,
            "start": match.match_time_utc,
            "close": match.signup_close_utc,
            "notes": match.notes,
            "alliance": match.alliance.name,
        }
        if alliance is not None:
            ally = _resolve_alliance(alliance)
            if ally.pk != match.alliance_id:
                if Signup.objects.filter(match=match).exists():
                    raise ArkError(_("The alliance can only change while nobody has signed up."))
                if ally.missing_channels:
                    raise ArkError(_("Alliance %(alliance)s has no %(missing_channels)s set.") % {"alliance": ally.name, "missing_channels": ally.missing_channels[0]})
                match.alliance = ally
        day = match_day or match.match_day
        start = _aware(match_time_utc, "match_time_utc") if match_time_utc else match.match_time_utc
        close = _aware(signup_close_utc, "signup_close_utc") if signup_close_utc else match.signup_close_utc
        if match_time_utc and not signup_close_utc and close > start:
            close = start
        _validate_schedule(match.ark_weekend_date, day, start, close)
        if start != match.match_time_utc and start <= now:
            raise ArkError(_("The new start time is already past."))
        if match.status == MatchStatus.LOCKED and signup_close_utc and close != match.signup_close_utc:
            raise ArkError(_("Signups of this match are closed (it is locked): only the start can still move."))
        moved = start != match.match_time_utc or close != match.signup_close_utc
        start_moved = start != match.match_time_utc
        match.match_day, match.match_time_utc, match.signup_close_utc = day, start, close
        if notes is not None:
            match.notes = _bounded_text(notes, Match, "notes", _("The match notes"))
        try:
            with transaction.atomic():
                match.save()
        except IntegrityError:
            raise ArkError(_("%(alliance)s already has a match that weekend.") % {"alliance": match.alliance.name}) from None
        dropped = _drop_pending_reminders(match) if moved else 0
        told = _tell_new_start(match) if start_moved else 0
        _audit(
            "match_amended",
            actor_discord_id,
            match=match,
            before=before,
            after={
                "day": day,
                "start": start,
                "close": close,
                "notes": match.notes,
                "alliance": match.alliance.name,
            },
            reminders_dropped=dropped,
            notified=told,
        )
        if before["alliance"] != match.alliance.name:
            Match.objects.filter(pk=match.pk).update(roster_version=F("roster_version") + 1)
            match.refresh_from_db(fields=["roster_version"])
            _sync_message(match, MessageRef.Kind.REGISTRATION, repost=True)  # into the new alliance's channel
        else:
            _bump(match)
        mirror_match(match, now)
        return match


def _active_users(match: Match) -> list[int]:
    return sorted(
        set(
            Signup.objects.filter(match=match, status=SignupStatus.ACTIVE).values_list(
                "discord_user_id", flat=True
            )
        )
    )


def _tell_new_start(match: Match) -> int:
    """DM the signed-up members the new start (once per user and new time)."""
    users = _active_users(match)
    when = outbox.discord_timestamp(match.match_time_utc, "F")
    relative = outbox.discord_timestamp(match.match_time_utc, "R")
    for user in users:
        with i18n.for_member(user):  # a DM: the member's language
            outbox.send_dm(
                user,
                content=_("**Ark of Osiris — %(alliance)s**: the match moved to **%(when)s** (%(relative)s). "
                          "You are still signed up.") % {"alliance": match.alliance.name, "when": when,
                                                         "relative": relative},
                dedupe_key=f"ark:moved:{match.pk}:{user}:{int(match.match_time_utc.timestamp())}",
                topic="ark.rescheduled",
            )
    return len(users)


def _drop_pending_reminders(match: Match) -> int:
    """Withdraw the reminders queued for this match that no worker has claimed yet."""
    queued = SentReminder.objects.filter(match=match, status=SentReminder.Status.QUEUED, outbox__isnull=False)
    pending = outbox.withdraw_pending(list(queued.values_list("outbox_id", flat=True)),
                                      reason=f"ark match {match.pk} changed")
    if not pending:
        return 0
    SentReminder.objects.filter(outbox_id__in=pending).update(status=SentReminder.Status.DROPPED)
    return len(pending)


def cancelled_text(match: Match, reason: str = "") -> str:
    """The cancellation DM, in the active language (the member's: ``cancel_match``)."""
    text = _("**Ark of Osiris — %(alliance)s**: the match of %(day)s %(when)s was **cancelled**.") % {
        "alliance": match.alliance.name, "day": match.get_match_day_display(),
        "when": outbox.discord_timestamp(match.match_time_utc, "F")}
    return text + ("\n" + _("Reason: %(reason)s") % {"reason": reason[:500]} if reason else "")


def cancel_match(*, match_id: int, actor_discord_id: int | None = None, reason: str = "") -> Match:
    """Cancel: DM every signed-up user, drop pending reminders, mark the messages cancelled."""
    with transaction.atomic():
        match = _lock_match(match_id)
        if match.status not in OPEN:
            raise ArkError(_("This match is already %(status)s.") % {"status": match.get_status_display().lower()})
        match.status = MatchStatus.CANCELLED
        match.save(update_fields=["status", "updated_at"])
        users = _active_users(match)
        for user in users:
            with i18n.for_member(user):  # a DM: the member's language
                outbox.send_dm(user, content=cancelled_text(match, reason),
                               dedupe_key=f"ark:cancelled:{match.pk}:{user}", topic="ark.cancelled")
        dropped = _drop_pending_reminders(match)
        _audit(
            "match_cancelled",
            actor_discord_id,
            match=match,
            reason=reason,
            notified=len(users),
            reminders_dropped=dropped,
        )
        cancel_match_event(match, reason)
        _bump(match)
        return match


def list_open_matches(alliance: str | int | Alliance | None = None) -> list[Match]:
    """Scheduled or Locked matches, soonest first: the ones members can still act on."""
    qs = Match.objects.select_related("alliance").filter(status__in=OPEN).order_by("match_time_utc", "id")
    if alliance is not None:
        ally = get_alliance(alliance)
        if ally is None:
            return []
        qs = qs.filter(alliance=ally)
    return list(qs)


def lock_match(
    *, match_id: int, actor_discord_id: int | None = None, now: dt.datetime | None = None
) -> Match:
    """Close signups now and post the confirmation message (also what the scheduler does at close)."""
    with transaction.atomic():
        match = _lock_match(match_id)
        if match.status != MatchStatus.SCHEDULED:
            raise ArkError(_("Only a scheduled match can be locked; this one is %(status)s.") % {"status": match.get_status_display().lower()})
        _lock(match, actor_discord_id, _now(now))
        return match


def _lock(match: Match, actor: int | None, now: dt.datetime) -> None:
    match.status = MatchStatus.LOCKED
    match.locked_at = now
    match.save(update_fields=["status", "locked_at", "updated_at"])
    players, subs = _counts(match)
    _audit("match_locked", actor, match=match, players=players, subs=subs)
    Match.objects.filter(pk=match.pk).update(roster_version=F("roster_version") + 1)
    match.refresh_from_db(fields=["roster_version"])
    _sync_message(match, MessageRef.Kind.REGISTRATION)
    _sync_message(
        match,
        MessageRef.Kind.CONFIRMATION,
        repost=not MessageRef.objects.filter(match=match, kind=MessageRef.Kind.CONFIRMATION).exists(),
    )


def repost_match_messages(*, match_id: int, actor_discord_id: int | None = None) -> Match:
    """Post the match's messages again (the old ones are deleted): for a message deleted by
    hand in Discord or a channel that changed."""
    with transaction.atomic():
        match = _lock_match(match_id)
        kinds = [MessageRef.Kind.REGISTRATION]
        if match.status != MatchStatus.SCHEDULED:
            kinds.append(MessageRef.Kind.CONFIRMATION)
        for kind in kinds:
            if not _channel_for(match, kind):
                channel = (_("registration channel") if kind == MessageRef.Kind.REGISTRATION
                           else _("confirmation channel"))
                raise ArkError(_("Alliance %(alliance)s has no %(channel)s set.") % {"alliance": match.alliance.name,
                                                                                 "channel": channel})
            _sync_message(match, kind, repost=True)
        _audit("messages_reposted", actor_discord_id, match=match, kinds=kinds)
        return match


def set_match_result(
    *,
    match_id: int,
    result: str,
    result_notes: str = "",
    actor_discord_id: int | None = None,
    now: dt.datetime | None = None,
) -> Match:
    """Record Win/Loss/No-show; the match becomes Completed (a result may be corrected)."""
    now = _now(now)
    chosen = next((r for r in ("Win", "Loss", "No-show") if str(result).lower() == r.lower()), None)
    if chosen is None:
        raise ArkError(_("The result is Win, Loss or No-show."))
    result_notes = _bounded_text(result_notes, Match, "result_notes", _("The result notes"))
    with transaction.atomic():
        match = _lock_match(match_id)
        if match.status == MatchStatus.CANCELLED:
            raise ArkError(_("A cancelled match has no result."))
        if match.match_time_utc > now:
            raise ArkError(_("The match has not started yet: record the result afterwards."))
        before = match.result
        match.result, match.result_notes, match.status = chosen, result_notes or "", MatchStatus.COMPLETED
        match.save(update_fields=["result", "result_notes", "status", "updated_at"])
        _audit("result_set", actor_discord_id, match=match, result=chosen, notes=result_notes, before=before)
        _bump(match)
        return match
