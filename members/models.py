"""Calendar feeds: members' secret feed tokens (hashed), officers' public feed switches, and the
bookkeeping that gives every feed event a growing SEQUENCE and every feed an honest Last-Modified."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy


class CalendarToken(models.Model):
    """A member's private calendar feed secret. Only its SHA-256 is stored (the token has 192 random
    bits, so a fast hash is safe, like an API key's); the URL is shown once, when made or rotated,
    or again by rotating. Revoking deletes the row: the old URL then answers 404 like any unknown one."""

    discord_user_id = models.BigIntegerField(gettext_lazy("member id"), unique=True,
                                             help_text=gettext_lazy("The member's Discord user id."))
    token_hash = models.CharField(gettext_lazy("token hash"), max_length=64, unique=True,
                                  help_text=gettext_lazy("SHA-256 (hex) of the secret token."))
    prefix = models.CharField(gettext_lazy("prefix"), max_length=8,
                              help_text=gettext_lazy("The token's first characters, to tell URLs apart."))
    created_at = models.DateTimeField(gettext_lazy("created at"), auto_now_add=True)
    rotated_at = models.DateTimeField(gettext_lazy("made at"), help_text=gettext_lazy("When the current token was made."))
    last_used_at = models.DateTimeField(gettext_lazy("last fetched"), null=True, blank=True,
                                        help_text=gettext_lazy("Last feed fetch (to the minute)."))

    class Meta:
        verbose_name = gettext_lazy("private calendar feed")
        verbose_name_plural = gettext_lazy("private calendar feeds")
        constraints = [
            models.CheckConstraint(condition=Q(discord_user_id__gt=0), name="members_token_user_positive",
                                   violation_error_message=gettext_lazy("A calendar token belongs to a Discord user id.")),
        ]

    def __str__(self) -> str:
        return _("Calendar feed of %(member)s (%(prefix)s…)") % {"member": self.discord_user_id, "prefix": self.prefix}


class PublicFeed(models.Model):
    """An officer's switch for a public feed: every raid night, or every Ark weekend of one alliance."""

    class Kind(models.TextChoices):
        RAIDS = "raids", gettext_lazy("All raid nights")
        ARK = "ark", gettext_lazy("All Ark matches of an alliance")

    kind = models.CharField(pgettext_lazy("calendar feed", "kind"), max_length=5, choices=Kind.choices)
    alliance = models.ForeignKey("ark.Alliance", verbose_name=gettext_lazy("alliance"), null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="+",
                                 help_text=gettext_lazy("For Ark feeds: whose matches."))
    enabled = models.BooleanField(pgettext_lazy("calendar feed", "on"), default=True,
                                  help_text=gettext_lazy("Off: the public URL answers 404."))

    class Meta:
        verbose_name = gettext_lazy("public calendar feed")
        verbose_name_plural = gettext_lazy("public calendar feeds")
        constraints = [
            models.UniqueConstraint(fields=["kind"], condition=Q(kind="raids"), name="members_one_raids_feed",
                                    violation_error_message=gettext_lazy("There is already a public raid feed.")),
            models.UniqueConstraint(fields=["alliance"], condition=Q(kind="ark"), name="members_one_ark_feed",
                                    violation_error_message=gettext_lazy("This alliance already has a public feed.")),
            models.CheckConstraint(condition=Q(kind="raids", alliance__isnull=True)
                                   | Q(kind="ark", alliance__isnull=False), name="members_feed_alliance",
                                   violation_error_message=gettext_lazy(
                                       "An Ark feed names an alliance; a raid feed none.")),
        ]

    def __str__(self) -> str:
        if self.kind == self.Kind.RAIDS:
            what = _("All raid nights")
        else:
            what = _("Ark matches of %(alliance)s") % {"alliance": self.alliance}
        if self.enabled:
            return _("%(feed)s (public)") % {"feed": what}
        return _("%(feed)s (off)") % {"feed": what}


class FeedItemVersion(models.Model):
    """The SEQUENCE of one calendar event (RFC 5545 §3.8.7.4), derived from its content: whenever the
    fingerprint of what a calendar shows (time, title, status) differs from the one recorded, the
    sequence grows by one, atomically in the database. It therefore grows on every visible change,
    whichever code path changed the source row."""

    key = models.CharField(pgettext_lazy("calendar feed", "key"), max_length=160, unique=True,
                           help_text=gettext_lazy("Feed scope and event UID, e.g. t12:raid-5@guildops (t12 = token 12)."))
    fingerprint = models.CharField(gettext_lazy("fingerprint"), max_length=32)
    sequence = models.PositiveIntegerField(gettext_lazy("sequence"), default=0)
    changed_at = models.DateTimeField(gettext_lazy("changed at"))

    class Meta:
        verbose_name = gettext_lazy("calendar event version")
        verbose_name_plural = gettext_lazy("calendar event versions")

    def __str__(self) -> str:
        return f"{self.key} #{self.sequence}"


class FeedState(models.Model):
    """Per feed: its last rendered body, the digest of the items it was rendered from (the ETag), and
    when that content last changed (Last-Modified). A fetch whose items hash to the same digest is
    answered from ``body`` without rendering again: the iCalendar library is the costly part."""

    key = models.CharField(pgettext_lazy("calendar feed", "key"), max_length=80, unique=True,
                           help_text=gettext_lazy("e.g. t<token id>, public-raids."))
    etag = models.CharField(gettext_lazy("ETag"), max_length=64)
    body = models.BinaryField(gettext_lazy("body"), default=b"",
                              help_text=gettext_lazy("The rendered iCalendar text of that content."))
    changed_at = models.DateTimeField(gettext_lazy("changed at"))

    class Meta:
        verbose_name = gettext_lazy("calendar feed state")
        verbose_name_plural = gettext_lazy("calendar feed states")

    def __str__(self) -> str:
        return f"{self.key} @ {self.changed_at:%Y-%m-%d %H:%M}"
