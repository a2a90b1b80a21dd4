"""Sending sign-ups to Raid-Helper, and pushing events booked here while Raid-Helper was not
configured once it is."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.claims import claim_row
from core.reports import RunReport
from raids.clients import RaidHelperClient, RaidHelperError, slot_for
from raids.models import RaidAttendance, RaidEvent, RaidHelperSettings

from .common import (
    FALLBACK_TEMPLATE,
    MAX_SIGNUP_ATTEMPTS,
    NOT_CONFIGURED_SKIP,
    Push,
    RaidsError,
    _announce,
    _find_posted_event,
    event_description,
    get_client,
    is_configured,
)
from .discord_events import mirror_raid_event

log = logging.getLogger(__name__)


# -- Raid-Helper sign-ups --------------------------------------------------------------------
@dataclass
class PushReport(RunReport):
    sent: int = 0  # sign-ups Raid-Helper accepted
    failed: int = 0  # sign-ups it refused or did not answer; retried up to MAX_SIGNUP_ATTEMPTS


def push_signups(event: RaidEvent, *, client: RaidHelperClient | None = None) -> PushReport:
    """Send the pending/failed sign-ups of ``event`` to Raid-Helper, one transaction per player
    (each row locked while its POST runs, so two pushers never send the same one). Stops at
    the first outage (no answer, 5xx, 429): the rest stay pending for the next poll."""
    report = PushReport()
    if not event.raid_helper_event_id:
        return report
    client = client or get_client()
    todo = list(event.attendance.filter(signup_push__in=[Push.PENDING, Push.FAILED],
                                        signup_push_attempts__lt=MAX_SIGNUP_ATTEMPTS)
                .order_by("pk").values_list("pk", flat=True))
    for pk in todo:
        with transaction.atomic():
            row = claim_row(RaidAttendance.objects.select_related("player__discord_user", "specialization__default_role"),
                            pk, signup_push__in=[Push.PENDING, Push.FAILED])
            if row is None:
                continue
            spec = row.specialization
            try:
                class_name, spec_name = slot_for(row.status, spec.default_role.name if spec else None,
                                                 spec.name if spec else None)
            except ValueError:
                class_name = None
            if row.player.discord_user is None or class_name is None:
                row.signup_push = Push.SKIPPED
                row.signup_push_error = (_("no linked Discord account") if class_name
                                         else _("no main spec, so no role slot"))
                row.save(update_fields=["signup_push", "signup_push_error", "updated_at"])
                continue
            row.signup_push_attempts += 1
            try:
                answer = client.add_signup(event.raid_helper_event_id, row.player.discord_user.discord_id,
                                           class_name, spec_name)
            except RaidHelperError as exc:
                row.signup_push, row.signup_push_error = Push.FAILED, str(exc)[:300]
                row.save(update_fields=["signup_push", "signup_push_error", "signup_push_attempts", "updated_at"])
                report.failed += 1
                log.warning("Raid-Helper sign-up failed for attendance_id=%s: %s", row.pk, exc)
                if exc.no_answer or exc.status == 429 or (exc.status or 0) >= 500:
                    break
                continue
            answer = answer if isinstance(answer, dict) else {}
            signup = answer.get("signUp") or answer.get("signup") or answer
            row.signup_push, row.signup_push_error = Push.SENT, ""
            row.raid_helper_signup_id = str(signup.get("id") or "")[:32]
            row.save(update_fields=["signup_push", "signup_push_error", "signup_push_attempts",
                                    "raid_helper_signup_id", "updated_at"])
            report.sent += 1
    return report


def retry_signups(now: dt.datetime | None = None) -> PushReport:
    """Retry the sign-ups left pending or failed on upcoming events (called by every poll)."""
    now = now or timezone.now()
    if not is_configured():
        return PushReport()
    client = get_client()
    total = PushReport()
    events = RaidEvent.objects.filter(
        start_time_utc__gt=now, attendance__signup_push__in=[Push.PENDING, Push.FAILED],
        attendance__signup_push_attempts__lt=MAX_SIGNUP_ATTEMPTS,
    ).exclude(raid_helper_event_id="").distinct().order_by("start_time_utc")
    for event in events:
        total.add(push_signups(event, client=client))
    return total


# -- events booked here only, pushed once Raid-Helper is configured (issue #11 point 6) -------
NOT_CONFIGURED_NOTE = gettext_lazy("Not yet on Raid-Helper — will be pushed when Raid-Helper is configured")


@dataclass
class PushLaterRun(RunReport):
    configured: bool = True  # False: Raid-Helper is not configured, the poll did nothing
    pushed: int = 0  # events created in Raid-Helper (or adopted there: a create whose answer was lost)
    failed: int = 0  # events whose push failed: recorded on the event, retried next run
    signups_sent: int = 0  # sign-ups of the pushed events that Raid-Helper accepted
    signups_failed: int = 0  # sign-ups of the pushed events it refused or did not answer
    errors: list[str] = field(default_factory=list)  # one line per failed push


@dataclass
class PushLaterResult:
    event: RaidEvent
    adopted: bool = False
    signups_sent: int = 0
    signups_failed: int = 0


def push_later_candidates(now: dt.datetime) -> QuerySet[RaidEvent]:
    """Events booked here while Raid-Helper was not configured that have not started yet (an
    event that already started is not worth a sign-up post any more)."""
    return RaidEvent.objects.filter(raid_helper_pending=True, raid_helper_event_id="",
                                    start_time_utc__gt=now).order_by("start_time_utc", "pk")


def push_booked_here_events(now: dt.datetime | None = None) -> PushLaterRun:
    """One poll: create in Raid-Helper every upcoming event that was booked here only, with
    its sign-ups (``push_event_to_raid_helper``). A quiet no-op while Raid-Helper is not
    configured (the key is read on each run: environment, else the admin's setting). A
    refusal is recorded on the event and retried next run; an outage (no answer, 429, 5xx)
    ends the run, the rest waits for the next one."""
    now = now or timezone.now()
    config = RaidHelperSettings.load()
    if not is_configured(config):
        return PushLaterRun(configured=False)
    run = PushLaterRun()
    client = get_client(config)
    for event_id in list(push_later_candidates(now).values_list("pk", flat=True)):
        try:
            result = push_event_to_raid_helper(event_id, now=now, client=client, config=config)
        except (RaidsError, RaidHelperError) as exc:
            run.failed += 1
            run.errors.append(str(exc))
            _record_push_failure(event_id, exc)
            log.error("Pushing raid_event_id=%s to Raid-Helper failed (retried next run): %s", event_id, exc)
            if isinstance(exc, RaidHelperError) and (exc.no_answer or exc.status == 429 or (exc.status or 0) >= 500):
                break
            continue
        if result is None:
            continue  # pushed by another worker meanwhile, or being pushed right now
        run.pushed += 1
        run.signups_sent += result.signups_sent
        run.signups_failed += result.signups_failed
    return run


def push_event_to_raid_helper(event_id: int, *, now: dt.datetime | None = None,
                              client: RaidHelperClient | None = None,
                              config: RaidHelperSettings | None = None) -> PushLaterResult | None:
    """Create an event booked here only in Raid-Helper, exactly once: its row is claimed with
    ``SELECT … FOR UPDATE SKIP LOCKED`` (a second worker skips it, and afterwards finds it no
    longer pending); an event with the same title and start already on the server (a create
    whose answer was lost) is adopted instead of created twice. The Raid-Helper id, the
    sign-ups held back because Raid-Helper was not configured (now to send) and the
    announcement are written in one transaction; the sign-ups are then sent like a booking's.
    Returns None when there was nothing to claim. Raises ``RaidHelperError`` (nothing written)
    or ``RaidsError`` (settings missing)."""
    now = now or timezone.now()
    config = config or RaidHelperSettings.load()
    if not is_configured(config):
        raise RaidsError(_("Raid-Helper is not configured: set its API key and server id first."))
    client = client or get_client(config)
    with transaction.atomic():
        event = (RaidEvent.objects.select_for_update(skip_locked=True, of=("self",)).select_related("recurring_event")
                 .filter(pk=event_id, raid_helper_pending=True, raid_helper_event_id="", start_time_utc__gt=now)
                 .first())
        if event is None:
            return None
        night = event.recurring_event
        channel_id = event.discord_channel_id or (night.discord_channel_id if night else None) or config.raid_channel_id
        if not channel_id:
            raise RaidsError(_("No Discord channel for %(night)s: set one on the raid night or a raid channel in the "
                               "Raid-Helper settings.") % {"night": event.title})
        if not config.leader_discord_id:
            raise RaidsError(_("Set the leader's Discord id in the Raid-Helper settings: Raid-Helper requires one."))
        created = _find_posted_event(client, event.title, event.start_time_utc)
        adopted = created is not None
        if created is None:
            created = client.create_event(
                channel_id=channel_id, leader_id=config.leader_discord_id,
                template_id=(night.raid_helper_template_id if night else "") or config.default_template_id
                or FALLBACK_TEMPLATE,
                title=event.title, description=event_description(), start=event.start_time_utc,
                duration_minutes=max(int((event.end_time_utc - event.start_time_utc).total_seconds() // 60), 1),
            )
        event.raid_helper_event_id, event.raid_helper_payload = created.id, created.payload
        event.raid_helper_pending, event.raid_helper_pushed_at, event.raid_helper_push_error = False, now, ""
        event.discord_channel_id = channel_id
        try:
            with transaction.atomic():
                event.save(update_fields=["raid_helper_event_id", "raid_helper_payload", "raid_helper_pending",
                                          "raid_helper_pushed_at", "raid_helper_push_error", "discord_channel_id"])
        except IntegrityError:
            raise RaidsError(_("Raid-Helper event %(id)s is already linked to another raid event here.")
                             % {"id": created.id}) from None
        mirror_raid_event(event, now)  # its location becomes the Raid-Helper link
        event.attendance.filter(signup_push=Push.SKIPPED, signup_push_error=NOT_CONFIGURED_SKIP).update(
            signup_push=Push.PENDING, signup_push_error="", updated_at=now)
        _announce(config, created)
    log.info("Pushed an event booked here only to Raid-Helper: raid_event_id=%s, rh_event_id=%s%s",
             event.pk, created.id, " (adopted)" if adopted else "")
    pushed = push_signups(event, client=client)
    return PushLaterResult(event, adopted, pushed.sent, pushed.failed)


def _record_push_failure(event_id: int, exc: Exception) -> None:
    """The last failure, shown on the event in the admin until a later run succeeds."""
    with transaction.atomic():
        RaidEvent.objects.filter(pk=event_id, raid_helper_pending=True).update(raid_helper_push_error=str(exc)[:300])
