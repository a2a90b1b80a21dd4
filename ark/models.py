"""Ark of Osiris tables. The invariants the database can hold live here, in Meta.

Only ``ark.services`` writes these rows (the admin and Discord call the services).
"""

from __future__ import annotations

import datetime

from django.db import models
from django.db.models import F, Q

MAX_PLAYERS = 30  # an Ark of Osiris team fields at most 30 governors
MAX_SUBS = 30  # with the players, what one registration embed can list within Discord's limits
MAX_CITY_HALL = 25  # Rise of Kingdoms city hall levels 1-25
TEAMS = (1, 2)  # a draft splits the players into team 1 and team 2


class Alliance(models.Model):
    """An in-game alliance that fields one Ark team per weekend."""

    name = models.CharField(max_length=64, unique=True)
    registration_channel_id = models.BigIntegerField(
        null=True, blank=True, help_text="Discord channel of the registration message (Join/Leave buttons)."
    )
    confirmation_channel_id = models.BigIntegerField(
        null=True, blank=True, help_text="Discord channel of the confirmation message posted at signup close."
    )
    officer_channel_id = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="Where officers are reminded to record results; the confirmation channel when empty.",
    )
    is_active = models.BooleanField(default=True)
    player_cap = models.PositiveSmallIntegerField(
        default=30, help_text=f"Player slots per match (1 to {MAX_PLAYERS})."
    )
    sub_cap = models.PositiveSmallIntegerField(default=15, help_text=f"Sub slots per match (0 to {MAX_SUBS}).")
    min_city_hall = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Lowest city hall level allowed to sign up (empty: any). An officer may override, audited.",
    )
    no_show_threshold = models.PositiveSmallIntegerField(
        default=2, help_text="Suggest a ban once a governor has this many no-shows…"
    )
    no_show_window = models.PositiveSmallIntegerField(
        default=5, help_text="…within their last this-many matches with a recorded attendance."
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                name="ark_alliance_min_city_hall_range",
                condition=Q(min_city_hall__isnull=True) | Q(min_city_hall__gte=1, min_city_hall__lte=MAX_CITY_HALL),
                violation_error_message=f"A minimum city hall is 1 to {MAX_CITY_HALL} (empty: any).",
            ),
            models.CheckConstraint(
                name="ark_alliance_no_show_rule_valid",
                condition=Q(no_show_threshold__gte=1, no_show_window__gte=F("no_show_threshold")),
                violation_error_message="The no-show rule is N no-shows within the last M matches, with 1 ≤ N ≤ M.",
            ),
            models.CheckConstraint(
                name="ark_alliance_player_cap_range", condition=Q(player_cap__gte=1, player_cap__lte=MAX_PLAYERS),
                violation_error_message=f"Player slots per match must be between 1 and {MAX_PLAYERS}.",
            ),
            models.CheckConstraint(name="ark_alliance_sub_cap_range", condition=Q(sub_cap__lte=MAX_SUBS),
                                   violation_error_message=f"Sub slots per match must be between 0 and {MAX_SUBS}."),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def missing_channels(self) -> list[str]:
        missing = []
        if not self.registration_channel_id:
            missing.append("registration channel")
        if not self.confirmation_channel_id:
            missing.append("confirmation channel")
        return missing


