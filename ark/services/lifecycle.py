"""The minute task: lock at close, due reminders, result reminders, reconcile lost messages; each match claimed with ``SELECT … FOR UPDATE SKIP LOCKED``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _

from bot import outbox
from core import i18n
from core.claims import claim_row
from core.reports import RunReport

from .. import conf
from ..messages import confirmation_buttons, reminder_text
from ..models import (
    Match,
    MessageRef,
    ReminderPrefs,
    SentReminder,
    Signup,
)
from .common import OPEN, MatchStatus, SignupStatus, _audit, _now
from .discord_sync import _channel_for, _sync_message
from .matches import _lock

# --- lifecycle (the minute task) ---------------------------------------------------------------


@dataclass
class LifecycleReport(RunReport):
    locked: int = 0  # matches whose signups closed, locked by this run
    reminders_queued: int = 0  # reminder DMs and channel posts queued in the outbox
    reminders_skipped: int = 0  # due reminders recorded as skipped late: past the grace period, or signups closed first
    result_reminders: int = 0  # locked matches past the result delay, reminded once (a post when a channel is set)
    reposted: int = 0  # registration/confirmation messages never queued or lost: posted again (or adopted)

    def __str__(self) -> str:
        return (
            f"{self.locked} locked, {self.reminders_queued} reminders queued, {self.reminders_skipped} skipped "
            f"late, {self.result_reminders} result reminders, {self.reposted} messages reposted"
        )


def _record_reminder(match, rtype, target: int, due, status: str, row=None) -> None:
    """One planned reminder, sent or skipped: the row that keeps it from ever going out twice."""
    SentReminder.objects.create(match=match, reminder_type=rtype.name, target_id=target, is_channel=rtype.to_channel,
                                scheduled_for=due, status=status, outbox=row)


def _claim(match_id: int, *statuses: str) -> Match | None:
    """Lock one match for this worker, or None if another worker holds it or it moved on."""
    return claim_row(Match.objects.select_related("alliance"), match_id, status__in=statuses)


def run_lifecycle(now: dt.datetime | None = None) -> LifecycleReport:
    """Everything the minute task does. Each match is handled in its own transaction under a
    SKIP LOCKED row lock, so two workers at once split the work instead of doubling it; the
    unique keys (reminders, outbox dedupe keys) would refuse a double anyway."""
    now = _now(now)
    report = LifecycleReport()
    for match_id in Match.objects.filter(status=MatchStatus.SCHEDULED, signup_close_utc__lte=now).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            match = _claim(match_id, MatchStatus.SCHEDULED)
            if match and match.signup_close_utc <= now:
                _lock(match, None, now)
                report.locked += 1
    _due_reminders(now, report)
    _result_reminders(now, report)
    _reconcile_messages(report)
    return report


def _due_reminders(now: dt.datetime, report: LifecycleReport) -> None:
    types = conf.reminder_types()
    if not types:
        return
    grace = conf.reminder_grace()
    start_horizon = max((t.offset for t in types if t.anchor == "start"), default=dt.timedelta(0))
    close_horizon = max((t.offset for t in types if t.anchor == "close"), default=dt.timedelta(0))
    candidates = Match.objects.filter(
        status__in=OPEN, match_time_utc__gte=now - dt.timedelta(hours=6)
    ).filter(Q(match_time_utc__lte=now + start_horizon) | Q(signup_close_utc__lte=now + close_horizon))
    for match_id in candidates.values_list("pk", flat=True):
        with transaction.atomic():
            match = _claim(match_id, *OPEN)
            if match is None:
                continue
            queued = skipped = 0
            users = sorted(
                set(
                    Signup.objects.filter(match=match, status=SignupStatus.ACTIVE).values_list(
                        "discord_user_id", flat=True
                    )
                )
            )
            prefs = {p.discord_user_id: p for p in ReminderPrefs.objects.filter(discord_user_id__in=users)}
            for rtype in types:
                anchor = match.signup_close_utc if rtype.anchor == "close" else match.match_time_utc
                due = anchor - rtype.offset
                if due > now:
                    continue
                # "signups close soon" for a closed match: nothing to say if it was locked
                # before the reminder was due; missed (recorded as late) if it was due first
                closed = rtype.anchor == "close" and match.status != MatchStatus.SCHEDULED
                if closed and (match.locked_at is None or match.locked_at < due):
                    continue
                channel = match.alliance.registration_channel_id
                targets = ([channel] if channel else []) if rtype.to_channel else users
                done = set(
                    SentReminder.objects.filter(
                        match=match, reminder_type=rtype.name, scheduled_for=due
                    ).values_list("target_id", flat=True)
                )
                for target in targets:
                    if target in done:
                        continue
                    if now - due > grace or closed:
                        _record_reminder(match, rtype, target, due, SentReminder.Status.SKIPPED_LATE)
                        skipped += 1
                        continue
                    if not rtype.to_channel and target in prefs and not prefs[target].wants(rtype.name):
                        continue
                    key = f"ark:reminder:{match.pk}:{rtype.name}:{target}:{int(due.timestamp())}"
                    if rtype.to_channel:
                        with i18n.public():  # a channel post: the server language
                            text = reminder_text(match, rtype.text)
                            row = outbox.post_message(target, content=text, dedupe_key=key, topic="ark.reminder")
                    else:
                        in_checkin = rtype.anchor == "start" and rtype.offset <= conf.CHECKIN_WINDOW
                        with i18n.for_member(target):  # a DM: the member's language
                            text = reminder_text(match, rtype.text)
                            components = confirmation_buttons(match.pk) if in_checkin else None
                            row = outbox.send_dm(
                                target, content=text, components=components, dedupe_key=key, topic="ark.reminder"
                            )
                    _record_reminder(match, rtype, target, due, SentReminder.Status.QUEUED, row)
                    queued += 1
            if queued or skipped:
                _audit("reminders", None, match=match, queued=queued, skipped_late=skipped)
            report.reminders_queued += queued
            report.reminders_skipped += skipped


def _result_reminders(now: dt.datetime, report: LifecycleReport) -> None:
    delay = conf.result_reminder_delay()
    due = Match.objects.filter(
        status=MatchStatus.LOCKED, result_reminded_at__isnull=True, match_time_utc__lte=now - delay
    ).values_list("pk", flat=True)
    for match_id in due:
        with transaction.atomic():
            match = _claim(match_id, MatchStatus.LOCKED)
            if match is None or match.result_reminded_at is not None:
                continue
            channel = match.alliance.officer_channel_id or match.alliance.confirmation_channel_id
            if channel:
                with i18n.public():  # a channel post: the server language
                    outbox.post_message(
                        channel,
                        content=_("**Ark of Osiris — %(alliance)s**: the match of %(when)s (#%(match)s) has no result "
                                  "yet. Officers: `/ark set_result match_id:%(match)s` or the admin.") % {
                            "alliance": match.alliance.name, "when": outbox.discord_timestamp(match.match_time_utc, "F"),
                            "match": match.pk},
                        dedupe_key=f"ark:result_reminder:{match.pk}",
                        topic="ark.result_reminder",
                    )
            match.result_reminded_at = now
            match.save(update_fields=["result_reminded_at", "updated_at"])
            _audit("result_reminder", None, match=match, channel_id=channel)
            report.result_reminders += 1


def _message_known(kind: str) -> Exists:
    """The match has a ``kind`` message Discord accepted or the outbox still holds (one
    subquery on the same ref row: ``exclude()`` across a reverse relation would mix rows)."""
    return Exists(
        MessageRef.objects.filter(match=OuterRef("pk"), kind=kind).filter(
            Q(message_id__isnull=False) | Q(post_outbox__isnull=False)
        )
    )


def _reconcile_messages(report: LifecycleReport) -> None:
    """The seed's restart step: an open match whose registration message is unknown (never
    queued, or Discord lost it), or a locked match whose confirmation message is, gets it
    posted again (or adopts the post the outbox still knows)."""
    for kind, statuses in (
        (MessageRef.Kind.REGISTRATION, OPEN),
        (MessageRef.Kind.CONFIRMATION, (MatchStatus.LOCKED,)),
    ):
        lost = Match.objects.filter(status__in=statuses).exclude(_message_known(kind))
        for match_id in lost.values_list("pk", flat=True):
            with transaction.atomic():
                match = _claim(match_id, *statuses)
                if match is None or not _channel_for(match, kind):
                    continue
                ref = MessageRef.objects.filter(match=match, kind=kind).first()
                if ref is not None and (ref.message_id or ref.post_outbox_id):
                    continue
                _sync_message(match, kind)  # adopts the outbox's post or posts again
                _audit("message_reposted", None, match=match, kind=kind)
                report.reposted += 1
