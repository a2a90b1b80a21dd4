"""Calendar feeds: members' secret feed tokens (hashed), officers' public feed switches, and the
bookkeeping that gives every feed event a growing SEQUENCE and every feed an honest Last-Modified."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class CalendarToken(models.Model):
    """A member's private calendar feed secret. Only its SHA-256 is stored (the token has 192 random
    bits, so a fast hash is safe, like an API key's); the URL is shown once, when made or rotated,
    or again by rotating. Revoking deletes the row: the old URL then answers 404 like any unknown one."""

    discord_user_id = models.BigIntegerField(unique=True, help_text="The member's Discord user id.")
    token_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256 (hex) of the secret token.")
    prefix = models.CharField(max_length=8, help_text="The token's first characters, to tell URLs apart.")
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(help_text="When the current token was made.")
    last_used_at = models.DateTimeField(null=True, blank=True, help_text="Last feed fetch (to the minute).")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(discord_user_id__gt=0), name="members_token_user_positive",
                                   violation_error_message="A calendar token belongs to a Discord user id."),
        ]

    def __str__(self) -> str:
        return f"Calendar feed of {self.discord_user_id} ({self.prefix}…)"


class PublicFeed(models.Model):
    """An officer's switch for a public feed: every raid night, or every Ark weekend of one alliance."""

    class Kind(models.TextChoices):
        RAIDS = "raids", "All raid nights"
        ARK = "ark", "All Ark matches of an alliance"

    kind = models.CharField(max_length=5, choices=Kind.choices)
    alliance = models.ForeignKey("ark.Alliance", null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="+", help_text="For Ark feeds: whose matches.")
    enabled = models.BooleanField(default=True, help_text="Off: the public URL answers 404.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind"], condition=Q(kind="raids"), name="members_one_raids_feed",
                                    violation_error_message="There is already a public raid feed."),
            models.UniqueConstraint(fields=["alliance"], condition=Q(kind="ark"), name="members_one_ark_feed",
                                    violation_error_message="This alliance already has a public feed."),
            models.CheckConstraint(condition=Q(kind="raids", alliance__isnull=True)
                                   | Q(kind="ark", alliance__isnull=False), name="members_feed_alliance",
                                   violation_error_message="An Ark feed names an alliance; a raid feed none."),
        ]

    def __str__(self) -> str:
        what = "All raid nights" if self.kind == self.Kind.RAIDS else f"Ark matches of {self.alliance}"
        return f"{what} ({'public' if self.enabled else 'off'})"


class FeedItemVersion(models.Model):
    """The SEQUENCE of one calendar event (RFC 5545 §3.8.7.4), derived from its content: whenever the
    fingerprint of what a calendar shows (time, title, status) differs from the one recorded, the
    sequence grows by one, atomically in the database. It therefore grows on every visible change,
    whichever code path changed the source row."""

    key = models.CharField(max_length=160, unique=True,
                           help_text="Feed scope and event UID, e.g. t12:raid-5@guildops (t12 = token 12).")
    fingerprint = models.CharField(max_length=32)
    sequence = models.PositiveIntegerField(default=0)
    changed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.key} #{self.sequence}"


class FeedState(models.Model):
    """Per feed: its last rendered body, the digest of the items it was rendered from (the ETag), and
    when that content last changed (Last-Modified). A fetch whose items hash to the same digest is
    answered from ``body`` without rendering again: the iCalendar library is the costly part."""

    key = models.CharField(max_length=80, unique=True, help_text="e.g. t<token id>, public-raids.")
    etag = models.CharField(max_length=64)
    body = models.BinaryField(default=b"", help_text="The rendered iCalendar text of that content.")
    changed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.key} @ {self.changed_at:%Y-%m-%d %H:%M}"