class Governor(models.Model):
    """An in-game account (governor) in a Discord user's registry. One user may own several."""

    governor_id = models.BigIntegerField(unique=True, help_text="The in-game governor id.")
    name = models.CharField(max_length=64)
    discord_user_id = models.BigIntegerField(
        db_index=True, help_text="The Discord user who owns this account."
    )
    power = models.BigIntegerField(null=True, blank=True, help_text="In-game power (from the stats import).")
    kill_points = models.BigIntegerField(null=True, blank=True, help_text="In-game kill points.")
    city_hall = models.PositiveSmallIntegerField(null=True, blank=True, help_text="City hall level (1-25).")
    troop_tier = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Highest troop tier (1-5).")
    stats_updated_at = models.DateTimeField(null=True, blank=True, help_text="When the stats were last imported.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                name="ark_governor_stats_valid",
                condition=(Q(power__isnull=True) | Q(power__gte=0))
                & (Q(kill_points__isnull=True) | Q(kill_points__gte=0))
                & (Q(city_hall__isnull=True) | Q(city_hall__gte=1, city_hall__lte=MAX_CITY_HALL))
                & (Q(troop_tier__isnull=True) | Q(troop_tier__gte=1, troop_tier__lte=5)),
                violation_error_message=f"Stats are positive; city hall 1 to {MAX_CITY_HALL}; troop tier 1 to 5.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.governor_id})"


class Match(models.Model):
    class Day(models.TextChoices):
        SATURDAY = "Sat", "Saturday"
        SUNDAY = "Sun", "Sunday"

    class Status(models.TextChoices):
        SCHEDULED = "Scheduled", "Scheduled"
        LOCKED = "Locked", "Locked"
        CANCELLED = "Cancelled", "Cancelled"
        COMPLETED = "Completed", "Completed"

    class Result(models.TextChoices):
        NONE = "", "—"
        WIN = "Win", "Win"
        LOSS = "Loss", "Loss"
        NO_SHOW = "No-show", "No-show"

    OPEN_STATUSES = (Status.SCHEDULED, Status.LOCKED)

    alliance = models.ForeignKey(Alliance, on_delete=models.PROTECT, related_name="matches")
    ark_weekend_date = models.DateField(help_text="The Saturday of the Ark weekend.")
    match_day = models.CharField(max_length=3, choices=Day.choices)
    match_time_utc = models.DateTimeField("match time (UTC)", help_text="Start of the match (UTC).")
    signup_close_utc = models.DateTimeField("signups close (UTC)", help_text="Signups close and the match locks at this time (UTC).")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    notes = models.TextField(
        blank=True, max_length=1000, help_text="Shown on the registration message (Discord embed text)."
    )
    result = models.CharField(max_length=8, choices=Result.choices, blank=True, default="")
    result_notes = models.TextField(
        blank=True, max_length=500, help_text="Shown with the result on the confirmation message."
    )
    roster_version = models.PositiveIntegerField(
        default=0, help_text="Bumped by every roster change; the Discord messages show the latest."
    )
    created_by_discord_id = models.BigIntegerField("created by (Discord id)", null=True, blank=True)
    locked_at = models.DateTimeField(null=True, blank=True)
    result_reminded_at = models.DateTimeField(
        null=True, blank=True, help_text="When officers were reminded to record the result."
    )
    scheduled_by_calendar = models.BooleanField(
        default=False, help_text="Created by the alliance's Ark calendar (not typed by an officer)."
    )
    drafted_at = models.DateTimeField(null=True, blank=True, help_text="When the teams were last drafted.")
    draft_published_at = models.DateTimeField(
        null=True, blank=True, help_text="When the draft was posted; later changes edit that post."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-ark_weekend_date", "alliance__name"]
        verbose_name_plural = "matches"
        indexes = [models.Index(fields=["status", "signup_close_utc"], name="ark_match_status_close_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["alliance", "ark_weekend_date"],
                condition=~Q(status="Cancelled"),
                name="ark_one_match_per_alliance_weekend",
                violation_error_message="This alliance already has a match that weekend.",
            ),
            models.CheckConstraint(
                name="ark_match_status_valid",
                condition=Q(status__in=["Scheduled", "Locked", "Cancelled", "Completed"]),
                violation_error_message="A match is Scheduled, Locked, Cancelled or Completed.",
            ),
            models.CheckConstraint(name="ark_match_day_valid", condition=Q(match_day__in=["Sat", "Sun"]),
                                   violation_error_message="A match is played on Saturday or Sunday."),
            models.CheckConstraint(
                name="ark_match_result_valid", condition=Q(result__in=["", "Win", "Loss", "No-show"]),
                violation_error_message="A result is Win, Loss or No-show.",
            ),
            models.CheckConstraint(
                name="ark_match_close_before_start", condition=Q(signup_close_utc__lte=F("match_time_utc")),
                violation_error_message="Signups must close before the match starts (or at the start at the latest).",
            ),
            models.CheckConstraint(
                name="ark_match_completed_has_result", condition=~Q(status="Completed") | ~Q(result=""),
                violation_error_message="A completed match needs a result (Win, Loss or No-show).",
            ),
        ]

    def __str__(self) -> str:
        """What officers and members pick a match by: "Ark 2026-12-12 Saturday 14:00 UTC, Osiris Guard"
        (the Discord autocomplete adds the number the slash commands take)."""
        when = f"{self.get_match_day_display()} {self.match_time_utc:%H:%M} UTC" if self.match_time_utc else ""
        return f"Ark {self.ark_weekend_date:%Y-%m-%d} {when}, {self.alliance.name}".replace("  ", " ")


class Signup(models.Model):
    class Slot(models.TextChoices):
        PLAYER = "Player", "Player"
        SUB = "Sub", "Sub"

    class Status(models.TextChoices):
        ACTIVE = "Active", "Active"
        WITHDRAWN = "Withdrawn", "Withdrawn"
        REMOVED = "Removed", "Removed"

    class Source(models.TextChoices):
        SELF = "self", "Self"
        ADMIN = "admin", "Officer"

    class Attendance(models.TextChoices):
        UNKNOWN = "", "—"
        PLAYED = "played", "Played"
        NO_SHOW = "no_show", "No-show"
        EXCUSED = "excused", "Excused"

    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="signups")
    governor = models.ForeignKey(Governor, on_delete=models.PROTECT, related_name="signups")
    discord_user_id = models.BigIntegerField(db_index=True)
    ark_weekend_date = models.DateField(
        help_text="Copy of the match's weekend: the database refuses a governor active twice in one weekend."
    )
    slot = models.CharField(max_length=6, choices=Slot.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    source = models.CharField(max_length=5, choices=Source.choices, default=Source.SELF)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True, help_text="When it was withdrawn or removed.")
    team = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Team 1 or 2 in the draft (empty: not drafted)."
    )
    attendance = models.CharField(
        max_length=8, choices=Attendance.choices, blank=True, default="", help_text="Recorded after the match."
    )
    created_at = models.DateTimeField(auto_now_add=True, help_text="Position in the queue (earliest first).")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["match", "slot", "created_at", "id"]  # "Player" sorts before "Sub"
        indexes = [
            models.Index(fields=["match", "status", "slot", "created_at"], name="ark_signup_roster_idx")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["governor", "ark_weekend_date"],
                condition=Q(status="Active"),
                name="ark_one_active_signup_per_governor_weekend",
                violation_error_message="This governor is already signed up for that Ark weekend.",
            ),
            models.CheckConstraint(name="ark_signup_slot_valid", condition=Q(slot__in=["Player", "Sub"]),
                                   violation_error_message="A signup is for a Player or a Sub slot."),
            models.CheckConstraint(
                name="ark_signup_status_valid", condition=Q(status__in=["Active", "Withdrawn", "Removed"]),
                violation_error_message="A signup is Active, Withdrawn or Removed.",
            ),
            models.CheckConstraint(name="ark_signup_source_valid", condition=Q(source__in=["self", "admin"]),
                                   violation_error_message="A signup comes from the member or from an officer."),
            models.CheckConstraint(
                name="ark_signup_team_valid", condition=Q(team__isnull=True) | Q(team__in=TEAMS),
                violation_error_message="A drafted player is in team 1 or team 2.",
            ),
            models.CheckConstraint(
                name="ark_signup_attendance_valid",
                condition=Q(attendance__in=["", "played", "no_show", "excused"]),
                violation_error_message="Attendance is played, no-show or excused.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.governor.name} · {self.slot} · {self.status}"


class Ban(models.Model):
    """Keeps a Discord user and/or a governor out of Ark signups for a range of weekends."""

    discord_user_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    governor_id = models.BigIntegerField(
        null=True, blank=True, db_index=True, help_text="In-game governor id."
    )
    reason = models.TextField(
        max_length=500, help_text="Told to the officers and the member; Discord keeps at most 512 characters."
    )
    starts_weekend = models.DateField(help_text="First Ark weekend (Saturday) covered.")
    ends_on = models.DateField(help_text="Last day covered: weekends starting on or before it are banned.")
    created_by_discord_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by_discord_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                name="ark_ban_has_target",
                condition=Q(discord_user_id__isnull=False) | Q(governor_id__isnull=False),
                violation_error_message="A ban needs a Discord member or an in-game governor id (or both).",
            ),
            models.CheckConstraint(name="ark_ban_range_valid", condition=Q(ends_on__gte=F("starts_weekend")),
                                   violation_error_message="A ban's last day cannot be before its first weekend."),
        ]

    def __str__(self) -> str:
        from guildsync.services.directory import row_label  # names, never snowflakes (the member directory)

        who = " / ".join(
            x
            for x in (
                row_label(self, "discord_user_id", "member") if self.discord_user_id else "",
                self.governor_label() if self.governor_id else "",
            )
            if x
        )
        return f"Ban {who} {self.starts_weekend}→{self.ends_on}{' (revoked)' if self.revoked_at else ''}"

    def governor_label(self) -> str:
        """ "governor Seti (51234010)": the registered name with the in-game id, else the id alone."""
        if hasattr(self, "governor_name"):  # the admin's annotation: no query per row of a list
            name = self.governor_name
        else:
            name = Governor.objects.filter(governor_id=self.governor_id).values_list("name", flat=True).first()
        return f"governor {name} ({self.governor_id})" if name else f"governor {self.governor_id}"


