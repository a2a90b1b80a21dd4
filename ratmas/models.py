"""Ratmas (Secret Santa) tables and the invariants the database enforces.

Every write goes through ``ratmas.services``; these constraints are the last line of defence
that makes races and half-applied changes impossible even if a caller forgets a check.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Greatest, Least

from core.privacy.sealed import PREFIX as SEALED
from core.privacy.sealed import SealedTextField


class Event(models.Model):
    """One Secret Santa round of a Discord guild."""

    class Status(models.TextChoices):
        OPEN = "open", "Open for signups"
        LOCKED = "locked", "Signups locked"
        MATCHED = "matched", "Pairings drawn"
        NOTIFIED = "notified", "Santas notified"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    FINISHED = (Status.COMPLETED, Status.CANCELLED)

    guild_id = models.BigIntegerField(help_text="Discord server the event belongs to.")
    name = models.CharField(
        max_length=100, blank=True,
        help_text="What organisers and members call it, e.g. 'Ratmas 2026'; empty = 'Ratmas' and the reveal year.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    signup_deadline = models.DateTimeField(help_text="Signups close (UTC).")
    purchase_deadline = models.DateTimeField(help_text="Gifts must be bought by then (UTC).")
    reveal_date = models.DateTimeField(help_text="Gifts are opened and Santas may reveal themselves (UTC).")
    announcement_channel_id = models.BigIntegerField(
        null=True, blank=True, help_text="Channel for announcements and reports to organisers."
    )
    participant_role_id = models.BigIntegerField(
        null=True, blank=True, help_text="Discord role whose members are the participants (synced while open)."
    )
    managing_role_id = models.BigIntegerField(
        null=True, blank=True, help_text="Discord role whose members may run the organiser commands."
    )
    timezone = models.CharField(
        max_length=64, default="UTC", help_text="IANA time zone the organisers think in, e.g. Europe/Berlin."
    )
    budget = models.CharField(max_length=200, blank=True, help_text="Free text, e.g. '20 EUR'.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["guild_id", "status"], name="ratmas_event_guild_status")]
        constraints = [
            models.UniqueConstraint(
                fields=["guild_id"],
                condition=~Q(status__in=["completed", "cancelled"]),
                name="ratmas_one_unfinished_event_per_guild",
                violation_error_message="This server already has a Ratmas in progress.",
            ),
            models.CheckConstraint(
                name="ratmas_event_status_valid",
                condition=Q(status__in=["open", "locked", "matched", "notified", "completed", "cancelled"]),
                violation_error_message="Unknown Ratmas status.",
            ),
            models.CheckConstraint(
                name="ratmas_event_dates_ordered",
                condition=Q(signup_deadline__lte=F("purchase_deadline")) & Q(purchase_deadline__lte=F("reveal_date")),
                violation_error_message="Signup deadline ≤ purchase deadline ≤ reveal date.",
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

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="participants")
    user_id = models.BigIntegerField(help_text="Discord user id.")
    display_name = models.CharField(max_length=100, help_text="Name shown to their Santa.")
    wishlist_url = SealedTextField(
        max_length=500, blank=True, help_text="http(s) link only, 500 characters at most (ratmas.services.validate_wishlist). "
                              "Encrypted at rest when FIELD_ENCRYPTION_KEY is set (core/privacy/sealed.py).")
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["display_name", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "user_id"], name="ratmas_participant_once_per_event",
                                    violation_error_message="This member already takes part in this event."),
            models.CheckConstraint(
                name="ratmas_wishlist_http",
                condition=Q(wishlist_url="")
                | Q(wishlist_url__startswith="http://")
                | Q(wishlist_url__startswith="https://")
                | Q(wishlist_url__startswith=SEALED),
                violation_error_message="A wishlist link starts with http:// or https://.",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name  # the id is on the page as its own field (pickers list names)


class Pairing(models.Model):
    """Santa gives to recipient. Secret: only users with ``view_pairings_secret`` see them."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="pairings")
    # RESTRICT: a participant cannot vanish from under a pairing, except when the whole
    # event is deleted (the event's CASCADE reaches the pairing too).
    santa = models.ForeignKey(Participant, on_delete=models.RESTRICT, related_name="gives")
    recipient = models.ForeignKey(Participant, on_delete=models.RESTRICT, related_name="receives")
    notified_at = models.DateTimeField(null=True, blank=True, help_text="When Discord accepted the Santa's DM.")
    last_error = models.TextField(blank=True, help_text="Why the last DM to the Santa failed (e.g. DMs closed).")
    notify_round = models.PositiveIntegerField(
        default=0, help_text="Bumped by each retry, so a retry queues a new DM instead of finding the failed one."
    )
    notify_message = models.ForeignKey(
        "bot.OutboxMessage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The outbox row of the latest DM to the Santa.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["event", "santa__display_name"]
        constraints = [
            models.UniqueConstraint(fields=["event", "santa"], name="ratmas_pairing_one_recipient_per_santa",
                                    violation_error_message="This Santa already has a recipient."),
            models.UniqueConstraint(fields=["event", "recipient"], name="ratmas_pairing_one_santa_per_recipient",
                                    violation_error_message="This recipient already has a Santa."),
            models.CheckConstraint(name="ratmas_pairing_not_self", condition=~Q(santa=F("recipient")),
                                   violation_error_message="Nobody can be their own Santa."),
        ]
        permissions = [("view_pairings_secret", "Can see who is whose Secret Santa")]

    def __str__(self) -> str:
        return f"{self.santa.display_name} → {self.recipient.display_name}"


class Exclusion(models.Model):
    """``giver`` must not draw ``receiver`` (nor the reverse when ``both_ways``)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="exclusions")
    giver = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="exclusions_given")
    receiver = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="exclusions_received")
    both_ways = models.BooleanField(default=False, help_text="Also forbid receiver → giver (e.g. partners).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["event", "giver__display_name"]
        constraints = [
            models.UniqueConstraint(fields=["event", "giver", "receiver"], name="ratmas_exclusion_once",
                                    violation_error_message="This exclusion exists already."),
            models.UniqueConstraint(Least("giver", "receiver"), Greatest("giver", "receiver"), "event",
                                    name="ratmas_exclusion_one_per_pair",
                                    violation_error_message="These two already have an exclusion: tick "
                                                            "“both ways” on it instead of adding the reverse."),
            models.CheckConstraint(name="ratmas_exclusion_not_self", condition=~Q(giver=F("receiver")),
                                   violation_error_message="Nobody draws themselves anyway: pick two different "
                                                           "participants."),
        ]

    def __str__(self) -> str:
        arrow = "↮" if self.both_ways else "↛"
        return f"{self.giver.display_name} {arrow} {self.receiver.display_name}"


class RelayMessage(models.Model):
    """An anonymous message between a Santa and their recipient, relayed by DM."""

    class Direction(models.TextChoices):
        TO_RECIPIENT = "to_recipient", "Santa → recipient"
        TO_SANTA = "to_santa", "Recipient → Santa"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="relay_messages")
    pairing = models.ForeignKey(Pairing, on_delete=models.CASCADE, related_name="relay_messages")
    direction = models.CharField(max_length=12, choices=Direction.choices)
    text = SealedTextField(max_length=1500, help_text="Encrypted at rest when FIELD_ENCRYPTION_KEY is set "
                                                     "(core/privacy/sealed.py).")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    delivered = models.BooleanField(default=False, help_text="Discord accepted the DM.")
    outbox_message = models.ForeignKey(
        "bot.OutboxMessage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                name="ratmas_relay_direction_valid", condition=Q(direction__in=["to_recipient", "to_santa"]),
                violation_error_message="A relayed message goes from Santa to recipient or back.",
            ),
            models.CheckConstraint(name="ratmas_relay_text_not_empty", condition=~Q(text=""),
                                   violation_error_message="A relayed message cannot be empty."),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} #{self.pk}"


class ScheduledSend(models.Model):
    """One scheduled announcement (a reminder or the reveal) that was sent for an event.

    The unique (event, kind) row is the claim: two beat workers racing on the same reminder
    cannot both insert it, so each reminder goes out at most once.
    """

    class Kind(models.TextChoices):
        SIGNUP_72H = "signup_72h", "Signups close in 72 h"
        SIGNUP_24H = "signup_24h", "Signups close in 24 h"
        PURCHASE_72H = "purchase_72h", "Purchase deadline in 72 h"
        PURCHASE_24H = "purchase_24h", "Purchase deadline in 24 h"
        REVEAL = "reveal", "Reveal announcement"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="scheduled_sends")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    sent_at = models.DateTimeField(auto_now_add=True)
    recipients = models.PositiveIntegerField(default=0, help_text="DMs queued with it.")

    class Meta:
        ordering = ["event", "sent_at"]
        constraints = [models.UniqueConstraint(fields=["event", "kind"], name="ratmas_scheduled_send_once",
                                               violation_error_message="This announcement was already sent for this event.")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for event {self.event_id}"
