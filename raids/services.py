"""Raid operations: auto-booking next week's event, Raid-Helper sign-ups, attendance.

Every state change of the raids app is a function here. The names of the seed
(``check_and_auto_book``, ``book_next_occurrence``, ``build_signups``) are kept.

Exactly-once booking, by construction:
1. the source event's row is locked with ``SELECT … FOR UPDATE SKIP LOCKED``: a second worker
   polling at the same moment skips it instead of waiting, and sees it booked afterwards;
2. inside that lock Raid-Helper is first asked for an event with the same title and start
   (a create whose answer was lost earlier is adopted, never made twice), then the event is
   created, and the new ``RaidEvent``, its attendance rows, the source's "booked" mark and the
   announcement are written in the same transaction — if Raid-Helper fails nothing is written;
3. ``UniqueConstraint(recurring_event, event_date)`` is the last line if anything slips past.
The per-player sign-ups are sent after that commit, each recorded on its attendance row
(sent / failed with the reason): a failure midway loses nothing and is retried by the next poll.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import zoneinfo
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from bot import outbox
from core.claims import claim_lease, claim_row
from core.errors import DomainError
from core.reports import RunReport
from core.secrets import get_secret
from core.services import save_row
from guildsync.models import Player, Specialization
from raids.clients import EVENT_URL, CreatedEvent, RaidHelperClient, RaidHelperError, slot_for
from raids.models import RaidAttendance, RaidEvent, RaidHelperSettings, RaidSeason, RecurringEvent
from raids.warcraftlogs import SeenCharacter, WarcraftLogsClient, WarcraftLogsError, realm_key

log = logging.getLogger(__name__)

BOOKING_WINDOW_MIN = dt.timedelta(minutes=10)  # raiders had time to log in: the night is happening
BOOKING_WINDOW_MAX = dt.timedelta(minutes=20)  # older events are left to the officers (admin filter)
MAX_SIGNUP_ATTEMPTS = 5
ANNOUNCEMENT = "📅 Next week's raid has been posted! Sign up here: {url}"
EVENT_DESCRIPTION = "Auto-scheduled raid. Sign up below!"
FALLBACK_TEMPLATE = "wowretail2"
NOT_CONFIGURED_SKIP = "Raid-Helper not configured when booked"

Status = RaidAttendance.Status
Source = RaidAttendance.Source
Push = RaidAttendance.SignupPush
AttendedSource = RaidAttendance.AttendedSource


class RaidsError(DomainError):
    """A raids rule was broken; the message is shown to the officer as is."""


# -- configuration -------------------------------------------------------------------------
def is_configured(config: RaidHelperSettings | None = None) -> bool:
    """"Configured" = an API key (environment, else the admin's encrypted setting, read now)
    and a server id in the settings."""
    config = config or RaidHelperSettings.load()
    return bool(get_secret("RAID_HELPER_API_KEY") and config.server_id)


def get_client(config: RaidHelperSettings | None = None) -> RaidHelperClient:
    config = config or RaidHelperSettings.load()
    return RaidHelperClient(server_id=config.server_id, timezone=config.timezone)


def current_season(today: dt.date) -> RaidSeason | None:
    return RaidSeason.objects.current(today)


# -- sign-up rules -------------------------------------------------------------------------
@dataclass(frozen=True)
class Signup:
    player_id: int
    discord_id: int | None
    status: str
    specialization_id: int | None
    class_name: str | None  # Raid-Helper slot (Tank/Healer/Melee/Ranged/Tentative/Bench/Absence)
    spec_name: str | None
    skip_reason: str = ""  # why no Raid-Helper sign-up is sent for this player


def signup_status(rank_level: int | None, auto_invite: bool, on_hiatus: bool) -> str:
    """The auto-invite rules: hiatus → absence; rank ≥ 2 and auto-invite → accepted;
    rank ≥ 2 → tentative; otherwise bench."""
    if on_hiatus:
        return Status.ABSENCE
    if (rank_level or 0) >= 2:
        return Status.ACCEPTED if auto_invite else Status.TENTATIVE
    return Status.BENCH


def build_signups(recurring_event: RecurringEvent) -> list[Signup]:
    """Default sign-ups for a new occurrence of ``recurring_event``: every active player with
    a main character. (Every raid night uses the same rules today; the night is passed so a
    rule per night stays a local change.)"""
    players = (
        Player.objects.filter(is_active=True, main_character__isnull=False)
        .select_related("guild_rank", "discord_user", "main_spec__default_role",
                        "main_character__active_spec__default_role")
        .order_by("display_name", "pk")
    )
    signups = []
    for p in players:
        status = signup_status(p.guild_rank.level if p.guild_rank else None, p.auto_invite_events, p.on_raid_hiatus)
        spec = p.main_spec or p.main_character.active_spec
        discord_id = p.discord_user.discord_id if p.discord_user else None
        class_name = spec_name = None
        skip = ""
        if discord_id is None:
            skip = "no linked Discord account"
        try:
            class_name, spec_name = slot_for(status, spec.default_role.name if spec else None,
                                             spec.name if spec else None)
        except ValueError:
            skip = skip or "no main spec, so no role slot"
        signups.append(Signup(p.pk, discord_id, status, spec.pk if spec else None, class_name, spec_name, skip))
    return signups


# -- auto-booking ----------------------------------------------------------------------------
@dataclass
class BookingResult:
    BOOKED = "booked"
    ALREADY_BOOKED = "already_booked"
    BUSY = "busy"

    status: str
    event: RaidEvent | None = None
    adopted: bool = False
    signups_sent: int = 0
    signups_failed: int = 0


@dataclass
class BookingRun(RunReport):
    configured: bool = True  # False: Raid-Helper is not configured, the poll did nothing
    booked: int = 0  # events whose next week's event this poll booked
    skipped: int = 0  # events whose next week was booked already, or another worker was booking
    failed: int = 0  # events whose booking failed; they stay unbooked for the next poll
    errors: list[str] = field(default_factory=list)  # "<event>: <error>" per failed booking

    def summary(self) -> str:
        return f"Auto-booking run: {self.booked} booked, {self.skipped} skipped, {self.failed} failed"


def booking_candidates(now: dt.datetime) -> QuerySet[RaidEvent]:
    """Events of an active raid night that started 10–20 minutes ago and are not booked."""
    return RaidEvent.objects.filter(
        recurring_event__isnull=False, recurring_event__is_active=True, next_booked_at__isnull=True,
        start_time_utc__gte=now - BOOKING_WINDOW_MAX, start_time_utc__lte=now - BOOKING_WINDOW_MIN,
    ).order_by("start_time_utc", "pk")


def check_and_auto_book(now: dt.datetime | None = None) -> BookingRun:
    """One poll: book next week for every event in the booking window. Returns quietly when
    Raid-Helper is not configured (settings can be added at runtime without a restart).
    A failure of one event is counted and logged; the event stays unbooked for the next poll."""
    now = now or timezone.now()
    config = RaidHelperSettings.load()
    if not is_configured(config):
        log.debug("Auto-booking skipped: Raid-Helper not configured")
        return BookingRun(configured=False)
    run = BookingRun()
    client = get_client(config)
    for source in booking_candidates(now):
        try:
            result = book_next_occurrence(source, now=now, client=client)
        except (RaidsError, RaidHelperError) as exc:
            run.failed += 1
            run.errors.append(f"{source}: {exc}")
            log.error("Auto-booking failed for raid_event_id=%s: %s", source.pk, exc)
            continue
        if result.status == BookingResult.BOOKED:
            run.booked += 1
        else:
            run.skipped += 1
    return run


def next_start(source: RaidEvent, recurring_event: RecurringEvent) -> dt.datetime:
    """Same local wall-clock time a week later (so a DST change does not move the raid by an
    hour), to the minute: Raid-Helper only takes HH:MM, and its start must match ours."""
    tz = zoneinfo.ZoneInfo(recurring_event.timezone)
    local = source.start_time_utc.astimezone(tz).replace(second=0, microsecond=0)
    following = dt.datetime.combine(local.date() + dt.timedelta(days=7), local.time(), tzinfo=tz)
    return following.astimezone(dt.UTC)


def _find_posted_event(client: RaidHelperClient, title: str, start: dt.datetime) -> CreatedEvent | None:
    """An event with this title and start already on the server: a create whose answer was lost."""
    for posted in client.list_server_events(start_after=start - dt.timedelta(minutes=1)):
        try:
            same_start = int(posted.get("startTime")) == int(start.timestamp())
        except (TypeError, ValueError):
            continue
        if same_start and posted.get("title") == title and posted.get("id"):
            event_id = str(posted["id"])
            return CreatedEvent(id=event_id, url=EVENT_URL.format(id=event_id), payload=posted)
    return None


def _mark_booked(source: RaidEvent, next_event: RaidEvent, now: dt.datetime) -> None:
    source.next_booked_at = now
    source.next_event = next_event
    source.save(update_fields=["next_booked_at", "next_event"])


def _create_occurrence(recurring: RecurringEvent, event_date: dt.date, start: dt.datetime,
                       config: RaidHelperSettings, configured: bool, client: RaidHelperClient | None,
                       now: dt.datetime, *, what: str) -> tuple[RaidEvent, CreatedEvent | None, bool]:
    """One occurrence of ``recurring``: its Raid-Helper event (adopting one a lost answer
    already created), the ``RaidEvent``, its attendance rows and the announcement — inside the
    caller's transaction, Raid-Helper first so that its failure writes nothing. Returns the
    event, Raid-Helper's event (None when not configured) and whether it was adopted."""
    channel_id = recurring.discord_channel_id or config.raid_channel_id
    if configured and not channel_id:
        raise RaidsError(f"No Discord channel for {recurring.label}: set one on the raid night or a raid "
                         "channel in the Raid-Helper settings.")
    if configured and not config.leader_discord_id:
        raise RaidsError("Set the leader's Discord id in the Raid-Helper settings: Raid-Helper requires one.")
    signups = build_signups(recurring)
    created = _find_posted_event(client, recurring.label, start) if configured else None
    adopted = created is not None
    if configured and created is None:
        created = client.create_event(
            channel_id=channel_id, leader_id=config.leader_discord_id,
            template_id=recurring.raid_helper_template_id or config.default_template_id or FALLBACK_TEMPLATE,
            title=recurring.label, description=EVENT_DESCRIPTION, start=start,
            duration_minutes=recurring.default_duration_minutes,
        )
    try:
        with transaction.atomic():
            new_event = RaidEvent.objects.create(
                season=current_season(now.date()), title=recurring.label, event_date=event_date,
                start_time_utc=start, end_time_utc=start + dt.timedelta(minutes=recurring.default_duration_minutes),
                raid_helper_event_id=created.id if created else "", discord_channel_id=channel_id,
                recurring_event=recurring, auto_booked=True, raid_helper_payload=created.payload if created else None,
                raid_helper_pending=created is None,
            )
    except IntegrityError:
        raise RaidsError(f"{what} {recurring.label} was created by someone else at the same moment"
                         + (f"; Raid-Helper event {created.id} is a duplicate: delete it in Raid-Helper."
                            if created else ".")) from None
    not_sent = "" if configured else NOT_CONFIGURED_SKIP
    RaidAttendance.objects.bulk_create([
        RaidAttendance(
            event=new_event, player_id=s.player_id, status=s.status, signed_up=s.status == Status.ACCEPTED,
            source=Source.AUTO, specialization_id=s.specialization_id,
            signup_push=Push.SKIPPED if s.skip_reason or not configured else Push.PENDING,
            signup_push_error=s.skip_reason or not_sent,
        )
        for s in signups
    ])
    if created is None:
        log.info("Booked an occurrence here only (Raid-Helper not configured): raid_event_id=%s, date=%s",
                 new_event.pk, event_date)
        return new_event, None, False
    _announce(config, created)
    log.info("Booked an occurrence: raid_event_id=%s, rh_event_id=%s, date=%s%s",
             new_event.pk, created.id, event_date, " (adopted)" if adopted else "")
    return new_event, created, adopted


def _announce(config: RaidHelperSettings, created: CreatedEvent) -> None:
    """Queue "next week's raid has been posted" for a Raid-Helper event (caller's transaction)."""
    if config.raid_channel_id:
        outbox.post_message(config.raid_channel_id, content=ANNOUNCEMENT.format(url=created.url),
                            dedupe_key=f"raids.announce:{created.id}", topic="raids.announcement")
    else:
        log.warning("Auto-booking: no raid channel configured, announcement skipped")


def first_start(recurring: RecurringEvent, now: dt.datetime) -> tuple[dt.date, dt.datetime]:
    """The raid night's next start after ``now`` (its weekday and wall-clock time in its zone)."""
    tz = zoneinfo.ZoneInfo(recurring.timezone)
    local_now = now.astimezone(tz)
    day = local_now.date() + dt.timedelta(days=(recurring.day_of_week - local_now.weekday()) % 7)
    start = dt.datetime.combine(day, recurring.default_start_time.replace(second=0, microsecond=0), tzinfo=tz)
    if start <= local_now:
        day += dt.timedelta(days=7)
        start = dt.datetime.combine(day, start.timetz().replace(tzinfo=None), tzinfo=tz)
    return day, start.astimezone(dt.UTC)


def _booking_context(now: dt.datetime | None, client: RaidHelperClient | None
                     ) -> tuple[dt.datetime, RaidHelperSettings, bool, RaidHelperClient | None]:
    """What every booking reads first: the time, the settings, whether Raid-Helper is
    configured and then its client (the caller's, for tests, or one built from the settings)."""
    now = now or timezone.now()
    config = RaidHelperSettings.load()
    configured = is_configured(config)
    if configured:
        client = client or get_client(config)
    return now, config, configured, client


def _booked(new_event: RaidEvent, created: CreatedEvent | None, adopted: bool,
            client: RaidHelperClient | None) -> BookingResult:
    """A booking's result once its transaction committed: the sign-ups are pushed when the
    event lives in Raid-Helper (``created``), outside the transaction (HTTP per player)."""
    if created is None:
        return BookingResult(BookingResult.BOOKED, new_event)
    pushed = push_signups(new_event, client=client)
    return BookingResult(BookingResult.BOOKED, new_event, adopted, pushed.sent, pushed.failed)


def book_first_event(recurring_event: RecurringEvent, *, now: dt.datetime | None = None,
                     client: RaidHelperClient | None = None) -> BookingResult:
    """A new raid night's first event (issue #14 point 6), booked like auto-booking books the
    next week's: in Raid-Helper first (adopting one a lost answer created), then here with its
    attendance rows, announcement and sign-ups. Auto-booking continues the chain from it.
    A night that already has an upcoming event is left as it is (``ALREADY_BOOKED``); the raid
    night's row is locked, so two officers clicking at once book one event."""
    now, config, configured, client = _booking_context(now, client)
    with transaction.atomic():
        night = RecurringEvent.objects.select_for_update().filter(pk=recurring_event.pk).first()
        if night is None:
            raise RaidsError("This raid night no longer exists.")
        if not night.is_active:
            raise RaidsError(f"{night.label} is inactive: activate it before booking its first event.")
        upcoming = night.events.filter(start_time_utc__gt=now).order_by("start_time_utc").first()
        if upcoming is not None:
            return BookingResult(BookingResult.ALREADY_BOOKED, upcoming)
        event_date, start = first_start(night, now)
        new_event, created, adopted = _create_occurrence(night, event_date, start, config, configured, client, now,
                                                         what="The first")
    return _booked(new_event, created, adopted, client)


def book_next_occurrence(source_event: RaidEvent, *, now: dt.datetime | None = None,
                         client: RaidHelperClient | None = None) -> BookingResult:
    """Book next week's occurrence of ``source_event`` (the seed's steps 2–4), exactly once.

    Without Raid-Helper configured the event is booked here only (officers still get next
    week's event and its roster; its sign-ups are marked "not sent"); with it, the event is
    created in Raid-Helper first and the sign-ups are pushed.

    Raises ``RaidHelperError`` when Raid-Helper fails (nothing is written) and ``RaidsError``
    when the booking cannot be made as configured."""
    now, config, configured, client = _booking_context(now, client)
    with transaction.atomic():
        source = claim_row(RaidEvent.objects.select_related("recurring_event"), source_event.pk)
        if source is None:
            return BookingResult(BookingResult.BUSY)  # another worker is booking it right now
        recurring = source.recurring_event
        if recurring is None:
            raise RaidsError(f"“{source}” is not a recurring raid night; there is no next occurrence to book.")
        if source.next_booked_at:
            return BookingResult(BookingResult.ALREADY_BOOKED, source.next_event)
        next_date = source.event_date + dt.timedelta(days=7)
        existing = RaidEvent.objects.filter(recurring_event=recurring, event_date=next_date).first()
        if existing:
            log.info("Auto-booking skipped: event already exists for recurring_event_id=%s on %s",
                     recurring.pk, next_date)
            _mark_booked(source, existing, now)
            return BookingResult(BookingResult.ALREADY_BOOKED, existing)
        start = next_start(source, recurring)
        if start <= now:
            raise RaidsError(f"Next week's {recurring.label} ({next_date:%d %b %Y}) has already started; "
                             "create it by hand in Raid-Helper.")
        new_event, created, adopted = _create_occurrence(recurring, next_date, start, config, configured, client,
                                                         now, what="Next week's")
        _mark_booked(source, new_event, now)
    return _booked(new_event, created, adopted, client)


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
                row.signup_push_error = "no linked Discord account" if class_name else "no main spec, so no role slot"
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
NOT_CONFIGURED_NOTE = "Not yet on Raid-Helper — will be pushed when Raid-Helper is configured"


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
        raise RaidsError("Raid-Helper is not configured: set its API key and server id first.")
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
            raise RaidsError(f"No Discord channel for {event.title}: set one on the raid night or a raid channel in "
                             "the Raid-Helper settings.")
        if not config.leader_discord_id:
            raise RaidsError("Set the leader's Discord id in the Raid-Helper settings: Raid-Helper requires one.")
        created = _find_posted_event(client, event.title, event.start_time_utc)
        adopted = created is not None
        if created is None:
            created = client.create_event(
                channel_id=channel_id, leader_id=config.leader_discord_id,
                template_id=(night.raid_helper_template_id if night else "") or config.default_template_id
                or FALLBACK_TEMPLATE,
                title=event.title, description=EVENT_DESCRIPTION, start=event.start_time_utc,
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
            raise RaidsError(f"Raid-Helper event {created.id} is already linked to another raid event here.") from None
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
        note = f"unknown sign-up column {class_name!r}"
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
            note = note or (f"spec {raw!r} is ambiguous ("
                            + " or ".join(sorted(s.wow_class.name for s in candidates)) + ")")
        else:
            note = note or f"spec {raw!r} matches no spec" + (f" of a {alias[0]}" if alias else "")
    elif status == Status.ACCEPTED and not slot_role:
        note = note or "no spec given"
    role = slot_role or (spec.default_role.name if spec else None)
    return Placement(status, spec, role, late, note)


def signup_list(body: object) -> list[dict]:
    """The sign-ups of a Raid-Helper event body, keys casefolded (``signUps`` as documented,
    ``signups`` in some versions). An answer without a sign-up list is an error, never 0."""
    if not isinstance(body, dict):
        raise RaidsError("Raid-Helper's answer is not an event.")
    keys = {str(k).casefold(): k for k in body}
    if "signups" not in keys:
        raise RaidsError("Raid-Helper's answer has no sign-up list (keys: " + ", ".join(sorted(map(str, body)))[:200]
                         + ").")
    entries = body[keys["signups"]] or []
    if not isinstance(entries, list):
        raise RaidsError("Raid-Helper's sign-up list is not a list.")
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
        text = f"{self.signups} sign-up(s): {self.created} new, {self.updated} updated"
        if self.unplaced:
            text += f", {len(self.unplaced)} not placed ("
            text += "; ".join(f"{u['name'] or u['user_id']}: {u['reason']}" for u in self.unplaced[:5])
            text += ", …)" if len(self.unplaced) > 5 else ")"
        if self.incomplete:
            text += f", {len(self.incomplete)} without spec or role"
        return text


def _describe(entry: dict, reason: str) -> dict:
    return {"user_id": str(entry.get("userid") or "")[:24], "name": str(entry.get("name") or "")[:64],
            "class": str(entry.get("classname") or "")[:40], "spec": str(entry.get("specname") or "")[:40],
            "reason": reason}


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
        raise RaidsError(f"“{event}” has no Raid-Helper event to import from.")
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
                report.unplaced.append(_describe({}, f"not a sign-up object: {str(entry['_raw'])[:60]!r}"))
                continue
            if not user_id.isdigit():
                report.unplaced.append(_describe(entry, "no Discord user id"))
                continue
            player = players.get(int(user_id))
            if player is None:
                report.unplaced.append(_describe(entry, "this Discord account is no player here (link it in "
                                                        "Guild officers → Players)"))
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
ROSTER_POST_BEFORE = dt.timedelta(hours=24)


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


def post_roster(event: RaidEvent, *, now: dt.datetime | None = None) -> str:
    """The roster post in the raid channel: queued once 24 hours before the start, then edited
    in place whenever the roster changed (a still-queued post or edit is rewritten instead).
    Returns "posted", "edited", "unchanged", "not_due", "no_channel" or "wait" (the post is
    being delivered: the next run edits it)."""
    from raids.roster import live_roster

    now = now or timezone.now()
    if not (event.start_time_utc - ROSTER_POST_BEFORE <= now < event.start_time_utc):
        return "not_due"
    channel = event.discord_channel_id or RaidHelperSettings.load().raid_channel_id
    if not channel:
        return "no_channel"
    key = f"raids:roster:{event.pk}"
    with transaction.atomic():
        locked = RaidEvent.objects.select_for_update(of=("self",)).select_related("recurring_event").get(pk=event.pk)
        text = live_roster(locked).text()
        if text == locked.roster_post_text:
            return "unchanged"
        number, repost = outbox.latest_in_series(f"{key}:post:", topic="raids")
        post = repost or outbox.find(key)  # a post that failed for good is posted again
        if post is None or outbox.will_never_land(post):
            outbox.post_message(channel, content=text, dedupe_key=f"{key}:post:{number + 1}" if post else key,
                                topic="raids")
            outcome = "posted"
        elif not post.sent_message_id:
            if not outbox.rewrite_pending(post.pk, content=text):
                return "wait"
            outcome = "posted"
        else:
            number, last_edit = outbox.latest_in_series(f"{key}:edit:", topic="raids")
            if last_edit is not None and outbox.rewrite_pending(last_edit.pk, content=text):
                outcome = "edited"
            elif last_edit is not None and outbox.is_sending(last_edit.pk):
                return "wait"  # edits land in order: the next run sends this one
            else:
                outbox.edit_message(post.channel_id, post.sent_message_id, content=text,
                                    dedupe_key=f"{key}:edit:{number + 1}", topic="raids")
                outcome = "edited"
        locked.roster_post_text = text
        locked.save(update_fields=["roster_post_text"])
    return outcome


# -- attendance from Warcraft Logs (issue #14 point 2) ------------------------------------------
WCL_CLAIM = dt.timedelta(minutes=10)  # a worker that died mid-import frees the event after this
WCL_REPORT_MARGIN = dt.timedelta(hours=1)  # logging starts before the invite and ends after the last pull
WCL_UNPLACED_KEPT = 200


def wcl_guild() -> dict | None:
    """The guild whose reports are read, as the ``reports`` query's arguments: its Warcraft
    Logs id (``WCL_GUILD_ID``), else name + realm slug + region; None when neither is set."""
    if getattr(settings, "WCL_GUILD_ID", 0):
        return {"guildID": int(settings.WCL_GUILD_ID)}
    name = getattr(settings, "WCL_GUILD_NAME", "")
    slug, region = getattr(settings, "WCL_GUILD_SERVER_SLUG", ""), getattr(settings, "WCL_GUILD_SERVER_REGION", "")
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
    gave_up / busy (another worker holds it, or already imported)."""

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
        if self.status != "imported":
            return {"waiting": "no Warcraft Logs report for this evening yet (tried again next run)",
                    "gave_up": "no Warcraft Logs report appeared: gave up",
                    "busy": "being imported by another worker right now"}.get(self.status, self.status)
        text = (f"{self.seen} character(s) in {len(self.reports)} report(s): {self.marked + self.created} marked "
                f"attended ({self.created} not on the roster before), {self.already} already attended, "
                f"{self.overrides_kept} officer override(s) kept")
        if self.unplaced:
            text += f", {len(self.unplaced)} not placed (" + "; ".join(
                f"{u['name']}-{u['server']}: {u['reason']}" for u in self.unplaced[:5]) + (", …)" if len(
                self.unplaced) > 5 else ")")
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
            reason = ("no character with this name here" if not candidates else
                      "no character with this name on this realm here (there is "
                      + ", ".join(f"{c.character_name}-{c.realm_slug}" for c in candidates[:3]) + ")")
        else:
            link = getattr(found[0], "player_link", None)
            if link is None:
                reason = "the character is not linked to a player (link it in Guild officers → Players)"
            else:
                players.setdefault(link.player_id, []).append(char.name)
        if reason:
            unplaced.append({"name": char.name[:64], "server": char.server[:64], "reason": reason})
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
    - Then, in one transaction: new rows for players seen but not on the roster (accepted, not
      signed up), ``attended`` set on the others — except rows whose mark an officer set by hand
      (``attended_source`` officer), which are never changed. Characters it could not place are
      listed with the reason on the event (``wcl_import_report``, the admin shows them) and in
      the log. Rerunning changes nothing."""
    now = now or timezone.now()
    if not wcl_is_configured():
        raise RaidsError("Warcraft Logs is not configured: set WCL_CLIENT_ID and WCL_CLIENT_SECRET (environment or "
                         "Secret settings) and the guild (WCL_GUILD_ID, or WCL_GUILD_NAME with its realm and region).")
    if now < event.end_time_utc:
        raise RaidsError(f"“{event}” has not ended yet: its attendance is read from the logs after "
                         f"{event.end_time_utc:%a %d %b %H:%M} UTC.")
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
    if not reports and event.wcl_import_status:  # an officer's re-run finding no report keeps the last outcome
        _release_wcl(event.pk)
        return WclImport(status="waiting" if event.wcl_import_status == "imported" else "gave_up")
    if not reports:
        give_up = now >= event.end_time_utc + dt.timedelta(hours=settings.WCL_IMPORT_GIVE_UP_HOURS)
        attempts = int((event.wcl_import_report or {}).get("attempts") or 0) + 1
        if give_up:
            _release_wcl(event.pk, wcl_import_status="gave_up", wcl_imported_at=now, wcl_import_report={
                "at": now.isoformat(), "attempts": attempts, "reason": "no Warcraft Logs report of the guild "
                f"covers this raid {settings.WCL_IMPORT_GIVE_UP_HOURS} h after it ended: mark attendance by hand"})
            log.warning("Warcraft Logs import gave up on raid_event_id=%s: no report", event.pk)
            return WclImport(status="gave_up")
        _release_wcl(event.pk, wcl_import_report={"waiting": "no report uploaded yet", "attempts": attempts,
                                                  "last_try": now.isoformat()})
        return WclImport(status="waiting")
    result = WclImport(status="imported", reports=[r.code for r in reports])
    seen = list(dict.fromkeys(c for report in found for c in report.seen))
    result.seen = len(seen)
    for report in found:
        result.unplaced += [{"name": "?", "server": "", "reason": f"report {report.code}: {text}"}
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


# -- officers' attendance edits ---------------------------------------------------------------
def mark_accepted_attended(event_ids: list[int]) -> int:
    """Bulk action: everyone accepted on these events attended. Returns the rows changed."""
    with transaction.atomic():
        return RaidAttendance.objects.filter(event_id__in=event_ids, status=Status.ACCEPTED,
                                             attended=False).update(attended=True, updated_at=timezone.now(),
                                                                    attended_source=AttendedSource.OFFICER)


def set_attendance(event: RaidEvent, player: Player, *, status: str, attended: bool,
                   late: bool = False) -> RaidAttendance:
    """An officer records one player's status/attendance (new rows are ``manual``)."""
    with transaction.atomic():
        _set_attendance(event, player, status=status, attended=attended, late=late)
        return RaidAttendance.objects.get(event=event, player=player)


def _set_attendance(event: RaidEvent, player: Player, *, status: str, attended: bool, late: bool = False) -> bool:
    """The write behind ``set_attendance``/``edit_attendance`` (caller holds the transaction).
    Returns whether anything changed."""
    if status not in Status.values:
        raise RaidsError(f"“{status}” is not an attendance status.")
    if player is None:
        raise RaidsError("Pick the player whose attendance this is.")
    if late and not attended:
        raise RaidsError(f"{player} is marked late but not attended: a late player attended, tick both.")
    row, created = RaidAttendance.objects.select_for_update().get_or_create(
        event=event, player=player,
        defaults={"status": status, "attended": attended, "late": late, "signed_up": status == Status.ACCEPTED,
                  "source": Source.MANUAL, "attended_source": AttendedSource.OFFICER if attended else ""},
    )
    if created:
        return True
    if (row.status, row.attended, row.late) == (status, attended, late):
        return False
    if row.attended != attended:  # the officer ticked or unticked it: an override imports keep
        row.attended_source = AttendedSource.OFFICER
    row.status, row.attended, row.late, row.signed_up = status, attended, late, status == Status.ACCEPTED
    row.save(update_fields=["status", "attended", "attended_source", "late", "signed_up", "updated_at"])
    return True


def set_recurring_active(recurring_event_ids: list[int], active: bool) -> int:
    """Switch raid nights on or off; inactive nights are not auto-booked any more."""
    with transaction.atomic():
        return RecurringEvent.objects.filter(pk__in=recurring_event_ids).exclude(is_active=active).update(
            is_active=active)


def remove_attendance(attendance_ids: list[int]) -> int:
    """Delete attendance rows (an officer removing a player who was never meant to be there)."""
    with transaction.atomic():
        deleted, _ = RaidAttendance.objects.filter(pk__in=attendance_ids).delete()
    return deleted


# -- officers' edits: seasons, raid nights, raid events, settings -----------------------------
SEASON_FIELDS = ("name", "start_date", "end_date", "is_active")
RECURRING_FIELDS = ("label", "event_type", "day_of_week", "default_start_time", "timezone",
                    "default_duration_minutes", "discord_channel_id", "raid_helper_template_id", "is_active",
                    "wanted_tanks", "wanted_healers", "wanted_melee", "wanted_ranged")
EVENT_FIELDS = ("title", "event_date", "start_time_utc", "end_time_utc", "season", "recurring_event",
                "raid_helper_event_id", "discord_channel_id")
SETTINGS_FIELDS = ("server_id", "raid_channel_id", "leader_discord_id", "default_template_id", "timezone")


def _only(fields: dict, allowed: tuple[str, ...]) -> dict:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise RaidsError(f"Cannot set {', '.join(sorted(unknown))} here.")
    return fields


def save_season(season_id: int | None, **fields) -> RaidSeason:
    """Create or change a raid season (name, start_date, end_date, is_active). Several active
    seasons may overlap: the current one is the latest that has started."""
    return save_row(RaidSeason, season_id, _only(fields, SEASON_FIELDS), error=RaidsError)


def save_recurring_event(recurring_event_id: int | None, **fields) -> RecurringEvent:
    """Create or change a weekly raid night. Events already booked keep their time; the change
    applies from the next booking on."""

    def check(night: RecurringEvent) -> None:
        if night.discord_channel_id is not None and night.discord_channel_id <= 0:
            raise RaidsError("The Discord channel id is a positive number (right-click the channel, Copy ID).")

    return save_row(RecurringEvent, recurring_event_id, _only(fields, RECURRING_FIELDS), error=RaidsError, check=check)


def save_raid_event(event_id: int | None, **fields) -> RaidEvent:
    """Create or change a raid event by hand (a one-off, or a night booked outside
    auto-booking). An empty season means the season current on the event's date. The
    Raid-Helper event itself is not changed: edit it there too."""

    def check(event: RaidEvent) -> None:
        if event.raid_helper_event_id and not event.raid_helper_event_id.isdigit():
            raise RaidsError("The Raid-Helper event id is the number at the end of the event's link (digits only).")
        if event.raid_helper_event_id:
            event.raid_helper_pending = False  # linked by hand: nothing left to push
        if event.recurring_event_id and event.event_date:
            clash = RaidEvent.objects.filter(recurring_event_id=event.recurring_event_id,
                                             event_date=event.event_date).exclude(pk=event.pk).first()
            if clash:
                raise RaidsError(f"{event.recurring_event.label} already has an event on "
                                 f"{event.event_date:%a %d %b %Y} (“{clash}”): edit that one instead.")
        if event.event_date and event.start_time_utc:
            zone = event.recurring_event.timezone if event.recurring_event_id else RaidHelperSettings.load().timezone
            local_start = event.start_time_utc.astimezone(zoneinfo.ZoneInfo(zone))
            if local_start.date() != event.event_date:
                raise RaidsError(f"The event date ({event.event_date:%a %d %b %Y}) must be the day the raid starts: "
                                 f"the start is {local_start:%a %d %b %Y %H:%M} ({zone}).")
        if event.season_id is None and event.event_date:
            event.season = current_season(event.event_date)

    return save_row(RaidEvent, event_id, _only(fields, EVENT_FIELDS), error=RaidsError, check=check)


@dataclass
class DeleteReport(RunReport):
    deleted: int = 0  # events deleted (their attendance with them)
    unbooked_sources: int = 0  # events that had booked a deleted one as next week, unbooked again
    raid_helper_ids: list[str] = field(default_factory=list)  # to delete by hand in Raid-Helper


def delete_raid_events(event_ids: list[int]) -> DeleteReport:
    """Delete raid events with their attendance. Events from which a deleted one was booked
    become unbooked again, so their next week shows as "book manually" instead of a booking
    that no longer exists. Raid-Helper keeps its events: the ids are returned to delete there."""
    report = DeleteReport()
    with transaction.atomic():
        doomed = list(RaidEvent.objects.select_for_update().filter(pk__in=event_ids).order_by("pk"))
        ids = [e.pk for e in doomed]
        report.raid_helper_ids = [e.raid_helper_event_id for e in doomed if e.raid_helper_event_id]
        report.unbooked_sources = (RaidEvent.objects.filter(next_event_id__in=ids).exclude(pk__in=ids)
                                   .update(next_event=None, next_booked_at=None))
        report.deleted = RaidEvent.objects.filter(pk__in=ids).delete()[1].get(RaidEvent._meta.label, 0)
    return report


def delete_seasons(season_ids: list[int]) -> int:
    """Delete seasons; their events stay, without a season (out of every season report)."""
    with transaction.atomic():
        ids = list(RaidSeason.objects.select_for_update().filter(pk__in=season_ids).values_list("pk", flat=True))
        RaidEvent.objects.filter(season_id__in=ids).update(season=None)
        return RaidSeason.objects.filter(pk__in=ids).delete()[1].get(RaidSeason._meta.label, 0)


def delete_recurring_events(recurring_event_ids: list[int]) -> int:
    """Delete raid nights; their past and booked events stay as one-off events (no longer
    auto-booked). Deactivating keeps the link and is usually what officers want."""
    with transaction.atomic():
        ids = list(RecurringEvent.objects.select_for_update().filter(pk__in=recurring_event_ids)
                   .values_list("pk", flat=True))
        RaidEvent.objects.filter(recurring_event_id__in=ids).update(recurring_event=None)
        return RecurringEvent.objects.filter(pk__in=ids).delete()[1].get(RecurringEvent._meta.label, 0)


def save_settings(**fields) -> RaidHelperSettings:
    """Write the one row of Raid-Helper settings (created on first save). The API key is not
    one of them: it stays in the environment."""
    fields = _only(fields, SETTINGS_FIELDS)

    def check(config: RaidHelperSettings) -> None:
        for name in ("raid_channel_id", "leader_discord_id"):
            value = getattr(config, name)
            if value is not None and value <= 0:
                label = config._meta.get_field(name).verbose_name
                raise RaidsError(f"{label[:1].upper()}{label[1:]} is a Discord id: a positive number.")
        if not (config.default_template_id or "").strip():
            raise RaidsError("Set a default Raid-Helper template (e.g. wowretail2).")

    with transaction.atomic():
        exists = RaidHelperSettings.objects.select_for_update().filter(pk=RaidHelperSettings.SINGLETON_PK).exists()
        return save_row(RaidHelperSettings, RaidHelperSettings.SINGLETON_PK if exists else None, fields,
                        error=RaidsError, check=check)


@dataclass(frozen=True)
class AttendanceChange:
    player: Player
    status: str
    attended: bool
    late: bool = False


def edit_attendance(event: RaidEvent, changes: list[AttendanceChange], remove_ids: list[int] = ()) -> int:
    """An officer's edits of one event's attendance (the inline on the event's page), all or
    nothing: each change sets a player's status and attended mark (new rows are ``manual``),
    ``remove_ids`` are rows of this event to delete. Returns the rows touched."""
    with transaction.atomic():
        touched = sum(1 for change in changes if _set_attendance(event, change.player, status=change.status,
                                                                 attended=change.attended, late=change.late))
        if remove_ids:
            removed, _ = RaidAttendance.objects.filter(event=event, pk__in=list(remove_ids)).delete()
            touched += removed
    return touched
