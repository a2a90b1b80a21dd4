"""Ark of Osiris tables. The invariants the database can hold live here, in Meta.

Only ``ark.services`` writes these rows (the admin and Discord call the services).
"""

from __future__ import annotations

import datetime

from django.db import models
from django.db.models import F, Q
from django.utils.text import format_lazy
from django.utils.translation import gettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

MAX_PLAYERS = 30  # an Ark of Osiris team fields at most 30 governors
MAX_SUBS = 30  # with the players, what one registration embed can list within Discord's limits
MAX_CITY_HALL = 25  # Rise of Kingdoms city hall levels 1-25
TEAMS = (1, 2)  # a draft splits the players into team 1 and team 2


class Alliance(models.Model):
    """An in-game alliance that fields one Ark team per weekend."""

    name = models.CharField(pgettext_lazy("ark", "name"), max_length=64, unique=True)
    registration_channel_id = models.BigIntegerField(
        _("registration channel id"),
        null=True, blank=True, help_text=_("Discord channel of the registration message (Join/Leave buttons).")
    )
    confirmation_channel_id = models.BigIntegerField(
        _("confirmation channel id"),
        null=True, blank=True, help_text=_("Discord channel of the confirmation message posted at signup close.")
    )
    officer_channel_id = models.BigIntegerField(
        _("officer channel id"),
        null=True,
        blank=True,
        help_text=_("Where officers are reminded to record results; the confirmation channel when empty."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    player_cap = models.PositiveSmallIntegerField(
        _("player cap"),
        default=30, help_text=format_lazy(_("Player slots per match (1 to {max})."), max=MAX_PLAYERS)
    )
    sub_cap = models.PositiveSmallIntegerField(_("sub cap"), default=15, help_text=format_lazy(_("Sub slots per match (0 to {max})."), max=MAX_SUBS))
    min_city_hall = models.PositiveSmallIntegerField(
        _("minimum city hall"),
        null=True,
        blank=True,
        help_text=_("Lowest city hall level allowed to sign up (empty: any). An officer may override, audited."),
    )
    no_show_threshold = models.PositiveSmallIntegerField(
        _("no-show threshold"),
        default=2, help_text=_("Suggest a ban once a governor has this many no-shows…")
    )
    no_show_window = models.PositiveSmallIntegerField(
        _("no-show window"),
        default=5, help_text=_("…within their last this-many matches with a recorded attendance.")
    )

    class Meta:
        verbose_name = pgettext_lazy("ark", "alliance")
        verbose_name_plural = _("alliances")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                name="ark_alliance_min_city_hall_range",
                condition=Q(min_city_hall__isnull=True) | Q(min_city_hall__gte=1, min_city_hall__lte=MAX_CITY_HALL),
                violation_error_message=format_lazy(_("A minimum city hall is 1 to {max} (empty: any)."), max=MAX_CITY_HALL),
            ),
            models.CheckConstraint(
                name="ark_alliance_no_show_rule_valid",
                condition=Q(no_show_threshold__gte=1, no_show_window__gte=F("no_show_threshold")),
                violation_error_message=_("The no-show rule is N no-shows within the last M matches, with 1 ≤ N ≤ M."),
            ),
            models.CheckConstraint(
                name="ark_alliance_player_cap_range", condition=Q(player_cap__gte=1, player_cap__lte=MAX_PLAYERS),
                violation_error_message=format_lazy(_("Player slots per match must be between 1 and {max}."),
                                                   max=MAX_PLAYERS),
            ),
            models.CheckConstraint(name="ark_alliance_sub_cap_range", condition=Q(sub_cap__lte=MAX_SUBS),
                                   violation_error_message=format_lazy(_("Sub slots per match must be between 0 and {max}."),
                                                                       max=MAX_SUBS)),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def missing_channels(self) -> list[str]:
        missing = []
        if not self.registration_channel_id:
            missing.append(gettext("registration channel"))
        if not self.confirmation_channel_id:
            missing.append(gettext("confirmation channel"))
        return missing


class Governor(models.Model):
    """An in-game account (governor) in a Discord user's registry. One user may own several."""

    governor_id = models.BigIntegerField(_("governor id"), unique=True, help_text=_("The in-game governor id."))
    name = models.CharField(pgettext_lazy("ark", "name"), max_length=64)
    discord_user_id = models.BigIntegerField(
        _("Discord user id"),
        db_index=True, help_text=_("The Discord user who owns this account.")
    )
    power = models.BigIntegerField(_("power"), null=True, blank=True, help_text=_("In-game power (from the stats import)."))
    kill_points = models.BigIntegerField(_("kill points"), null=True, blank=True, help_text=_("In-game kill points."))
    city_hall = models.PositiveSmallIntegerField(_("city hall"), null=True, blank=True, help_text=_("City hall level (1-25)."))
    troop_tier = models.PositiveSmallIntegerField(_("troop tier"), null=True, blank=True, help_text=_("Highest troop tier (1-5)."))
    stats_updated_at = models.DateTimeField(_("stats updated"), null=True, blank=True, help_text=_("When the stats were last imported."))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = pgettext_lazy("ark", "governor")
        verbose_name_plural = _("governors")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                name="ark_governor_stats_valid",
                condition=(Q(power__isnull=True) | Q(power__gte=0))
                & (Q(kill_points__isnull=True) | Q(kill_points__gte=0))
                & (Q(city_hall__isnull=True) | Q(city_hall__gte=1, city_hall__lte=MAX_CITY_HALL))
                & (Q(troop_tier__isnull=True) | Q(troop_tier__gte=1, troop_tier__lte=5)),
                violation_error_message=format_lazy(_("Stats are positive; city hall 1 to {max}; troop tier 1 to 5."),
                                                max=MAX_CITY_HALL),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.governor_id})"


