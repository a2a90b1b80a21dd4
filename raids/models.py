"""Raid seasons, recurring raid nights, raid events mirrored to Raid-Helper, attendance.

Raid officers own seasons, recurring events and the Raid-Helper settings; raid events and
attendance rows are written by ``raids.services`` (auto-booking, imports, officer actions).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy


def validate_timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(_("%(value)s is not an IANA time zone (e.g. Europe/Berlin, America/New_York).")
                              % {"value": repr(value)}) from None


class RaidSeasonQuerySet(models.QuerySet):
    def current(self, today: dt.date) -> RaidSeason | None:
        """The active season whose start_date ≤ today, latest first (the seed's subquery)."""
        return self.filter(is_active=True, start_date__lte=today).order_by("-start_date", "-pk").first()


class RaidSeason(models.Model):
    name = models.CharField(pgettext_lazy("raid season", "name"), max_length=100, unique=True)
    start_date = models.DateField(gettext_lazy("start date"))
    end_date = models.DateField(gettext_lazy("end date"), null=True, blank=True,
                                help_text=gettext_lazy("Empty while the season is open-ended."))
    is_active = models.BooleanField(gettext_lazy("active"), default=True,
                                    help_text=gettext_lazy("Only active seasons can be the current season."))

    objects = RaidSeasonQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date"]
        verbose_name = gettext_lazy("raid season")
        verbose_name_plural = gettext_lazy("raid seasons")
        constraints = [
            models.CheckConstraint(name="raidseason_end_after_start",
                                   condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                                   violation_error_message=gettext_lazy("A season ends on or after its start date.")),
        ]

    def __str__(self) -> str:
        return self.name


class RecurringEvent(models.Model):
    """A weekly raid night; each occurrence is a ``RaidEvent`` linked back to it."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, gettext_lazy("Monday")
        TUESDAY = 1, gettext_lazy("Tuesday")
        WEDNESDAY = 2, gettext_lazy("Wednesday")
        THURSDAY = 3, gettext_lazy("Thursday")
        FRIDAY = 4, gettext_lazy("Friday")
        SATURDAY = 5, gettext_lazy("Saturday")
        SUNDAY = 6, gettext_lazy("Sunday")

    label = models.CharField(gettext_lazy("label"), max_length=100,
                             help_text=gettext_lazy("Also the title of the Raid-Helper events it books."))
    event_type = models.CharField(gettext_lazy("event type"), max_length=30, default="raid",
                                  help_text=gettext_lazy("e.g. raid, mythic+, pvp."))
    day_of_week = models.PositiveSmallIntegerField(gettext_lazy("day of the week"), choices=Weekday.choices)
    default_start_time = models.TimeField(gettext_lazy("start time"),
                                          help_text=gettext_lazy("Wall-clock start in the time zone below."))
    timezone = models.CharField(gettext_lazy("time zone"), max_length=64, default="UTC", validators=[validate_timezone],
                                help_text=gettext_lazy("IANA zone the start time is read in; keeps the local time "
                                                       "across DST."))
    default_duration_minutes = models.PositiveSmallIntegerField(gettext_lazy("duration (minutes)"), default=180)
    discord_channel_id = models.BigIntegerField(
        gettext_lazy("Discord channel id"), null=True, blank=True,
        help_text=gettext_lazy("Channel the Raid-Helper sign-up is posted in; empty = the raid channel."),
    )
    raid_helper_template_id = models.CharField(
        gettext_lazy("Raid-Helper template"), max_length=40, blank=True,
        help_text=gettext_lazy("Raid-Helper template, e.g. wowretail2; empty = the default template."),
    )
    is_active = models.BooleanField(gettext_lazy("active"), default=True,
                                    help_text=gettext_lazy("Inactive nights are not booked any more."))
    wanted_tanks = models.PositiveSmallIntegerField(gettext_lazy("wanted tanks"), default=2,
                                                    help_text=gettext_lazy("Wanted composition: tanks."))
    wanted_healers = models.PositiveSmallIntegerField(gettext_lazy("wanted healers"), default=4,
                                                      help_text=gettext_lazy("Wanted composition: healers."))
    wanted_melee = models.PositiveSmallIntegerField(gettext_lazy("wanted melee"), default=7,
                                                    help_text=gettext_lazy("Wanted composition: melee damage."))
    wanted_ranged = models.PositiveSmallIntegerField(gettext_lazy("wanted ranged"), default=7,
                                                     help_text=gettext_lazy("Wanted composition: ranged damage."))

    class Meta:
        ordering = ["day_of_week", "default_start_time"]
        verbose_name = gettext_lazy("raid night")
        verbose_name_plural = gettext_lazy("raid nights")
        constraints = [
            models.CheckConstraint(name="recurringevent_weekday_0_6", condition=Q(day_of_week__gte=0, day_of_week__lte=6),
                                   violation_error_message=gettext_lazy("Pick a weekday (Monday to Sunday).")),
            models.CheckConstraint(name="recurringevent_duration_positive", condition=Q(default_duration_minutes__gt=0),
                                   violation_error_message=gettext_lazy("A raid night lasts at least one minute.")),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.get_day_of_week_display()} {self.default_start_time:%H:%M} {self.timezone})"


class RaidEvent(models.Model):
    season = models.ForeignKey(RaidSeason, verbose_name=gettext_lazy("season"), null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    title = models.CharField(verbose_name=pgettext_lazy("raid event", "title"), max_length=200)
    event_date = models.DateField(verbose_name=gettext_lazy("date"), help_text=gettext_lazy("The raid night's date (in the recurring event's time zone)."))
    start_time_utc = models.DateTimeField(verbose_name=gettext_lazy("start (UTC)"))
    end_time_utc = models.DateTimeField(verbose_name=gettext_lazy("end (UTC)"))
    raid_helper_event_id = models.CharField(verbose_name=gettext_lazy("Raid-Helper event id"), max_length=32, blank=True,
                                            help_text=gettext_lazy("Raid-Helper's event id (also the Discord message id)."))
    discord_channel_id = models.BigIntegerField(verbose_name=gettext_lazy("Discord channel id"), null=True, blank=True)
    recurring_event = models.ForeignKey(RecurringEvent, verbose_name=gettext_lazy("raid night"), null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="events")
    auto_booked = models.BooleanField(verbose_name=gettext_lazy("auto-booked"), default=False, help_text=gettext_lazy("Created by the auto-booking job."))
    next_booked_at = models.DateTimeField(verbose_name=gettext_lazy("next week booked at"),
        null=True, blank=True,
        help_text=gettext_lazy("When next week's occurrence was booked (or found) from this event; empty = not booked yet."),
    )
    next_event = models.ForeignKey("self", verbose_name=gettext_lazy("next week's event"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                   help_text=gettext_lazy("Next week's occurrence, once booked."))
    raid_helper_payload = models.JSONField(verbose_name=gettext_lazy("Raid-Helper answer"), null=True, blank=True, help_text=gettext_lazy("Raid-Helper's answer, for debugging."))
    raid_helper_pending = models.BooleanField(verbose_name=gettext_lazy("waiting for Raid-Helper"),
        default=False,
        help_text=gettext_lazy("Booked here while Raid-Helper was not configured: the periodic job creates it there (with its "
                  "sign-ups) once it is configured, if it has not started yet."),
    )
    raid_helper_pushed_at = models.DateTimeField(verbose_name=gettext_lazy("pushed to Raid-Helper at"),
        null=True, blank=True, help_text=gettext_lazy("When an event booked here only was created in Raid-Helper later."),
    )
    raid_helper_push_error = models.CharField(verbose_name=gettext_lazy("Raid-Helper push error"),
        max_length=300, blank=True, help_text=gettext_lazy("Why the last attempt to create it in Raid-Helper failed (retried)."),
    )
    signups_imported_at = models.DateTimeField(verbose_name=gettext_lazy("sign-ups imported at"), null=True, blank=True,
                                               help_text=gettext_lazy("Last import of the sign-ups from Raid-Helper."))
    roster_post_text = models.TextField(verbose_name=gettext_lazy("roster post"),
        blank=True, help_text=gettext_lazy("The live roster as last queued to the raid channel (posted 24 h before, edited since)."),
    )
    signup_import_report = models.JSONField(verbose_name=gettext_lazy("sign-up import report"),
        default=dict, blank=True,
        help_text=gettext_lazy("What the last sign-up import did: counts, sign-ups it could not place and those placed "
                  "without a spec or role, each with the reason."),
    )
    wcl_import_status = models.CharField(verbose_name=gettext_lazy("Warcraft Logs import"),
        max_length=8, blank=True, default="", choices=[("", gettext_lazy("Not imported yet")), ("imported", gettext_lazy("Imported")),
                                                        ("gave_up", gettext_lazy("No report (gave up)"))],
        help_text=gettext_lazy("Attendance from Warcraft Logs: imported once the guild's report of the evening was read; "
                  "given up when no report appeared within WCL_IMPORT_GIVE_UP_HOURS after the raid."),
    )
    wcl_imported_at = models.DateTimeField(verbose_name=gettext_lazy("Warcraft Logs imported at"), null=True, blank=True,
                                           help_text=gettext_lazy("When the Warcraft Logs import finished (or gave up)."))
    wcl_import_report = models.JSONField(verbose_name=gettext_lazy("Warcraft Logs import report"),
        default=dict, blank=True,
        help_text=gettext_lazy("What the last Warcraft Logs import did: the reports read, counts, the characters it could not "
                  "place (with the reason), or why it is still waiting."),
    )
    wcl_claimed_until = models.DateTimeField(verbose_name=gettext_lazy("Warcraft Logs import claimed until"),
        null=True, blank=True, help_text=gettext_lazy("A worker is importing this event from Warcraft Logs until then."),
    )
    created_at = models.DateTimeField(verbose_name=gettext_lazy("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-start_time_utc"]
        verbose_name = gettext_lazy("raid event")
        verbose_name_plural = gettext_lazy("raid events")
        constraints = [
            models.UniqueConstraint(fields=["recurring_event", "event_date"], name="raidevent_one_per_night",
                                    violation_error_message=gettext_lazy("This raid night already has an event on that date: "
                                                            "edit that one instead.")),
            models.UniqueConstraint(fields=["raid_helper_event_id"], condition=~Q(raid_helper_event_id=""),
                                    name="raidevent_unique_raid_helper_id",
                                    violation_error_message=gettext_lazy("Another raid event already uses this Raid-Helper event.")),
            models.CheckConstraint(name="raidevent_ends_after_start", condition=Q(end_time_utc__gt=F("start_time_utc")),
                                   violation_error_message=gettext_lazy("The event must end after it starts.")),
            models.CheckConstraint(name="raidevent_wcl_status_valid",
                                   condition=Q(wcl_import_status__in=["", "imported", "gave_up"]),
                                   violation_error_message=gettext_lazy("The Warcraft Logs import is pending, imported or given up.")),
            models.CheckConstraint(name="raidevent_wcl_done_has_time",
                                   condition=Q(wcl_import_status="") | Q(wcl_imported_at__isnull=False),
                                   violation_error_message=gettext_lazy("A finished Warcraft Logs import records when it finished.")),
            models.CheckConstraint(name="raidevent_next_booked_consistent",
                                   condition=Q(next_event__isnull=True) | Q(next_booked_at__isnull=False),
                                   violation_error_message=gettext_lazy("An event whose next week is booked records when it was booked."),
            ),
            models.CheckConstraint(name="raidevent_pending_has_no_raid_helper_id",
                                   condition=Q(raid_helper_pending=False) | Q(raid_helper_event_id=""),
                                   violation_error_message=gettext_lazy("An event already on Raid-Helper is not waiting to be "
                                                           "pushed there.")),
        ]
        indexes = [
            models.Index(fields=["start_time_utc"], name="raidevent_start_idx",
                         condition=Q(recurring_event__isnull=False, next_booked_at__isnull=True)),
            models.Index(fields=["start_time_utc"], name="raidevent_push_later_idx",
                         condition=Q(raid_helper_pending=True)),
        ]

    def __str__(self) -> str:
        return f"{self.title} — {date_format(self.event_date, 'D d M Y')}"

    def clean(self) -> None:
        """The event date is the day the raid starts, in the raid night's time zone (a one-off
        event: Raid-Helper's): a Wednesday date with a Saturday start is refused."""
        if self.event_date is None or self.start_time_utc is None:
            return
        zone_name = self.recurring_event.timezone if self.recurring_event_id else RaidHelperSettings.load().timezone
        try:
            zone = zoneinfo.ZoneInfo(zone_name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return  # the zone's own validator reports it
        try:
            local = self.start_time_utc.astimezone(zone)
        except OverflowError:
            raise ValidationError({"start_time_utc": _("This start is outside the calendar.")}) from None
        if local.date() != self.event_date:
            raise ValidationError({"event_date": _(
                "The event is dated %(date)s but starts on %(start)s (%(zone)s): the date must be the day it starts."
            ) % {"date": date_format(self.event_date, "D d M Y"), "start": date_format(local, "D d M Y H:i"),
                 "zone": zone_name}})

    @property
    def raid_helper_url(self) -> str:
        return f"https://raid-helper.dev/event/{self.raid_helper_event_id}" if self.raid_helper_event_id else ""


class RaidAttendance(models.Model):
    class Status(models.TextChoices):
        ACCEPTED = "accepted", pgettext_lazy("raid sign-up", "Accepted")
        TENTATIVE = "tentative", pgettext_lazy("raid sign-up", "Tentative")
        BENCH = "bench", pgettext_lazy("raid sign-up", "Bench")
        ABSENCE = "absence", pgettext_lazy("raid sign-up", "Absence")

    class Source(models.TextChoices):
        AUTO = "auto", gettext_lazy("Auto-booking")
        RAID_HELPER = "raid_helper", gettext_lazy("Raid-Helper import")
        MANUAL = "manual", gettext_lazy("Officer")
        WARCRAFT_LOGS = "warcraftlogs", gettext_lazy("Warcraft Logs import")

    class AttendedSource(models.TextChoices):
        UNSET = "", gettext_lazy("Not set")
        OFFICER = "officer", gettext_lazy("Officer (kept by imports)")
        WARCRAFT_LOGS = "warcraftlogs", gettext_lazy("Warcraft Logs")

    class SignupPush(models.TextChoices):
        PENDING = "pending", gettext_lazy("To send")
        SENT = "sent", gettext_lazy("Sent to Raid-Helper")
        FAILED = "failed", gettext_lazy("Failed (retried)")
        SKIPPED = "skipped", gettext_lazy("Not sent")

    event = models.ForeignKey(RaidEvent, verbose_name=gettext_lazy("raid event"), on_delete=models.CASCADE, related_name="attendance")
    player = models.ForeignKey("guildsync.Player", verbose_name=gettext_lazy("player"), on_delete=models.CASCADE, related_name="raid_attendance")
    signed_up = models.BooleanField(verbose_name=gettext_lazy("signed up"), default=False, help_text=gettext_lazy("On the roster as accepted."))
    attended = models.BooleanField(verbose_name=gettext_lazy("attended"), default=False)
    attended_source = models.CharField(verbose_name=gettext_lazy("attended set by"),
        max_length=12, choices=AttendedSource.choices, default="", blank=True,
        help_text=gettext_lazy("Who set Attended. An officer's mark (ticked or unticked by hand) is an override: the Warcraft "
                  "Logs import never changes it."),
    )
    late = models.BooleanField(verbose_name=gettext_lazy("late"), default=False, help_text=gettext_lazy("Came, but late (counts as attended; the report shows it)."))
    status = models.CharField(verbose_name=pgettext_lazy("raid attendance", "status"), max_length=10, choices=Status.choices, default=Status.ACCEPTED)
    source = models.CharField(verbose_name=pgettext_lazy("raid attendance", "source"), max_length=12, choices=Source.choices, default=Source.MANUAL)
    specialization = models.ForeignKey("guildsync.Specialization", verbose_name=gettext_lazy("spec"), null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+", help_text=gettext_lazy("The spec signed up as."))
    role = models.ForeignKey("guildsync.Role", verbose_name=pgettext_lazy("wow", "role"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             help_text=gettext_lazy("The role signed up as (the Raid-Helper slot): may differ from the spec's "
                                       "usual role, e.g. a Demonology warlock tanking."))
    signed_up_late = models.BooleanField(verbose_name=gettext_lazy("signed up late"), default=False, help_text=gettext_lazy("Signed up in Raid-Helper's Late column."))
    signup_push = models.CharField(verbose_name=gettext_lazy("sign-up push"),
        max_length=8, choices=SignupPush.choices, default=SignupPush.SKIPPED,
        help_text=gettext_lazy("State of this player's sign-up in Raid-Helper when the event was auto-booked."),
    )
    signup_push_attempts = models.PositiveSmallIntegerField(verbose_name=gettext_lazy("sign-up push attempts"), default=0)
    signup_push_error = models.CharField(verbose_name=gettext_lazy("sign-up push error"), max_length=300, blank=True,
                                         help_text=gettext_lazy("Why the sign-up was not (yet) sent to Raid-Helper."))
    raid_helper_signup_id = models.CharField(verbose_name=gettext_lazy("Raid-Helper sign-up id"), max_length=32, blank=True)
    updated_at = models.DateTimeField(verbose_name=gettext_lazy("updated at"), auto_now=True)

    class Meta:
        ordering = ["event", "player__display_name"]
        verbose_name = gettext_lazy("raid attendance")
        verbose_name_plural = gettext_lazy("raid attendance")
        constraints = [
            models.UniqueConstraint(fields=["event", "player"], name="raidattendance_one_per_player",
                                    violation_error_message=gettext_lazy("This player is already on this event's attendance.")),
            models.CheckConstraint(name="raidattendance_late_means_attended", condition=Q(late=False) | Q(attended=True),
                                   violation_error_message=gettext_lazy("Only a player who attended can be marked late.")),
            models.CheckConstraint(name="raidattendance_status_valid",
                                   condition=Q(status__in=["accepted", "tentative", "bench", "absence"]),
                                   violation_error_message=gettext_lazy("Attendance is Accepted, Tentative, Bench or Absence."),
            ),
            models.CheckConstraint(name="raidattendance_source_valid",
                                   condition=Q(source__in=["auto", "raid_helper", "manual", "warcraftlogs"]),
                                   violation_error_message=gettext_lazy("Attendance comes from auto-booking, Raid-Helper, an officer "
                                                           "or Warcraft Logs."),
            ),
            models.CheckConstraint(name="raidattendance_attended_source_valid",
                                   condition=Q(attended_source__in=["", "officer", "warcraftlogs"]),
                                   violation_error_message=gettext_lazy("Attended is unset, set by an officer or by Warcraft Logs.")),
            models.CheckConstraint(name="raidattendance_wcl_means_attended",
                                   condition=~Q(attended_source="warcraftlogs") | Q(attended=True),
                                   violation_error_message=gettext_lazy("Warcraft Logs only ever marks a player as attended.")),
            models.CheckConstraint(name="raidattendance_push_valid",
                                   condition=Q(signup_push__in=["pending", "sent", "failed", "skipped"]),
                                   violation_error_message=gettext_lazy("A sign-up push is to send, sent, failed or not sent."),
            ),
        ]
        indexes = [
            models.Index(fields=["signup_push"], name="raidattendance_push_idx",
                         condition=Q(signup_push__in=["pending", "failed"])),
        ]

    def __str__(self) -> str:
        return f"{self.player} @ {self.event} ({self.get_status_display()})"


class RaidHelperSettings(models.Model):
    """The one row of Raid-Helper settings. The API key is not here: it comes from the
    environment (RAID_HELPER_API_KEY) so it never shows in the admin or a backup."""

    SINGLETON_PK = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_PK, editable=False)
    server_id = models.CharField(verbose_name=gettext_lazy("Discord server id"), max_length=20, blank=True, help_text=gettext_lazy("Discord server id Raid-Helper posts in."))
    raid_channel_id = models.BigIntegerField(verbose_name=gettext_lazy("raid channel id"), null=True, blank=True,
                                             help_text=gettext_lazy("Where events are posted and announced by default."))
    leader_discord_id = models.BigIntegerField(verbose_name=gettext_lazy("leader's Discord id"), null=True, blank=True,
                                               help_text=gettext_lazy("Discord id shown as the leader of booked events."))
    default_template_id = models.CharField(verbose_name=gettext_lazy("default template"), max_length=40, default="wowretail2")
    timezone = models.CharField(verbose_name=gettext_lazy("time zone"), max_length=64, default="UTC", validators=[validate_timezone],
                                help_text=gettext_lazy("The time zone Raid-Helper reads event dates in (its server setting)."))
    # Warcraft Logs: the guild whose reports give attendance (the client id and secret are secrets:
    # Secret settings). The environment's WCL_GUILD_* win when set.
    wcl_guild_id = models.PositiveIntegerField(
        null=True, blank=True, verbose_name=gettext_lazy("Warcraft Logs guild number"),
        help_text=gettext_lazy("The number in the guild's Warcraft Logs address (warcraftlogs.com/guild/id/NUMBER); "
                  "or leave it empty and give the name, realm and region below."))
    wcl_guild_name = models.CharField(max_length=64, blank=True, verbose_name=gettext_lazy("Warcraft Logs guild name"))
    wcl_guild_server_slug = models.CharField(max_length=64, blank=True, verbose_name=gettext_lazy("Warcraft Logs realm"),
                                             help_text=gettext_lazy("The realm as in its address, e.g. twisting-nether."))
    wcl_guild_server_region = models.CharField(max_length=4, blank=True, verbose_name=gettext_lazy("Warcraft Logs region"),
                                               help_text=gettext_lazy("us, eu, kr, tw or cn."))
    discord_events = models.BooleanField(
        default=False, verbose_name=gettext_lazy("Mirror raids as Discord events"),
        help_text=gettext_lazy("Show each upcoming raid event as one of the server's Discord scheduled events (members see "
                  "and RSVP to it in the server's Events), kept in step when it moves, is renamed or deleted. "
                  "The bot needs the Manage Events permission. In the server id above, or DISCORD_GUILD_ID."))

    class Meta:
        verbose_name = gettext_lazy("Raid-Helper settings")
        verbose_name_plural = gettext_lazy("Raid-Helper settings")
        constraints = [models.CheckConstraint(name="raidhelpersettings_singleton", condition=Q(id=1),
                                              violation_error_message=gettext_lazy("There is only one Raid-Helper settings row: edit it instead."))]

    def __str__(self) -> str:
        return _("Raid-Helper settings")

    def clean(self) -> None:
        if self.server_id and not self.server_id.isdigit():
            raise ValidationError({"server_id": _("A Discord server id is digits only.")})
        if self.wcl_guild_server_region and self.wcl_guild_server_region.lower() not in ("us", "eu", "kr", "tw", "cn"):
            raise ValidationError({"wcl_guild_server_region": _("The Warcraft Logs region is us, eu, kr, tw or cn.")})
        if self.wcl_guild_name and not (self.wcl_guild_server_slug and self.wcl_guild_server_region):
            raise ValidationError({"wcl_guild_server_slug": _("A guild found by name needs its realm and region too.")})

    @classmethod
    def load(cls) -> RaidHelperSettings:
        """The saved row, or unsaved defaults (reading never writes)."""
        return cls.objects.filter(pk=cls.SINGLETON_PK).first() or cls()
