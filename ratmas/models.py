"""Ratmas (Secret Santa) tables and the invariants the database enforces.

Every write goes through ``ratmas.services``; these constraints are the last line of defence
that makes races and half-applied changes impossible even if a caller forgets a check.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Greatest, Least
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from core.privacy.sealed import PREFIX as SEALED
from core.privacy.sealed import SealedTextField


class Event(models.Model):
    """One Secret Santa round of a Discord guild."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open for signups")
        LOCKED = "locked", _("Signups locked")
        MATCHED = "matched", _("Pairings drawn")
        NOTIFIED = "notified", _("Santas notified")
        COMPLETED = "completed", pgettext_lazy("ratmas status", "Completed")
        CANCELLED = "cancelled", pgettext_lazy("ratmas status", "Cancelled")

    FINISHED = (Status.COMPLETED, Status.CANCELLED)

    guild_id = models.BigIntegerField(verbose_name=_("Discord server id"), help_text=_("Discord server the event belongs to."))
    name = models.CharField(
        verbose_name=pgettext_lazy("ratmas event", "name"), max_length=100, blank=True,
        help_text=_("What organisers and members call it, e.g. 'Ratmas 2026'; empty = 'Ratmas' and the reveal year."),
    )
    status = models.CharField(verbose_name=pgettext_lazy("ratmas event", "status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    signup_deadline = models.DateTimeField(verbose_name=_("signup deadline"), help_text=_("Signups close (UTC)."))
    purchase_deadline = models.DateTimeField(verbose_name=_("purchase deadline"), help_text=_("Gifts must be bought by then (UTC)."))
    reveal_date = models.DateTimeField(verbose_name=_("reveal date"), help_text=_("Gifts are opened and Santas may reveal themselves (UTC)."))
    announcement_channel_id = models.BigIntegerField(
        verbose_name=_("announcement channel id"), null=True, blank=True, help_text=_("Channel for announcements and reports to organisers.")
    )
    participant_role_id = models.BigIntegerField(
        verbose_name=_("participant role id"), null=True, blank=True, help_text=_("Discord role whose members are the participants (synced while open).")
    )
    managing_role_id = models.BigIntegerField(
        verbose_name=_("managing role id"), null=True, blank=True, help_text=_("Discord role whose members may run the organiser commands.")
    )
    timezone = models.CharField(
        verbose_name=_("time zone"), max_length=64, default="UTC", help_text=_("IANA time zone the organisers think in, e.g. Europe/Berlin.")
    )
    budget = models.CharField(verbose_name=pgettext_lazy("ratmas field", "budget"), max_length=200, blank=True, help_text=_("Free text, e.g. '20 EUR'."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("Ratmas event")
        verbose_name_plural = _("Ratmas events")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["guild_id", "status"], name="ratmas_event_guild_status")]
        constraints = [
            models.UniqueConstraint(
                fields=["guild_id"],
                condition=~Q(status__in=["completed", "cancelled"]),
                name="ratmas_one_unfinished_event_per_guild",
                violation_error_message=_("This server already has a Ratmas in progress."),
            ),
            models.CheckConstraint(
                name="ratmas_event_status_valid",
                condition=Q(status__in=["open", "locked", "matched", "notified", "completed", "cancelled"]),
                violation_error_message=_("Unknown Ratmas status."),
            ),
            models.CheckConstraint(
                name="ratmas_event_dates_ordered",
                condition=Q(signup_deadline__lte=F("purchase_deadline")) & Q(purchase_deadline__lte=F("reveal_date")),
                violation_error_message=_("Signup deadline ≤ purchase deadline ≤ reveal date."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_status_display()})"

    @property
    def title(self) -> str:
        return self.name or f"Ratmas {self.reveal_date:%Y}"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED


class Participant(models.Model):
    """A Discord member taking part in one event."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="participants", verbose_name=pgettext_lazy("ratmas", "event"))
    user_id = models.BigIntegerField(verbose_name=_("Discord user id"), help_text=_("Discord user id."))
    display_name = models.CharField(verbose_name=_("display name"), max_length=100, help_text=_("Name shown to their Santa."))
    wishlist_url = SealedTextField(
        verbose_name=pgettext_lazy("ratmas field", "wishlist"), max_length=500, blank=True, help_text=_("http(s) link only, 500 characters at most (ratmas.services.validate_wishlist). "
                              "Encrypted at rest when FIELD_ENCRYPTION_KEY is set (core/privacy/sealed.py)."))
    joined_at = models.DateTimeField(verbose_name=_("joined at"), auto_now_add=True)

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        ordering = ["display_name", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "user_id"], name="ratmas_participant_once_per_event",
                                    violation_error_message=_("This member already takes part in this event.")),
            models.CheckConstraint(
                name="ratmas_wishlist_http",
                condition=Q(wishlist_url="")
                | Q(wishlist_url__startswith="http://")
                | Q(wishlist_url__startswith="https://")
                | Q(wishlist_url__startswith=SEALED),
                violation_error_message=_("A wishlist link starts with http:// or https://."),
            ),
        ]

    def __str__(self) -> str:
        return self.display_name  # the id is on the page as its own field (pickers list names)


class Pairing(models.Model):
    """Santa gives to recipient. Secret: only users with ``view_pairings_secret`` see them."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="pairings", verbose_name=pgettext_lazy("ratmas", "event"))
    # RESTRICT: a participant cannot vanish from under a pairing, except when the whole
    # event is deleted (the event's CASCADE reaches the pairing too).
    santa = models.ForeignKey(Participant, on_delete=models.RESTRICT, related_name="gives", verbose_name=_("Santa"))
    recipient = models.ForeignKey(Participant, on_delete=models.RESTRICT, related_name="receives", verbose_name=_("recipient"))
    notified_at = models.DateTimeField(verbose_name=_("notified at"), null=True, blank=True, help_text=_("When Discord accepted the Santa's DM."))
    last_error = models.TextField(verbose_name=_("last error"), blank=True, help_text=_("Why the last DM to the Santa failed (e.g. DMs closed)."))
    notify_round = models.PositiveIntegerField(
        verbose_name=_("notification round"), default=0, help_text=_("Bumped by each retry, so a retry queues a new DM instead of finding the failed one.")
    )
    notify_message = models.ForeignKey(
        "bot.OutboxMessage", verbose_name=_("Santa DM"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text=_("The outbox row of the latest DM to the Santa."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("pairing")
        verbose_name_plural = _("pairings")
        ordering = ["event", "santa__display_name"]
        constraints = [
            models.UniqueConstraint(fields=["event", "santa"], name="ratmas_pairing_one_recipient_per_santa",
                                    violation_error_message=_("This Santa already has a recipient.")),
            models.UniqueConstraint(fields=["event", "recipient"], name="ratmas_pairing_one_santa_per_recipient",
                                    violation_error_message=_("This recipient already has a Santa.")),
            models.CheckConstraint(name="ratmas_pairing_not_self", condition=~Q(santa=F("recipient")),
                                   violation_error_message=_("Nobody can be their own Santa.")),
        ]
        permissions = [("view_pairings_secret", "Can see who is whose Secret Santa")]

    def __str__(self) -> str:
        return f"{self.santa.display_name} → {self.recipient.display_name}"


class Exclusion(models.Model):
    """``giver`` must not draw ``receiver`` (nor the reverse when ``both_ways``)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="exclusions", verbose_name=pgettext_lazy("ratmas", "event"))
    giver = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="exclusions_given", verbose_name=pgettext_lazy("ratmas field", "giver"))
    receiver = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="exclusions_received", verbose_name=pgettext_lazy("ratmas field", "receiver"))
    both_ways = models.BooleanField(verbose_name=_("both ways"), default=False, help_text=_("Also forbid receiver → giver (e.g. partners)."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("exclusion")
        verbose_name_plural = _("exclusions")
        ordering = ["event", "giver__display_name"]
        constraints = [
            models.UniqueConstraint(fields=["event", "giver", "receiver"], name="ratmas_exclusion_once",
                                    violation_error_message=_("This exclusion exists already.")),
            models.UniqueConstraint(Least("giver", "receiver"), Greatest("giver", "receiver"), "event",
                                    name="ratmas_exclusion_one_per_pair",
                                    violation_error_message=_("These two already have an exclusion: tick "
                                                            "“both ways” on it instead of adding the reverse.")),
            models.CheckConstraint(name="ratmas_exclusion_not_self", condition=~Q(giver=F("receiver")),
                                   violation_error_message=_("Nobody draws themselves anyway: pick two different "
                                                           "participants.")),
        ]

    def __str__(self) -> str:
        arrow = "↮" if self.both_ways else "↛"
        return f"{self.giver.display_name} {arrow} {self.receiver.display_name}"


class RelayMessage(models.Model):
    """An anonymous message between a Santa and their recipient, relayed by DM."""

    class Direction(models.TextChoices):
        TO_RECIPIENT = "to_recipient", _("Santa → recipient")
        TO_SANTA = "to_santa", _("Recipient → Santa")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="relay_messages", verbose_name=pgettext_lazy("ratmas", "event"))
    pairing = models.ForeignKey(Pairing, on_delete=models.CASCADE, related_name="relay_messages", verbose_name=_("pairing"))
    direction = models.CharField(verbose_name=_("direction"), max_length=12, choices=Direction.choices)
    text = SealedTextField(verbose_name=pgettext_lazy("ratmas relayed message", "text"), max_length=1500, help_text=_("Encrypted at rest when FIELD_ENCRYPTION_KEY is set "
                                                     "(core/privacy/sealed.py)."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    delivered = models.BooleanField(verbose_name=_("delivered"), default=False, help_text=_("Discord accepted the DM."))
    outbox_message = models.ForeignKey(
        "bot.OutboxMessage", verbose_name=_("outbox message"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("relayed message")
        verbose_name_plural = _("relayed messages")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                name="ratmas_relay_direction_valid", condition=Q(direction__in=["to_recipient", "to_santa"]),
                violation_error_message=_("A relayed message goes from Santa to recipient or back."),
            ),
            models.CheckConstraint(name="ratmas_relay_text_not_empty", condition=~Q(text=""),
                                   violation_error_message=_("A relayed message cannot be empty.")),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} #{self.pk}"


class ScheduledSend(models.Model):
    """One scheduled announcement (a reminder or the reveal) that was sent for an event.

    The unique (event, kind) row is the claim: two beat workers racing on the same reminder
    cannot both insert it, so each reminder goes out at most once.
    """

    class Kind(models.TextChoices):
        SIGNUP_72H = "signup_72h", _("Signups close in 72 h")
        SIGNUP_24H = "signup_24h", _("Signups close in 24 h")
        PURCHASE_72H = "purchase_72h", _("Purchase deadline in 72 h")
        PURCHASE_24H = "purchase_24h", _("Purchase deadline in 24 h")
        REVEAL = "reveal", _("Reveal announcement")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="scheduled_sends", verbose_name=pgettext_lazy("ratmas", "event"))
    kind = models.CharField(verbose_name=pgettext_lazy("ratmas scheduled send", "kind"), max_length=16, choices=Kind.choices)
    sent_at = models.DateTimeField(verbose_name=pgettext_lazy("ratmas scheduled send", "sent at"), auto_now_add=True)
    recipients = models.PositiveIntegerField(verbose_name=pgettext_lazy("ratmas scheduled send", "recipients"), default=0, help_text=_("DMs queued with it."))

    class Meta:
        verbose_name = _("scheduled announcement")
        verbose_name_plural = _("scheduled announcements")
        ordering = ["event", "sent_at"]
        constraints = [models.UniqueConstraint(fields=["event", "kind"], name="ratmas_scheduled_send_once",
                                               violation_error_message=_("This announcement was already sent for this event."))]

    def __str__(self) -> str:
        return gettext("%(kind)s for event %(event)s") % {"kind": self.get_kind_display(), "event": self.event_id}