class ReminderPrefs(models.Model):
    """A Discord user's choice of Ark reminder DMs (no row: every reminder type)."""

    discord_user_id = models.BigIntegerField(unique=True)
    dm_enabled = models.BooleanField(default=True, help_text="Off: no reminder DMs at all.")
    disabled_types = models.JSONField(
        default=list, blank=True, help_text="Reminder types this user opted out of."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "reminder preferences"
        verbose_name_plural = "reminder preferences"

    def __str__(self) -> str:
        from guildsync.services.directory import row_label

        return f"Reminders of {row_label(self, 'discord_user_id', 'member')}: {'on' if self.dm_enabled else 'off'}"

    def wants(self, reminder_type: str) -> bool:
        return self.dm_enabled and reminder_type not in (self.disabled_types or [])


class AuditLog(models.Model):
    """One row per state change, written in the same transaction as the change."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=48, db_index=True)
    actor_discord_id = models.BigIntegerField(
        null=True, blank=True, db_index=True, help_text="Empty for the scheduler."
    )
    match = models.ForeignKey(
        Match, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_rows"
    )
    signup = models.ForeignKey(
        Signup, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_rows"
    )
    is_override = models.BooleanField(
        default=False, help_text="An officer overrode a rule (ban, slot order)."
    )
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "audit log entry"
        verbose_name_plural = "audit log"

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action}"


class MessageRef(models.Model):
    """Where a match's Discord message lives. ``message_id`` is learnt when the outbox delivers it."""

    class Kind(models.TextChoices):
        REGISTRATION = "registration", "Registration"
        CONFIRMATION = "confirmation", "Confirmation"
        DRAFT = "draft", "Team draft"

    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="message_refs")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    channel_id = models.BigIntegerField()
    message_id = models.BigIntegerField(
        null=True, blank=True, help_text="Empty until Discord accepted the post."
    )
    post_outbox = models.ForeignKey(
        "bot.OutboxMessage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The queued post of this message.",
    )
    pending_edit = models.ForeignKey(
        "bot.OutboxMessage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The last queued edit (updated in place while pending).",
    )
    rendered_version = models.PositiveIntegerField(
        default=0, help_text="Roster version of the queued content."
    )
    posts = models.PositiveIntegerField(default=0, help_text="How many times it was (re)posted.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["match", "kind"], name="ark_one_message_ref_per_kind",
                                    violation_error_message="This match already has this Discord message."),
            models.CheckConstraint(
                name="ark_message_ref_kind_valid", condition=Q(kind__in=["registration", "confirmation", "draft"]),
                violation_error_message="A match message is the registration, the confirmation or the team draft.",
            ),
        ]

    def __str__(self) -> str:
        from guildsync.services.directory import row_label

        return f"{self.kind} of match #{self.match_id} in {row_label(self, 'channel_id', 'channel')}" + (
            "" if self.message_id else " (pending)")


