"""The daily fill post: until signups close, each alliance with a nudge time in its calendar
gets one channel post a day showing the fill ("22/30 players, 3 subs; closes <t:…:R>").

Once per day per match by construction: each nudge is a ``SentReminder`` row keyed by the day's
nudge time (unique per match, target, type and time). When the fill has not changed since the
last nudge, that post is edited in place (its "as of" moves on) instead of posting again. No
nudge in the alliance's quiet hours: it goes out when they end, the same day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from bot import outbox
from bot.models import OutboxMessage
from core import i18n
from core.claims import claim_row
from core.reports import RunReport

from ..models import ArkCalendar, Match, SentReminder
from .common import MatchStatus, _counts, _now

NUDGE = "fill_nudge"


@dataclass
class NudgeReport(RunReport):
    posted: list[int] = field(default_factory=list)  # ids of the matches whose fill post was queued as a new post
    edited: list[int] = field(default_factory=list)  # ids of the matches whose unchanged fill post was edited in place

    def __str__(self) -> str:
        return f"{len(self.posted)} fill post(s), {len(self.edited)} edited in place"


def in_quiet_hours(calendar: ArkCalendar, moment: dt.datetime) -> bool:
    start, end = calendar.quiet_start_utc, calendar.quiet_end_utc
    if start is None or end is None or start == end:
        return False
    t = moment.timetz().replace(tzinfo=None)
    return start <= t < end if start < end else (t >= start or t < end)  # wraps midnight


def fill_line(match: Match) -> str:
    players, subs = _counts(match)
    return (
        _("**Ark of Osiris — %(alliance)s** · %(players)s/%(cap)s players, %(subs)s subs; closes %(when)s.") % {
            "alliance": match.alliance.name, "players": players, "cap": match.alliance.player_cap, "subs": subs,
            "when": outbox.discord_timestamp(match.signup_close_utc, "R")}
    )


def _message_of(row: OutboxMessage | None) -> int | None:
    if row is None or row.status != OutboxMessage.Status.SENT:
        return None
    return row.sent_message_id if row.kind == OutboxMessage.Kind.CHANNEL_MESSAGE else row.message_id


def post_fill_nudges(now: dt.datetime | None = None) -> NudgeReport:
    """Queue today's fill post of every open match whose nudge time has come (beat: every few
    minutes). Each match is claimed with ``SKIP LOCKED``; a second run the same day does nothing."""
    now = _now(now)
    report = NudgeReport()
    candidates = list(
        Match.objects.filter(
            status=MatchStatus.SCHEDULED,
            signup_close_utc__gt=now,
            alliance__calendar__nudge_time_utc__isnull=False,
            alliance__registration_channel_id__isnull=False,
        ).values_list("pk", flat=True)
    )
    for match_id in candidates:
        with transaction.atomic():
            match = claim_row(Match.objects.select_related("alliance__calendar"), match_id,
                              status=MatchStatus.SCHEDULED)
            if match is None:
                continue
            calendar = match.alliance.calendar
            due = dt.datetime.combine(now.date(), calendar.nudge_time_utc, tzinfo=dt.UTC)
            if now < due or in_quiet_hours(calendar, now):
                continue
            channel = match.alliance.registration_channel_id
            if SentReminder.objects.filter(match=match, reminder_type=NUDGE, scheduled_for=due).exists():
                continue
            last = (
                SentReminder.objects.filter(match=match, reminder_type=NUDGE, status=SentReminder.Status.QUEUED)
                .select_related("outbox")
                .order_by("-scheduled_for")
                .first()
            )
            with i18n.public():  # a channel post (or its edit): the server language
                line = fill_line(match)
                content = line + "\n-# " + _("as of %(when)s") % {"when": outbox.discord_timestamp(now, "f")}
                previous_line = ((last.outbox.payload or {}).get("content") or "").split("\n")[0] if last and last.outbox else None
                message_id = _message_of(last.outbox if last else None)
                if previous_line == line and message_id:
                    row = outbox.edit_message(
                        channel, message_id, content=content,
                        dedupe_key=f"ark:nudge:edit:{match.pk}:{due:%Y%m%d}", topic="ark.nudge_edit",
                    )
                    edited = True
                else:
                    row = outbox.post_message(
                        channel, content=content, dedupe_key=f"ark:nudge:{match.pk}:{due:%Y%m%d}", topic="ark.nudge"
                    )
                    edited = False
            try:
                with transaction.atomic():
                    SentReminder.objects.create(
                        match=match, reminder_type=NUDGE, target_id=channel, is_channel=True,
                        scheduled_for=due, status=SentReminder.Status.QUEUED, outbox=row,
                    )
            except IntegrityError:
                continue
            (report.edited if edited else report.posted).append(match.pk)
    return report
