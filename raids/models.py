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


def validate_timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"{value!r} is not an IANA time zone (e.g. Europe/Berlin, America/New_York).") from None


class RaidSeasonQuerySet(models.QuerySet):
    def current(self, today: dt.date) -> RaidSeason | None:
        """The active season whose start_date ≤ today, latest first (the seed's subquery)."""
        return self.filter(is_active=True, start_date__lte=today).order_by("-start_date", "-pk").first()


class RaidSeason(models.Model):
    name = models.CharField(max_length=100, unique=True)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True, help_text="Empty while the season is open-ended.")
    is_active = models.BooleanField(default=True, help_text="Only active seasons can be the current season.")

    objects = RaidSeasonQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(name="raidseason_end_after_start",
                                   condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                                   violation_error_message="A season ends on or after its start date."),
        ]

    def __str__(self) -> str:
        return self.name


class RecurringEvent(models.Model):
    """A weekly raid night; each occurrence is a ``RaidEvent`` linked back to it."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    label = models.CharField(max_length=100, help_text="Also the title of the Raid-Helper events it books.")
    event_type = models.CharField(max_length=30, default="raid", help_text="e.g. raid, mythic+, pvp.")
    day_of_week = models.PositiveSmallIntegerField(choices=Weekday.choices)
    default_start_time = models.TimeField(help_text="Wall-clock start in the time zone below.")
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone],
                                help_text="IANA zone the start time is read in; keeps the local time across DST.")
    default_duration_minutes = models.PositiveSmallIntegerField(default=180)
    discord_channel_id = models.BigIntegerField(
        null=True, blank=True, help_text="Channel the Raid-Helper sign-up is posted in; empty = the raid channel."
    )
    raid_helper_template_id = models.CharField(
        max_length=40, blank=True, help_text="Raid-Helper template, e.g. wowretail2; empty = the default template."
    )
    is_active = models.BooleanField(default=True, help_text="Inactive nights are not booked any more.")
    wanted_tanks = models.PositiveSmallIntegerField(default=2, help_text="Wanted composition: tanks.")
    wanted_healers = models.PositiveSmallIntegerField(default=4, help_text="Wanted composition: healers.")
    wanted_melee = models.PositiveSmallIntegerField(default=7, help_text="Wanted composition: melee damage.")
    wanted_ranged = models.PositiveSmallIntegerField(default=7, help_text="Wanted composition: ranged damage.")

    class Meta:
        ordering = ["day_of_week", "default_start_time"]
        constraints = [
            models.CheckConstraint(name="recurringevent_weekday_0_6", condition=Q(day_of_week__gte=0, day_of_week__lte=6),
                                   violation_error_message="Pick a weekday (Monday to Sunday)."),
            models.CheckConstraint(name="recurringevent_duration_positive", condition=Q(default_duration_minutes__gt=0),
                                   violation_error_message="A raid night lasts at least one minute."),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.get_day_of_week_display()} {self.default_start_time:%H:%M} {self.timezone})"


class RaidEvent(models.Model):
    season = models.ForeignKey(RaidSeason, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    title = models.CharField(max_length=200)
    event_date = models.DateField(help_text="The raid night's date (in the recurring event's time zone).")
    start_time_utc = models.DateTimeField()
    end_time_utc = models.DateTimeField()
    raid_helper_event_id = models.CharField(max_length=32, blank=True,
                                            help_text="Raid-Helper's event id (also the Discord message id).")
    discord_channel_id = models.BigIntegerField(null=True, blank=True)
    recurring_event = models.ForeignKey(RecurringEvent, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="events")
    auto_booked = models.BooleanField(default=False, help_text="Created by the auto-booking job.")
    next_booked_at = models.DateTimeField(
        null=True, blank=True,
        help_text="When next week's occurrence was booked (or found) from this event; empty = not booked yet.",
    )
    next_event = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                   help_text="Next week's occurrence, once booked.")
    raid_helper_payload = models.JSONField(null=True, blank=True, help_text="Raid-Helper's answer, for debugging.")
    raid_helper_pending = models.BooleanField(
        default=False,
        help_text="Booked here while Raid-Helper was not configured: the periodic job creates it there (with its "
                  "sign-ups) once it is configured, if it has not started yet.",
    )
    raid_helper_pushed_at = models.DateTimeField(
        null=True, blank=True, help_text="When an event booked here only was created in Raid-Helper later.",
    )
    raid_helper_push_error = models.CharField(
        max_length=300, blank=True, help_text="Why the last attempt to create it in Raid-Helper failed (retried).",
    )
    signups_imported_at = models.DateTimeField(null=True, blank=True,
                                               help_text="Last import of the sign-ups from Raid-Helper.")
    roster_post_text = models.TextField(
        blank=True, help_text="The live roster as last queued to the raid channel (posted 24 h before, edited since).",
    )
    signup_import_report = models.JSONField(
        default=dict, blank=True,
        help_text="What the last sign-up import did: counts, sign-ups it could not place and those placed "
                  "without a spec or role, each with the reason.",
    )
    wcl_import_status = models.CharField(
        max_length=8, blank=True, default="", choices=[("", "Not imported yet"), ("imported", "Imported"),
                                                        ("gave_up", "No report (gave up)")],
        help_text="Attendance from Warcraft Logs: imported once the guild's report of the evening was read; "
                  "given up when no report appeared within WCL_IMPORT_GIVE_UP_HOURS after the raid.",
    )
    wcl_imported_at = models.DateTimeField(null=True, blank=True,
                                           help_text="When the Warcraft Logs import finished (or gave up).")
    wcl_import_report = models.JSONField(
        default=dict, blank=True,
        help_text="What the last Warcraft Logs import did: the reports read, counts, the characters it could not "
                  "place (with the reason), or why it is still waiting.",
    )
    wcl_claimed_until = models.DateTimeField(
        null=True, blank=True, help_text="A worker is importing this event from Warcraft Logs until then.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start_time_utc"]
        constraints = [
            models.UniqueConstraint(fields=["recurring_event", "event_date"], name="raidevent_one_per_night",
                                    violation_error_message="This raid night already has an event on that date: "
                                                            "edit that one instead."),
            models.UniqueConstraint(fields=["raid_helper_event_id"], condition=~Q(raid_helper_event_id=""),
                                    name="raidevent_unique_raid_helper_id",
                                    violation_error_message="Another raid event already uses this Raid-Helper event."),
            models.CheckConstraint(name="raidevent_ends_after_start", condition=Q(end_time_utc__gt=F("start_time_utc")),
                                   violation_error_message="The event must end after it starts."),
            models.CheckConstraint(name="raidevent_wcl_status_valid",
                                   condition=Q(wcl_import_status__in=["", "imported", "gave_up"]),
                                   violation_error_message="The Warcraft Logs import is pending, imported or given up."),
            models.CheckConstraint(name="raidevent_wcl_done_has_time",
                                   condition=Q(wcl_import_status="") | Q(wcl_imported_at__isnull=False),
                                   violation_error_message="A finished Warcraft Logs import records when it finished."),
            models.CheckConstraint(name="raidevent_next_booked_consistent",
                                   condition=Q(next_event__isnull=True) | Q(next_booked_at__isnull=False),
                                   violation_error_message="An event whose next week is booked records when it was booked.",
            ),
            models.CheckConstraint(name="raidevent_pending_has_no_raid_helper_id",
                                   condition=Q(raid_helper_pending=False) | Q(raid_helper_event_id=""),
                                   violation_error_message="An event already on Raid-Helper is not waiting to be "
                                                           "pushed there."),
        ]
        indexes = [
            models.Index(fields=["start_time_utc"], name="raidevent_start_idx",
                         condition=Q(recurring_event__isnull=False, next_booked_at__isnull=True)),
            models.Index(fields=["start_time_utc"], name="raidevent_push_later_idx",
                         condition=Q(raid_helper_pending=True)),
        ]

    def __str__(self) -> str:
        return f"{self.title} — {self.event_date:%a %d %b %Y}"

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
            raise ValidationError({"start_time_utc": "This start is outside the calendar."}) from None
        if local.date() != self.event_date:
            raise ValidationError({"event_date": (
                f"The event is dated {self.event_date:%a %d %b %Y} but starts on {local:%a %d %b %Y at %H:%M} "
                f"({zone_name}): the date must be the day it starts.")})

    @property
    def raid_helper_url(self) -> str:
        return f"https://raid-helper.dev/event/{self.raid_helper_event_id}" if self.raid_helper_event_id else ""


class RaidAttendance(models.Model):
    class Status(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        TENTATIVE = "tentative", "Tentative"
        BENCH = "bench", "Bench"
        ABSENCE = "absence", "Absence"

    class Source(models.TextChoices):
        AUTO = "auto", "Auto-booking"
        RAID_HELPER = "raid_helper", "Raid-Helper import"
        MANUAL = "manual", "Officer"
        WARCRAFT_LOGS = "warcraftlogs", "Warcraft Logs import"

    class AttendedSource(models.TextChoices):
        UNSET = "", "Not set"
        OFFICER = "officer", "Officer (kept by imports)"
        WARCRAFT_LOGS = "warcraftlogs", "Warcraft Logs"

    class SignupPush(models.TextChoices):
        PENDING = "pending", "To send"
        SENT = "sent", "Sent to Raid-Helper"
        FAILED = "failed", "Failed (retried)"
        SKIPPED = "skipped", "Not sent"

    event = models.ForeignKey(RaidEvent, on_delete=models.CASCADE, related_name="attendance")
    player = models.ForeignKey("guildsync.Player", on_delete=models.CASCADE, related_name="raid_attendance")
    signed_up = models.BooleanField(default=False, help_text="On the roster as accepted.")
    attended = models.BooleanField(default=False)
    attended_source = models.CharField(
        max_length=12, choices=AttendedSource.choices, default="", blank=True,
        help_text="Who set Attended. An officer's mark (ticked or unticked by hand) is an override: the Warcraft "
                  "Logs import never changes it.",
    )
    late = models.BooleanField(default=False, help_text="Came, but late (counts as attended; the report shows it).")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACCEPTED)
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.MANUAL)
    specialization = models.ForeignKey("guildsync.Specialization", null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+", help_text="The spec signed up as.")
    role = models.ForeignKey("guildsync.Role", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             help_text="The role signed up as (the Raid-Helper slot): may differ from the spec's "
                                       "usual role, e.g. a Demonology warlock tanking.")
    signed_up_late = models.BooleanField(default=False, help_text="Signed up in Raid-Helper's Late column.")
    signup_push = models.CharField(
        max_length=8, choices=SignupPush.choices, default=SignupPush.SKIPPED,
        help_text="State of this player's sign-up in Raid-Helper when the event was auto-booked.",
    )
    signup_push_attempts = models.PositiveSmallIntegerField(default=0)
    signup_push_error = models.CharField(max_length=300, blank=True,
                                         help_text="Why the sign-up was not (yet) sent to Raid-Helper.")
    raid_helper_signup_id = models.CharField(max_length=32, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["event", "player__display_name"]
        verbose_name_plural = "raid attendance"
        constraints = [
            models.UniqueConstraint(fields=["event", "player"], name="raidattendance_one_per_player",
                                    violation_error_message="This player is already on this event's attendance."),
            models.CheckConstraint(name="raidattendance_late_means_attended", condition=Q(late=False) | Q(attended=True),
                                   violation_error_message="Only a player who attended can be marked late."),
            models.CheckConstraint(name="raidattendance_status_valid",
                                   condition=Q(status__in=["accepted", "tentative", "bench", "absence"]),
                                   violation_error_message="Attendance is Accepted, Tentative, Bench or Absence.",
            ),
            models.CheckConstraint(name="raidattendance_source_valid",
                                   condition=Q(source__in=["auto", "raid_helper", "manual", "warcraftlogs"]),
                                   violation_error_message="Attendance comes from auto-booking, Raid-Helper, an officer "
                                                           "or Warcraft Logs.",
            ),
            models.CheckConstraint(name="raidattendance_attended_source_valid",
                                   condition=Q(attended_source__in=["", "officer", "warcraftlogs"]),
                                   violation_error_message="Attended is unset, set by an officer or by Warcraft Logs."),
            models.CheckConstraint(name="raidattendance_wcl_means_attended",
                                   condition=~Q(attended_source="warcraftlogs") | Q(attended=True),
                                   violation_error_message="Warcraft Logs only ever marks a player as attended."),
            models.CheckConstraint(name="raidattendance_push_valid",
                                   condition=Q(signup_push__in=["pending", "sent", "failed", "skipped"]),
                                   violation_error_message="A sign-up push is to send, sent, failed or not sent.",
            ),
        ]
        indexes = [
            models.Index(fields=["signup_push"], name="raidattendance_push_idx",
                         condition=Q(signup_push__in=["pending", "failed"])),
        ]

    def __str__(self) -> str:
        return f"{self.player} @ {self.event} ({self.status})"


class RaidHelperSettings(models.Model):
    """The one row of Raid-Helper settings. The API key is not here: it comes from the
    environment (RAID_HELPER_API_KEY) so it never shows in the admin or a backup."""

    SINGLETON_PK = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_PK, editable=False)
    server_id = models.CharField(max_length=20, blank=True, help_text="Discord server id Raid-Helper posts in.")
    raid_channel_id = models.BigIntegerField(null=True, blank=True,
                                             help_text="Where events are posted and announced by default.")
    leader_discord_id = models.BigIntegerField(null=True, blank=True,
                                               help_text="Discord id shown as the leader of booked events.")
    default_template_id = models.CharField(max_length=40, default="wowretail2")
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone],
                                help_text="The time zone Raid-Helper reads event dates in (its server setting).")
    # Warcraft Logs: the guild whose reports give attendance (the client id and secret are secrets:
    # Secret settings). The environment's WCL_GUILD_* win when set.
    wcl_guild_id = models.PositiveIntegerField(
        null=True, blank=True, verbose_name="Warcraft Logs guild number",
        help_text="The number in the guild's Warcraft Logs address (warcraftlogs.com/guild/id/NUMBER); "
                  "or leave it empty and give the name, realm and region below.")
    wcl_guild_name = models.CharField(max_length=64, blank=True, verbose_name="Warcraft Logs guild name")
    wcl_guild_server_slug = models.CharField(max_length=64, blank=True, verbose_name="Warcraft Logs realm",
                                             help_text="The realm as in its address, e.g. twisting-nether.")
    wcl_guild_server_region = models.CharField(max_length=4, blank=True, verbose_name="Warcraft Logs region",
                                               help_text="us, eu, kr, tw or cn.")
    discord_events = models.BooleanField(
        default=False, verbose_name="Mirror raids as Discord events",
        help_text="Show each upcoming raid event as one of the server's Discord scheduled events (members see "
                  "and RSVP to it in the server's Events), kept in step when it moves, is renamed or deleted. "
                  "The bot needs the Manage Events permission. In the server id above, or DISCORD_GUILD_ID.")

    class Meta:
        verbose_name = "Raid-Helper settings"
        verbose_name_plural = "Raid-Helper settings"
        constraints = [models.CheckConstraint(name="raidhelpersettings_singleton", condition=Q(id=1),
                                              violation_error_message="There is only one Raid-Helper settings row: edit it instead.")]

    def __str__(self) -> str:
        return "Raid-Helper settings"

    def clean(self) -> None:
        if self.server_id and not self.server_id.isdigit():
            raise ValidationError({"server_id": "A Discord server id is digits only."})
        if self.wcl_guild_server_region and self.wcl_guild_server_region.lower() not in ("us", "eu", "kr", "tw", "cn"):
            raise ValidationError({"wcl_guild_server_region": "The Warcraft Logs region is us, eu, kr, tw or cn."})
        if self.wcl_guild_name and not (self.wcl_guild_server_slug and self.wcl_guild_server_region):
            raise ValidationError({"wcl_guild_server_slug": "A guild found by name needs its realm and region too."})

    @classmethod
    def load(cls) -> RaidHelperSettings:
        """The saved row, or unsaved defaults (reading never writes)."""
        return cls.objects.filter(pk=cls.SINGLETON_PK).first() or cls()