class SentReminder(models.Model):
    """A reminder sent (or skipped) for one match, target and planned time: never twice.

    Keyed by ``scheduled_for`` so a rescheduled match plans fresh reminders while the ones
    already sent for the old time stay recorded."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SKIPPED_LATE = "skipped_late", "Skipped (late)"
        DROPPED = "dropped", "Dropped (match cancelled or moved)"

    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="reminders")
    reminder_type = models.CharField(max_length=32)
    target_id = models.BigIntegerField(help_text="Discord user (DM) or channel (channel reminders).")
    is_channel = models.BooleanField(default=False)
    scheduled_for = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices)
    outbox = models.ForeignKey(
        "bot.OutboxMessage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-scheduled_for"]
        constraints = [
            models.UniqueConstraint(
                fields=["match", "target_id", "reminder_type", "scheduled_for"],
                name="ark_one_reminder_per_target_type_time",
                violation_error_message="This reminder was already sent to this member for this time.",
            ),
            models.CheckConstraint(
                name="ark_reminder_status_valid",
                condition=Q(status__in=["queued", "skipped_late", "dropped"]),
                violation_error_message="A reminder is queued, skipped (late) or dropped.",
            ),
        ]

    def __str__(self) -> str:
        from guildsync.services.directory import row_label

        return f"{self.reminder_type} → {row_label(self, 'target_id', 'any')} for #{self.match_id} ({self.status})"


class ArkSettings(models.Model):
    """The installation's Ark cadence (one row): the game runs Ark for the whole kingdom every
    ``cadence_weekends`` weekends counted from ``anchor_weekend``. Bans of "N Ark weekends" and
    the calendars count these weekends."""

    cadence_weekends = models.PositiveSmallIntegerField(
        default=2, help_text="Ark runs every this-many weekends (the game: every second weekend)."
    )
    anchor_weekend = models.DateField(
        default=datetime.date(2026, 3, 7), help_text="The Saturday of any one Ark weekend."
    )
    discord_events = models.BooleanField(
        default=False, verbose_name="Mirror matches as Discord events",
        help_text="Show each upcoming Ark match as one of the server's (DISCORD_GUILD_ID) Discord scheduled "
                  "events, kept in step when it moves or is cancelled. The bot needs the Manage Events permission.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "Ark cadence"
        verbose_name_plural = "Ark cadence"
        constraints = [
            models.CheckConstraint(
                name="ark_settings_single_row", condition=Q(pk=1),
                violation_error_message="The installation has one Ark cadence: change the existing one.",
            ),
            models.CheckConstraint(
                name="ark_settings_cadence_range", condition=Q(cadence_weekends__gte=1, cadence_weekends__lte=8),
                violation_error_message="Ark runs every 1 to 8 weekends.",
            ),
        ]

    def __str__(self) -> str:
        return f"Ark every {self.cadence_weekends} weekend(s) from {self.anchor_weekend}"


class ArkCalendar(models.Model):
    """An alliance's season plan: which slots its matches may take, when signups close, how far
    ahead matches are created, and the weekends it sits out. The first slot is the one the
    scheduler uses; officers may pick any listed slot with /ark create_match."""

    alliance = models.OneToOneField(Alliance, on_delete=models.CASCADE, related_name="calendar")
    is_enabled = models.BooleanField(default=True, help_text="Off: the scheduler creates no match for this alliance.")
    slots = models.JSONField(
        default=list,
        help_text='Allowed match slots, day and UTC time, e.g. ["Sat 12:00", "Sat 20:00", "Sun 04:00"]; '
        "the first is the scheduler's.",
    )
    close_days_before = models.PositiveSmallIntegerField(
        default=1, help_text="Signups close this many days before the Saturday (1: the Friday before)…"
    )
    close_time_utc = models.TimeField("close time (UTC)", default=datetime.time(23, 0), help_text="…at this UTC time.")
    days_ahead = models.PositiveSmallIntegerField(
        default=14, help_text="Matches are created once their start is at most this many days away."
    )
    skipped_weekends = models.JSONField(
        default=list, blank=True, help_text='Saturdays to sit out, e.g. ["2026-12-26"].'
    )
    nudge_time_utc = models.TimeField(
        "fill post time (UTC)", null=True, blank=True, help_text="Daily fill post in the registration channel (empty: none)."
    )
    quiet_start_utc = models.TimeField("quiet from (UTC)", null=True, blank=True, help_text="No nudge from this UTC time…")
    quiet_end_utc = models.TimeField("quiet until (UTC)", null=True, blank=True, help_text="…until this one (may wrap midnight).")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["alliance__name"]
        verbose_name = "Ark calendar"
        constraints = [
            models.CheckConstraint(
                name="ark_calendar_close_days_range", condition=Q(close_days_before__lte=6),
                violation_error_message="Signups close 0 to 6 days before the Saturday.",
            ),
            models.CheckConstraint(
                name="ark_calendar_days_ahead_range", condition=Q(days_ahead__gte=1, days_ahead__lte=90),
                violation_error_message="Matches are created 1 to 90 days ahead.",
            ),
        ]

    def __str__(self) -> str:
        return f"Calendar of {self.alliance.name}"


class DraftConstraint(models.Model):
    """An officer's rule for a match's team draft."""

    class Kind(models.TextChoices):
        TOGETHER = "together", "Keep together"
        APART = "apart", "Keep apart"
        CAPTAIN = "captain", "Captain of a team"

    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="draft_constraints")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    governor = models.ForeignKey(Governor, on_delete=models.CASCADE, related_name="+")
    other = models.ForeignKey(
        Governor, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text="The second governor (keep together / keep apart).",
    )
    team = models.PositiveSmallIntegerField(null=True, blank=True, help_text="The captain's team (1 or 2).")

    class Meta:
        ordering = ["match", "kind", "id"]
        constraints = [
            models.CheckConstraint(
                name="ark_draft_constraint_shape",
                condition=(Q(kind="captain", team__in=TEAMS, other__isnull=True))
                | (Q(kind__in=["together", "apart"], team__isnull=True, other__isnull=False)
                   & ~Q(other=F("governor"))),
                violation_error_message="A captain names one governor and a team; together/apart name two governors.",
            ),
            models.UniqueConstraint(
                fields=["match", "team"], condition=Q(kind="captain"), name="ark_one_captain_per_team",
                violation_error_message="That team already has a captain.",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == self.Kind.CAPTAIN:
            return f"{self.governor} captains team {self.team}"
        return f"{self.get_kind_display()}: {self.governor} / {self.other}"


class GovernorRecord(models.Model):
    """Attendance totals folded in from signups the retention job deleted, so a governor's record
    (signed up, checked in, played, no-show) outlives the rows it was counted from."""

    governor = models.OneToOneField(Governor, on_delete=models.CASCADE, related_name="archived_record")
    signed_up = models.PositiveIntegerField(default=0)
    checked_in = models.PositiveIntegerField(default=0)
    played = models.PositiveIntegerField(default=0)
    no_show = models.PositiveIntegerField(default=0)
    excused = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "archived attendance totals"
        verbose_name_plural = "archived attendance totals"

    def __str__(self) -> str:
        return f"Archived totals of {self.governor}"
