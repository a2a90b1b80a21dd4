"""Auto-booking next week's event, exactly once (see the package docstring), and the sign-up
rules that decide who is signed up for it."""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from core.claims import claim_row
from core.reports import RunReport
from guildsync.models import Player
from raids.clients import CreatedEvent, RaidHelperClient, RaidHelperError, slot_for
from raids.models import RaidAttendance, RaidEvent, RaidHelperSettings, RecurringEvent

from .common import (
    FALLBACK_TEMPLATE,
    NOT_CONFIGURED_SKIP,
    Push,
    RaidsError,
    Source,
    Status,
    _announce,
    _find_posted_event,
    current_season,
    event_description,
    get_client,
    is_configured,
)
from .discord_events import mirror_raid_event
from .push import push_signups

log = logging.getLogger(__name__)


BOOKING_WINDOW_MIN = dt.timedelta(minutes=10)  # raiders had time to log in: the night is happening
BOOKING_WINDOW_MAX = dt.timedelta(minutes=20)  # older events are left to the officers (admin filter)
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
            skip = _("no linked Discord account")
        try:
            class_name, spec_name = slot_for(status, spec.default_role.name if spec else None,
                                             spec.name if spec else None)
        except ValueError:
            skip = skip or _("no main spec, so no role slot")
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
        raise RaidsError(_("No Discord channel for %(night)s: set one on the raid night or a raid channel in the "
                           "Raid-Helper settings.") % {"night": recurring.label})
    if configured and not config.leader_discord_id:
        raise RaidsError(_("Set the leader's Discord id in the Raid-Helper settings: Raid-Helper requires one."))
    signups = build_signups(recurring)
    created = _find_posted_event(client, recurring.label, start) if configured else None
    adopted = created is not None
    if configured and created is None:
        created = client.create_event(
            channel_id=channel_id, leader_id=config.leader_discord_id,
            template_id=recurring.raid_helper_template_id or config.default_template_id or FALLBACK_TEMPLATE,
            title=recurring.label, description=event_description(), start=start,
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
        first = what == "first"
        if created:
            text = (_("The first %(night)s was created by someone else at the same moment; Raid-Helper event "
                      "%(id)s is a duplicate: delete it in Raid-Helper.") if first else
                    _("Next week's %(night)s was created by someone else at the same moment; Raid-Helper event "
                      "%(id)s is a duplicate: delete it in Raid-Helper."))
        else:
            text = (_("The first %(night)s was created by someone else at the same moment.") if first else
                    _("Next week's %(night)s was created by someone else at the same moment."))
        raise RaidsError(text % {"night": recurring.label, "id": created.id if created else ""}) from None
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
    mirror_raid_event(new_event, now)
    if created is None:
        log.info("Booked an occurrence here only (Raid-Helper not configured): raid_event_id=%s, date=%s",
                 new_event.pk, event_date)
        return new_event, None, False
    _announce(config, created)
    log.info("Booked an occurrence: raid_event_id=%s, rh_event_id=%s, date=%s%s",
             new_event.pk, created.id, event_date, " (adopted)" if adopted else "")
    return new_event, created, adopted



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
            raise RaidsError(_("This raid night no longer exists."))
        if not night.is_active:
            raise RaidsError(_("%(night)s is inactive: activate it before booking its first event.")
                             % {"night": night.label})
        upcoming = night.events.filter(start_time_utc__gt=now).order_by("start_time_utc").first()
        if upcoming is not None:
            return BookingResult(BookingResult.ALREADY_BOOKED, upcoming)
        event_date, start = first_start(night, now)
        new_event, created, adopted = _create_occurrence(night, event_date, start, config, configured, client, now,
                                                         what="first")
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
            raise RaidsError(_("“%(event)s” is not a recurring raid night; there is no next occurrence to book.")
                             % {"event": source})
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
            raise RaidsError(_("Next week's %(night)s (%(date)s) has already started; create it by hand in "
                               "Raid-Helper.") % {"night": recurring.label, "date": date_format(next_date, "d M Y")})
        new_event, created, adopted = _create_occurrence(recurring, next_date, start, config, configured, client,
                                                         now, what="next")
        _mark_booked(source, new_event, now)
    return _booked(new_event, created, adopted, client)
