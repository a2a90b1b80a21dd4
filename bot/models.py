from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class OutboxMessage(models.Model):
    """One outbound Discord operation, queued by a service in the transaction of the state
    it announces and delivered afterwards by ``bot.tasks.deliver_outbox_task``."""

    class Kind(models.TextChoices):
        CHANNEL_MESSAGE = "channel_message", _("Post a channel message")
        DM = "dm", _("Send a direct message")
        EDIT_MESSAGE = "edit_message", _("Edit a message")
        DELETE_MESSAGE = "delete_message", _("Delete a message")
        ADD_ROLE = "add_role", _("Add a member role")
        REMOVE_ROLE = "remove_role", _("Remove a member role")
        TIMEOUT_MEMBER = "timeout_member", _("Time a member out")
        KICK_MEMBER = "kick_member", _("Kick a member")
        BAN_MEMBER = "ban_member", _("Ban a member")
        EVENT_CREATE = "event_create", _("Create a scheduled event")
        EVENT_EDIT = "event_edit", _("Edit a scheduled event")
        EVENT_CANCEL = "event_cancel", _("Cancel a scheduled event")
        EVENT_DELETE = "event_delete", _("Delete a scheduled event")

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("outbox status", "Pending")
        SENDING = "sending", pgettext_lazy("outbox status", "Sending")
        SENT = "sent", pgettext_lazy("outbox status", "Sent")
        FAILED = "failed", pgettext_lazy("outbox status", "Failed")
        CANCELLED = "cancelled", _("Withdrawn before delivery")

    kind = models.CharField(verbose_name=pgettext_lazy("outbox field", "kind"), max_length=20, choices=Kind.choices)
    guild_id = models.BigIntegerField(verbose_name=_("server id"), null=True, blank=True, help_text=_("Discord server (roles, moderation)."))
    channel_id = models.BigIntegerField(verbose_name=_("channel id"), null=True, blank=True, help_text=_("Target channel (posts, edits, deletes)."))
    user_id = models.BigIntegerField(verbose_name=_("member id"), null=True, blank=True, help_text=_("Target member (DMs, roles, moderation)."))
    message_id = models.BigIntegerField(verbose_name=_("message id"), null=True, blank=True, help_text=_("Message to edit or delete."))
    role_id = models.BigIntegerField(verbose_name=_("role id"), null=True, blank=True)
    payload = models.JSONField(verbose_name=_("payload"),
        default=dict,
        blank=True,
        help_text=_("The JSON body as Discord expects it (content/embeds/components; reason; until)."),
    )
    dedupe_key = models.CharField(verbose_name=_("dedupe key"),
        max_length=200,
        null=True,
        blank=True,
        unique=True,
        help_text=_("Queuing the same key twice returns the first row: the guard against double sends."),
    )
    topic = models.CharField(verbose_name=pgettext_lazy("outbox field", "topic"),
        max_length=64, blank=True, db_index=True, help_text=_("Who queued it and why, e.g. 'ratmas.santa_dm'."))
    secret = models.BooleanField(verbose_name=pgettext_lazy("outbox field", "secret"),
        default=False,
        help_text=_("The payload (and dedupe key) reveal a secret, e.g. a Santa's recipient: the outbox admin "
                  "redacts them unless the viewer holds ratmas.view_pairings_secret. Delivery sends it whole."),
    )
    status = models.CharField(verbose_name=pgettext_lazy("outbox field", "status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(verbose_name=_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(verbose_name=_("next attempt"),
        help_text=_("When a pending row is due; while sending, when the claim lapses: a short lease its worker "
        "renews while it lives (see bot/README.md, 'Delivery')."))
    claimed_at = models.DateTimeField(verbose_name=_("claimed at"),
        null=True, blank=True, help_text=_("When the current (or last) attempt was claimed by a worker."))
    claimed_by = models.CharField(verbose_name=_("claimed by"),
        max_length=120, blank=True, default="",
        help_text=_("The delivery run holding the row (host:pid:run): it renews the row's lease while it lives."),
    )
    uncertain_since = models.DateTimeField(verbose_name=_("uncertain since"),
        null=True,
        blank=True,
        help_text=_("Start of the earliest attempt whose outcome is unknown (timeout, 5xx, worker died): the message "
        "may already be in Discord, so a late retry looks for it before posting again."),
    )
    scheduled_event = models.ForeignKey(
        "bot.ScheduledEvent", verbose_name=_("scheduled event"), null=True, blank=True, on_delete=models.PROTECT, related_name="outbox_rows",
        help_text=_("The mirrored scheduled event a create/edit/cancel/delete is for: its rows go out in queue order."),
    )
    last_error_code = models.IntegerField(verbose_name=_("error code"), null=True, blank=True, help_text=_("Discord's JSON error code."))
    last_error = models.TextField(verbose_name=_("last error"), blank=True)
    language = models.CharField(verbose_name=pgettext_lazy("outbox field", "language"),
        max_length=10, blank=True, default="",
        help_text=_("The language the message was written in (active when it was queued): a post edited later "
                  "keeps it unless officers change the server language (core.i18n.post_language)."))
    sent_message_id = models.BigIntegerField(verbose_name=_("Discord message id"),
        null=True, blank=True, help_text=_("Id of the message (or scheduled event) Discord created."))
    sent_channel_id = models.BigIntegerField(verbose_name=_("sent to channel id"), null=True, blank=True, help_text=_("Channel it landed in (DM channel)."))
    sent_at = models.DateTimeField(verbose_name=_("sent at"), null=True, blank=True)
    failed_at = models.DateTimeField(verbose_name=_("failed at"), null=True, blank=True)
    created_at = models.DateTimeField(verbose_name=_("queued at"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx"),
            # "is an earlier row for this message still unsettled?" and "is this channel held?"
            models.Index(fields=["channel_id", "message_id"], name="outbox_target_idx",
                         condition=Q(status__in=["pending", "sending"])),
            # a delivery run renews the leases of the rows it holds
            models.Index(fields=["claimed_by"], name="outbox_claimed_by_idx", condition=Q(status="sending")),
            # /metrics (core.metrics) reads the waiting rows by kind with the oldest, and the rows given up
            # in the last hour, from these alone (index-only scans, however many rows were ever sent)
            models.Index(fields=["kind", "created_at"], name="outbox_pending_kind_idx", condition=Q(status="pending")),
            models.Index(fields=["failed_at"], name="outbox_failed_at_idx", condition=Q(status="failed")),
        ]
        constraints = [
            models.CheckConstraint(
                name="outbox_channel_target",
                condition=~Q(kind__in=["channel_message", "edit_message", "delete_message"]) | Q(channel_id__isnull=False),
                violation_error_message=_("Posting, editing or deleting a message needs a channel."),
            ),
            models.CheckConstraint(
                name="outbox_message_target",
                condition=~Q(kind__in=["edit_message", "delete_message"]) | Q(message_id__isnull=False),
                violation_error_message=_("Editing or deleting a message needs the message id."),
            ),
            models.CheckConstraint(
                name="outbox_member_target",
                condition=~Q(kind__in=["dm", "add_role", "remove_role", "timeout_member", "kick_member", "ban_member"])
                | Q(user_id__isnull=False),
                violation_error_message=_("A DM, role change or moderation action needs the member."),
            ),
            models.CheckConstraint(
                name="outbox_guild_target",
                condition=~Q(kind__in=["add_role", "remove_role", "timeout_member", "kick_member", "ban_member"])
                | Q(guild_id__isnull=False),
                violation_error_message=_("A role change or moderation action needs the server."),
            ),
            models.CheckConstraint(
                name="outbox_role_target",
                condition=~Q(kind__in=["add_role", "remove_role"]) | Q(role_id__isnull=False),
                violation_error_message=_("Adding or removing a role needs the role."),
            ),
            models.CheckConstraint(
                name="outbox_event_target",
                condition=~Q(kind__in=["event_create", "event_edit", "event_cancel", "event_delete"])
                | Q(scheduled_event__isnull=False, guild_id__isnull=False),
                violation_error_message=_("A scheduled-event operation needs the server and its mirrored event."),
            ),
            models.CheckConstraint(
                name="outbox_sent_has_time", condition=~Q(status="sent") | Q(sent_at__isnull=False),
                violation_error_message=_("A sent message records when it was sent."),
            ),
        ]

    def __str__(self) -> str:
        from guildsync.services.directory import row_label  # names, never snowflakes (the member directory)

        if self.scheduled_event_id:
            return f"{self.get_kind_display()} → {self.scheduled_event.name} ({self.get_status_display().lower()})"
        target = row_label(self, "channel_id", "channel") if self.channel_id else row_label(self, "user_id", "member")
        return f"{self.get_kind_display()} → {target} ({self.get_status_display().lower()})"

    @property
    def nonce(self) -> str:
        """Discord dedupes message creates by nonce (≤ 25 chars) for a few minutes, so a
        retry after a lost response cannot post twice."""
        return f"gops-{self.pk}"


class ScheduledEvent(models.Model):
    """A raid night or Ark match mirrored as one of the server's Discord scheduled events
    (``bot.outbox.mirror_event``). Its outbox rows (create, edits, cancel/delete) go out one
    after another; the create's answer records ``discord_event_id`` here, which the later
    rows target."""

    class State(models.TextChoices):
        SCHEDULED = "scheduled", pgettext_lazy("scheduled event state", "Scheduled")
        CANCELLED = "cancelled", pgettext_lazy("scheduled event state", "Cancelled")
        DELETED = "deleted", pgettext_lazy("scheduled event state", "Deleted")

    source = models.CharField(verbose_name=_("mirrors"),
        max_length=80, unique=True,
        help_text=_("What it mirrors: '<app>.<model>:<id>', e.g. 'raids.raidevent:12' or 'ark.match:7'."))
    guild_id = models.BigIntegerField(verbose_name=_("server id"), help_text=_("The Discord server the event is in."))
    discord_event_id = models.BigIntegerField(verbose_name=_("Discord event id"),
        null=True, blank=True, db_index=True,
        help_text=_("Discord's id of the scheduled event, once its create was answered (or found after a lost answer)."))
    name = models.CharField(verbose_name=pgettext_lazy("scheduled event field", "name"), max_length=100, help_text=_("The name last queued to Discord."))
    starts_at = models.DateTimeField(verbose_name=_("starts at"), help_text=_("The start last queued to Discord (UTC)."))
    state = models.CharField(verbose_name=pgettext_lazy("scheduled event field", "state"), max_length=10, choices=State.choices, default=State.SCHEDULED)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("mirrored scheduled event")
        verbose_name_plural = _("mirrored scheduled events")
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(name="scheduledevent_state_valid",
                                   condition=Q(state__in=["scheduled", "cancelled", "deleted"]),
                                   violation_error_message=_("A mirrored event is scheduled, cancelled or deleted.")),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.starts_at:%a %d %b %Y %H:%M} UTC, {self.get_state_display().lower()})"