class Match(models.Model):
    class Day(models.TextChoices):
        SATURDAY = "Sat", _("Saturday")
        SUNDAY = "Sun", _("Sunday")

    class Status(models.TextChoices):
        SCHEDULED = "Scheduled", _("Scheduled")
        LOCKED = "Locked", _("Locked")
        CANCELLED = "Cancelled", _("Cancelled")
        COMPLETED = "Completed", _("Completed")

    class Result(models.TextChoices):
        NONE = "", "—"
        WIN = "Win", _("Win")
        LOSS = "Loss", _("Loss")
        NO_SHOW = "No-show", _("No-show")

    OPEN_STATUSES = (Status.SCHEDULED, Status.LOCKED)

    alliance = models.ForeignKey(Alliance, verbose_name=pgettext_lazy("ark", "alliance"), on_delete=models.PROTECT, related_name="matches")
    ark_weekend_date = models.DateField(_("Ark weekend"), help_text=_("The Saturday of the Ark weekend."))
    match_day = models.CharField(_("match day"), max_length=3, choices=Day.choices)
    match_time_utc = models.DateTimeField(_("match time (UTC)"), help_text=_("Start of the match (UTC)."))
    signup_close_utc = models.DateTimeField(_("signups close (UTC)"), help_text=_("Signups close and the match locks at this time (UTC)."))
    status = models.CharField(pgettext_lazy("ark", "status"), max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    notes = models.TextField(
        pgettext_lazy("ark", "notes"),
        blank=True, max_length=1000, help_text=_("Shown on the registration message (Discord embed text).")
    )
    result = models.CharField(pgettext_lazy("ark match", "result"), max_length=8, choices=Result.choices, blank=True, default="")
    result_notes = models.TextField(
        _("result notes"),
        blank=True, max_length=500, help_text=_("Shown with the result on the confirmation message.")
    )
    roster_version = models.PositiveIntegerField(
        _("roster version"),
        default=0, help_text=_("Bumped by every roster change; the Discord messages show the latest.")
    )
    created_by_discord_id = models.BigIntegerField(_("created by (Discord id)"), null=True, blank=True)
    locked_at = models.DateTimeField(_("locked"), null=True, blank=True)
    result_reminded_at = models.DateTimeField(
        _("result reminded"),
        null=True, blank=True, help_text=_("When officers were reminded to record the result.")
    )
    scheduled_by_calendar = models.BooleanField(
        _("scheduled by calendar"),
        default=False, help_text=_("Created by the alliance's Ark calendar (not typed by an officer).")
    )
    drafted_at = models.DateTimeField(_("drafted"), null=True, blank=True, help_text=_("When the teams were last drafted."))
    draft_published_at = models.DateTimeField(
        _("draft published"),
        null=True, blank=True, help_text=_("When the draft was posted; later changes edit that post.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-ark_weekend_date", "alliance__name"]
        verbose_name = pgettext_lazy("ark", "match")
        verbose_name_plural = _("matches")
        indexes = [models.Index(fields=["status", "signup_close_utc"], name="ark_match_status_close_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["alliance", "ark_weekend_date"],
                condition=~Q(status="Cancelled"),
                name="ark_one_match_per_alliance_weekend",
                violation_error_message=_("This alliance already has a match that weekend."),
            ),
            models.CheckConstraint(
                name="ark_match_status_valid",
                condition=Q(status__in=["Scheduled", "Locked", "Cancelled", "Completed"]),
                violation_error_message=_("A match is Scheduled, Locked, Cancelled or Completed."),
            ),
            models.CheckConstraint(name="ark_match_day_valid", condition=Q(match_day__in=["Sat", "Sun"]),
                                   violation_error_message=_("A match is played on Saturday or Sunday.")),
            models.CheckConstraint(
                name="ark_match_result_valid", condition=Q(result__in=["", "Win", "Loss", "No-show"]),
                violation_error_message=_("A result is Win, Loss or No-show."),
            ),
            models.CheckConstraint(
                name="ark_match_close_before_start", condition=Q(signup_close_utc__lte=F("match_time_utc")),
                violation_error_message=_("Signups must close before the match starts (or at the start at the latest)."),
            ),
            models.CheckConstraint(
                name="ark_match_completed_has_result", condition=~Q(status="Completed") | ~Q(result=""),
                violation_error_message=_("A completed match needs a result (Win, Loss or No-show)."),
            ),
        ]

    def __str__(self) -> str:
        """What officers and members pick a match by: "Ark 2026-12-12 Saturday 14:00 UTC, Osiris Guard"
        (the Discord autocomplete adds the number the slash commands take)."""
        when = f"{self.get_match_day_display()} {self.match_time_utc:%H:%M} UTC" if self.match_time_utc else ""
        return (gettext("Ark %(weekend)s %(when)s, %(alliance)s")
                % {"weekend": f"{self.ark_weekend_date:%Y-%m-%d}", "when": when, "alliance": self.alliance.name}
                ).replace("  ", " ")


class Signup(models.Model):
    class Slot(models.TextChoices):
        PLAYER = "Player", _("Player")
        SUB = "Sub", _("Sub")

    class Status(models.TextChoices):
        ACTIVE = "Active", _("Active")
        WITHDRAWN = "Withdrawn", _("Withdrawn")
        REMOVED = "Removed", _("Removed")

    class Source(models.TextChoices):
        SELF = "self", _("Self")
        ADMIN = "admin", _("Officer")

    class Attendance(models.TextChoices):
        UNKNOWN = "", "—"
        PLAYED = "played", _("Played")
        NO_SHOW = "no_show", _("No-show")
        EXCUSED = "excused", _("Excused")

    match = models.ForeignKey(Match, verbose_name=pgettext_lazy("ark", "match"), on_delete=models.CASCADE, related_name="signups")
    governor = models.ForeignKey(Governor, verbose_name=pgettext_lazy("ark", "governor"), on_delete=models.PROTECT, related_name="signups")
    discord_user_id = models.BigIntegerField(_("Discord user id"), db_index=True)
    ark_weekend_date = models.DateField(
        _("Ark weekend"),
        help_text=_("Copy of the match's weekend: the database refuses a governor active twice in one weekend.")
    )
    slot = models.CharField(pgettext_lazy("ark", "slot"), max_length=6, choices=Slot.choices)
    status = models.CharField(pgettext_lazy("ark", "status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    source = models.CharField(pgettext_lazy("ark signup", "source"), max_length=5, choices=Source.choices, default=Source.SELF)
    checked_in_at = models.DateTimeField(_("checked in"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True, help_text=_("When it was withdrawn or removed."))
    team = models.PositiveSmallIntegerField(
        pgettext_lazy("ark", "team"),
        null=True, blank=True, help_text=_("Team 1 or 2 in the draft (empty: not drafted).")
    )
    attendance = models.CharField(
        pgettext_lazy("ark", "attendance"),
        max_length=8, choices=Attendance.choices, blank=True, default="", help_text=_("Recorded after the match.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, help_text=_("Position in the queue (earliest first)."))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = pgettext_lazy("ark", "signup")
        verbose_name_plural = _("signups")
        ordering = ["match", "slot", "created_at", "id"]  # "Player" sorts before "Sub"
        indexes = [
            models.Index(fields=["match", "status", "slot", "created_at"], name="ark_signup_roster_idx")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["governor", "ark_weekend_date"],
                condition=Q(status="Active"),
                name="ark_one_active_signup_per_governor_weekend",
                violation_error_message=_("This governor is already signed up for that Ark weekend."),
            ),
            models.CheckConstraint(name="ark_signup_slot_valid", condition=Q(slot__in=["Player", "Sub"]),
                                   violation_error_message=_("A signup is for a Player or a Sub slot.")),
            models.CheckConstraint(
                name="ark_signup_status_valid", condition=Q(status__in=["Active", "Withdrawn", "Removed"]),
                violation_error_message=_("A signup is Active, Withdrawn or Removed."),
            ),
            models.CheckConstraint(name="ark_signup_source_valid", condition=Q(source__in=["self", "admin"]),
                                   violation_error_message=_("A signup comes from the member or from an officer.")),
            models.CheckConstraint(
                name="ark_signup_team_valid", condition=Q(team__isnull=True) | Q(team__in=TEAMS),
                violation_error_message=_("A drafted player is in team 1 or team 2."),
            ),
            models.CheckConstraint(
                name="ark_signup_attendance_valid",
                condition=Q(attendance__in=["", "played", "no_show", "excused"]),
                violation_error_message=_("Attendance is played, no-show or excused."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.governor.name} · {self.get_slot_display()} · {self.get_status_display()}"


class Ban(models.Model):
    """Keeps a Discord user and/or a governor out of Ark signups for a range of weekends."""

    discord_user_id = models.BigIntegerField(_("Discord user id"), null=True, blank=True, db_index=True)
    governor_id = models.BigIntegerField(
        _("governor id"),
        null=True, blank=True, db_index=True, help_text=_("In-game governor id.")
    )
    reason = models.TextField(
        pgettext_lazy("ark", "reason"),
        max_length=500, help_text=_("Told to the officers and the member; Discord keeps at most 512 characters.")
    )
    starts_weekend = models.DateField(_("first weekend"), help_text=_("First Ark weekend (Saturday) covered."))
    ends_on = models.DateField(_("last day"), help_text=_("Last day covered: weekends starting on or before it are banned."))
    created_by_discord_id = models.BigIntegerField(_("created by (Discord id)"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by_discord_id = models.BigIntegerField(_("revoked by (Discord id)"), null=True, blank=True)

    class Meta:
        verbose_name = _("ban")
        verbose_name_plural = _("bans")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                name="ark_ban_has_target",
                condition=Q(discord_user_id__isnull=False) | Q(governor_id__isnull=False),
                violation_error_message=_("A ban needs a Discord member or an in-game governor id (or both)."),
            ),
            models.CheckConstraint(name="ark_ban_range_valid", condition=Q(ends_on__gte=F("starts_weekend")),
                                   violation_error_message=_("A ban's last day cannot be before its first weekend.")),
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
        text = gettext("Ban %(who)s %(first)s→%(last)s") % {"who": who, "first": self.starts_weekend, "last": self.ends_on}
        return text + (gettext(" (revoked)") if self.revoked_at else "")

    def governor_label(self) -> str:
        """ "governor Seti (51234010)": the registered name with the in-game id, else the id alone."""
        if hasattr(self, "governor_name"):  # the admin's annotation: no query per row of a list
            name = self.governor_name
        else:
            name = Governor.objects.filter(governor_id=self.governor_id).values_list("name", flat=True).first()
        if name:
            return gettext("governor %(name)s (%(id)s)") % {"name": name, "id": self.governor_id}
        return gettext("governor %(id)s") % {"id": self.governor_id}


class ReminderPrefs(models.Model):
    """A Discord user's choice of Ark reminder DMs (no row: every reminder type)."""

    discord_user_id = models.BigIntegerField(_("Discord user id"), unique=True)
    dm_enabled = models.BooleanField(_("reminder DMs"), default=True, help_text=_("Off: no reminder DMs at all."))
    disabled_types = models.JSONField(
        _("disabled reminder types"),
        default=list, blank=True, help_text=_("Reminder types this user opted out of.")
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("reminder preferences")
        verbose_name_plural = _("reminder preferences")

    def __str__(self) -> str:
        from guildsync.services.directory import row_label

        state = pgettext("reminders", "on") if self.dm_enabled else pgettext("reminders", "off")
        return gettext("Reminders of %(member)s: %(state)s") % {"member": row_label(self, "discord_user_id", "member"),
                                                                "state": state}

    def wants(self, reminder_type: str) -> bool:
        return self.dm_enabled and reminder_type not in (self.disabled_types or [])


class AuditLog(models.Model):
    """One row per state change, written in the same transaction as the change."""

    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    action = models.CharField(_("action"), max_length=48, db_index=True)
    actor_discord_id = models.BigIntegerField(
        _("actor (Discord id)"),
        null=True, blank=True, db_index=True, help_text=_("Empty for the scheduler.")
    )
    match = models.ForeignKey(
        Match, verbose_name=pgettext_lazy("ark", "match"), null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_rows"
    )
    signup = models.ForeignKey(
        Signup, verbose_name=pgettext_lazy("ark", "signup"), null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_rows"
    )
    is_override = models.BooleanField(
        _("override"),
        default=False, help_text=_("An officer overrode a rule (ban, slot order).")
    )
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action}"


class MessageRef(models.Model):
    """Where a match's Discord message lives. ``message_id`` is learnt when the outbox delivers it."""

    class Kind(models.TextChoices):
        REGISTRATION = "registration", _("Registration")
        CONFIRMATION = "confirmation", _("Confirmation")
        DRAFT = "draft", _("Team draft")

    match = models.ForeignKey(Match, verbose_name=pgettext_lazy("ark", "match"), on_delete=models.CASCADE, related_name="message_refs")
    kind = models.CharField(pgettext_lazy("ark", "kind"), max_length=12, choices=Kind.choices)
    channel_id = models.BigIntegerField(_("channel id"))
    message_id = models.BigIntegerField(
        _("message id"),
        null=True, blank=True, help_text=_("Empty until Discord accepted the post.")
    )
    post_outbox = models.ForeignKey(
        "bot.OutboxMessage",
        verbose_name=_("queued post"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The queued post of this message."),
    )
    pending_edit = models.ForeignKey(
        "bot.OutboxMessage",
        verbose_name=_("pending edit"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The last queued edit (updated in place while pending)."),
    )
    rendered_version = models.PositiveIntegerField(
        _("rendered version"),
        default=0, help_text=_("Roster version of the queued content.")
    )
    posts = models.PositiveIntegerField(_("posts"), default=0, help_text=_("How many times it was (re)posted."))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("match message")
        verbose_name_plural = _("match messages")
        constraints = [
            models.UniqueConstraint(fields=["match", "kind"], name="ark_one_message_ref_per_kind",
                                    violation_error_message=_("This match already has this Discord message.")),
            models.CheckConstraint(
                name="ark_message_ref_kind_valid", condition=Q(kind__in=["registration", "confirmation", "draft"]),
                violation_error_message=_("A match message is the registration, the confirmation or the team draft."),
            ),
        ]

    def __str__(self) -> str:
        from guildsync.services.directory import row_label

        text = gettext("%(kind)s of match #%(match)s in %(channel)s") % {
            "kind": self.get_kind_display(), "match": self.match_id, "channel": row_label(self, "channel_id", "channel")}
        return text + ("" if self.message_id else gettext(" (pending)"))


class SentReminder(models.Model):
    """A reminder sent (or skipped) for one match, target and planned time: never twice.

    Keyed by ``scheduled_for`` so a rescheduled match plans fresh reminders while the ones
    already sent for the old time stay recorded."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SKIPPED_LATE = "skipped_late", _("Skipped (late)")
        DROPPED = "dropped", _("Dropped (match cancelled or moved)")

    match = models.ForeignKey(Match, verbose_name=pgettext_lazy("ark", "match"), on_delete=models.CASCADE, related_name="reminders")
    reminder_type = models.CharField(_("reminder type"), max_length=32)
    target_id = models.BigIntegerField(_("target id"), help_text=_("Discord user (DM) or channel (channel reminders)."))
    is_channel = models.BooleanField(_("channel reminder"), default=False)
    scheduled_for = models.DateTimeField(_("scheduled for"))
    status = models.CharField(pgettext_lazy("ark", "status"), max_length=12, choices=Status.choices)
    outbox = models.ForeignKey(
        "bot.OutboxMessage", verbose_name=_("outbox message"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("sent reminder")
        verbose_name_plural = _("sent reminders")
        ordering = ["-scheduled_for"]
        constraints = [
            models.UniqueConstraint(
                fields=["match", "target_id", "reminder_type", "scheduled_for"],
                name="ark_one_reminder_per_target_type_time",
                violation_error_message=_("This reminder was already sent to this member for this time."),
            ),
            models.CheckConstraint(
                name="ark_reminder_status_valid",
                condition=Q(status__in=["queued", "skipped_late", "dropped"]),
                violation_error_message=_("A reminder is queued, skipped (late) or dropped."),
            ),
        ]

    def __str__(self) -> str:
        from guildsync.services.directory import row_label

        return gettext("%(type)s → %(target)s for #%(match)s (%(status)s)") % {
            "type": self.reminder_type, "target": row_label(self, "target_id", "any"), "match": self.match_id,
            "status": self.get_status_display()}


class ArkSettings(models.Model):
    """The installation's Ark cadence (one row): the game runs Ark for the whole kingdom every
    ``cadence_weekends`` weekends counted from ``anchor_weekend``. Bans of "N Ark weekends" and
    the calendars count these weekends."""

    cadence_weekends = models.PositiveSmallIntegerField(
        _("cadence weekends"),
        default=2, help_text=_("Ark runs every this-many weekends (the game: every second weekend).")
    )
    anchor_weekend = models.DateField(
        _("anchor weekend"),
        default=datetime.date(2026, 3, 7), help_text=_("The Saturday of any one Ark weekend.")
    )
    discord_events = models.BooleanField(
        default=False, verbose_name=_("Mirror matches as Discord events"),
        help_text=_("Show each upcoming Ark match as one of the server's (DISCORD_GUILD_ID) Discord scheduled "
                    "events, kept in step when it moves or is cancelled. The bot needs the Manage Events permission."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("Ark cadence")
        verbose_name_plural = _("Ark cadence")
        constraints = [
            models.CheckConstraint(
                name="ark_settings_single_row", condition=Q(pk=1),
                violation_error_message=_("The installation has one Ark cadence: change the existing one."),
            ),
            models.CheckConstraint(
                name="ark_settings_cadence_range", condition=Q(cadence_weekends__gte=1, cadence_weekends__lte=8),
                violation_error_message=_("Ark runs every 1 to 8 weekends."),
            ),
        ]

    def __str__(self) -> str:
        return gettext("Ark every %(count)s weekend(s) from %(anchor)s") % {"count": self.cadence_weekends,
                                                                           "anchor": self.anchor_weekend}


class ArkCalendar(models.Model):
    """An alliance's season plan: which slots its matches may take, when signups close, how far
    ahead matches are created, and the weekends it sits out. The first slot is the one the
    scheduler uses; officers may pick any listed slot with /ark create_match."""

    alliance = models.OneToOneField(Alliance, verbose_name=pgettext_lazy("ark", "alliance"), on_delete=models.CASCADE, related_name="calendar")
    is_enabled = models.BooleanField(_("enabled"), default=True, help_text=_("Off: the scheduler creates no match for this alliance."))
    slots = models.JSONField(
        _("slots"),
        default=list,
        help_text=_('Allowed match slots, day and UTC time, e.g. ["Sat 12:00", "Sat 20:00", "Sun 04:00"]; '
                    "the first is the scheduler's."),
    )
    close_days_before = models.PositiveSmallIntegerField(
        _("close days before"),
        default=1, help_text=_("Signups close this many days before the Saturday (1: the Friday before)…")
    )
    close_time_utc = models.TimeField(_("close time (UTC)"), default=datetime.time(23, 0), help_text=_("…at this UTC time."))
    days_ahead = models.PositiveSmallIntegerField(
        _("days ahead"),
        default=14, help_text=_("Matches are created once their start is at most this many days away.")
    )
    skipped_weekends = models.JSONField(
        _("skipped weekends"),
        default=list, blank=True, help_text=_('Saturdays to sit out, e.g. ["2026-12-26"].')
    )
    nudge_time_utc = models.TimeField(
        _("fill post time (UTC)"), null=True, blank=True, help_text=_("Daily fill post in the registration channel (empty: none).")
    )
    quiet_start_utc = models.TimeField(_("quiet from (UTC)"), null=True, blank=True, help_text=_("No nudge from this UTC time…"))
    quiet_end_utc = models.TimeField(_("quiet until (UTC)"), null=True, blank=True, help_text=_("…until this one (may wrap midnight)."))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["alliance__name"]
        verbose_name = _("Ark calendar")
        verbose_name_plural = _("Ark calendars")
        constraints = [
            models.CheckConstraint(
                name="ark_calendar_close_days_range", condition=Q(close_days_before__lte=6),
                violation_error_message=_("Signups close 0 to 6 days before the Saturday."),
            ),
            models.CheckConstraint(
                name="ark_calendar_days_ahead_range", condition=Q(days_ahead__gte=1, days_ahead__lte=90),
                violation_error_message=_("Matches are created 1 to 90 days ahead."),
            ),
        ]

    def __str__(self) -> str:
        return gettext("Calendar of %(alliance)s") % {"alliance": self.alliance.name}


class DraftConstraint(models.Model):
    """An officer's rule for a match's team draft."""

    class Kind(models.TextChoices):
        TOGETHER = "together", _("Keep together")
        APART = "apart", _("Keep apart")
        CAPTAIN = "captain", _("Captain of a team")

    match = models.ForeignKey(Match, verbose_name=pgettext_lazy("ark", "match"), on_delete=models.CASCADE, related_name="draft_constraints")
    kind = models.CharField(pgettext_lazy("ark", "kind"), max_length=8, choices=Kind.choices)
    governor = models.ForeignKey(Governor, verbose_name=pgettext_lazy("ark", "governor"), on_delete=models.CASCADE, related_name="+")
    other = models.ForeignKey(
        Governor, verbose_name=pgettext_lazy("ark draft", "other"), null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text=_("The second governor (keep together / keep apart)."),
    )
    team = models.PositiveSmallIntegerField(pgettext_lazy("ark", "team"), null=True, blank=True, help_text=_("The captain's team (1 or 2)."))

    class Meta:
        verbose_name = _("draft rule")
        verbose_name_plural = _("draft rules")
        ordering = ["match", "kind", "id"]
        constraints = [
            models.CheckConstraint(
                name="ark_draft_constraint_shape",
                condition=(Q(kind="captain", team__in=TEAMS, other__isnull=True))
                | (Q(kind__in=["together", "apart"], team__isnull=True, other__isnull=False)
                   & ~Q(other=F("governor"))),
                violation_error_message=_("A captain names one governor and a team; together/apart name two governors."),
            ),
            models.UniqueConstraint(
                fields=["match", "team"], condition=Q(kind="captain"), name="ark_one_captain_per_team",
                violation_error_message=_("That team already has a captain."),
            ),
        ]

    def __str__(self) -> str:
        if self.kind == self.Kind.CAPTAIN:
            return gettext("%(governor)s captains team %(team)s") % {"governor": self.governor, "team": self.team}
        return f"{self.get_kind_display()}: {self.governor} / {self.other}"


class GovernorRecord(models.Model):
    """Attendance totals folded in from signups the retention job deleted, so a governor's record
    (signed up, checked in, played, no-show) outlives the rows it was counted from."""

    governor = models.OneToOneField(Governor, verbose_name=pgettext_lazy("ark", "governor"), on_delete=models.CASCADE, related_name="archived_record")
    signed_up = models.PositiveIntegerField(_("signed up"), default=0)
    checked_in = models.PositiveIntegerField(_("checked in"), default=0)
    played = models.PositiveIntegerField(_("played"), default=0)
    no_show = models.PositiveIntegerField(_("no-shows"), default=0)
    excused = models.PositiveIntegerField(_("excused"), default=0)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("archived attendance totals")
        verbose_name_plural = _("archived attendance totals")

    def __str__(self) -> str:
        return gettext("Archived totals of %(governor)s") % {"governor": self.governor}
