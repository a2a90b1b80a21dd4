"""Bytes economy, squads and moderation, per Discord guild.

Only Discord ids are stored (usernames/tags are cached on log rows for the audit trail).
The invariants the database can hold live in ``Meta``: a balance never below 0, a
transaction amount above 0, one balance / config / squad membership / role-reward grant per
key, one default squad per guild. Every write goes through ``economy.services``.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from economy.validators import validate_role_rewards, validate_streak_bonuses

# Giver/receiver id of the bank: dailies, officer corrections and squad switch fees move bytes
# between a member and id 0, which no Discord snowflake can be, so amounts stay > 0 and every
# movement keeps a direction (see BytesTransaction).
SYSTEM_ID = 0


def default_streak_bonuses() -> dict[str, int]:
    return {"8": 2, "16": 4, "32": 8, "64": 16}


class BytesBalance(models.Model):
    guild_id = models.BigIntegerField(_("server id"))
    user_id = models.BigIntegerField(_("member id"))
    balance = models.IntegerField(_("balance"), default=0)
    total_received = models.IntegerField(_("total received"), default=0,
                                         help_text=_("Bytes received from members and dailies."))
    total_sent = models.IntegerField(_("total sent"), default=0,
                                     help_text=_("Bytes sent to members and spent on squad switches."))
    last_daily = models.DateField(_("last daily"), null=True, blank=True,
                                  help_text=_("UTC day of the last daily claim."))
    streak_count = models.PositiveIntegerField(_("streak"), default=0,
                                               help_text=_("Consecutive UTC days with a daily claim."))
    last_transfer_at = models.DateTimeField(_("last transfer"), null=True, blank=True,
                                            help_text=_("For the transfer cooldown."))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("bytes balance")
        verbose_name_plural = _("bytes balances")
        ordering = ["-balance", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["guild_id", "user_id"], name="bytes_balance_one_per_member",
                                    violation_error_message=_("This member already has a balance in this server.")),
            models.CheckConstraint(condition=Q(balance__gte=0), name="bytes_balance_not_negative",
                                   violation_error_message=_("A balance cannot go below 0 bytes.")),
            models.CheckConstraint(condition=Q(total_received__gte=0) & Q(total_sent__gte=0),
                                   name="bytes_balance_totals_not_negative",
                                   violation_error_message=_("Received and sent totals cannot be negative."),
            ),
        ]
        indexes = [
            models.Index(fields=["guild_id", "balance"], name="ix_bytes_bal_guild_balance"),
            models.Index(fields=["last_daily"], name="ix_bytes_bal_last_daily"),
        ]

    def __str__(self) -> str:
        from guildsync.services.directory import row_label  # names, never snowflakes (the member directory)

        return gettext("%(member)s: %(balance)s bytes") % {"member": row_label(self, "user_id", "member"),
                                                            "balance": self.balance}


class BytesTransaction(models.Model):
    """One movement of bytes. The bank (``SYSTEM_ID``) gives dailies and credit corrections
    and receives debit corrections and squad switch fees."""

    class Kind(models.TextChoices):
        TRANSFER = "transfer", _("Transfer")
        DAILY = "daily", _("Daily reward")
        ADJUSTMENT = "adjustment", _("Officer adjustment")
        SQUAD_SWITCH = "squad_switch", _("Squad switch fee")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    guild_id = models.BigIntegerField(_("server id"))
    kind = models.CharField(pgettext_lazy("bytes transaction", "kind"), max_length=20, choices=Kind.choices, default=Kind.TRANSFER)
    giver_id = models.BigIntegerField(pgettext_lazy("bytes transaction", "sender id"))
    giver_username = models.CharField(pgettext_lazy("bytes transaction", "sender's name"), max_length=100)
    receiver_id = models.BigIntegerField(pgettext_lazy("bytes transaction", "recipient id"))
    receiver_username = models.CharField(pgettext_lazy("bytes transaction", "recipient's name"), max_length=100)
    amount = models.IntegerField(_("amount"))
    reason = models.TextField(_("reason"), blank=True, max_length=500)
    created_at = models.DateTimeField(pgettext_lazy("bytes transaction", "when"))

    class Meta:
        verbose_name = _("bytes transaction")
        verbose_name_plural = _("bytes transactions")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="bytes_transaction_amount_positive",
                                   violation_error_message=_("A transaction moves at least 1 byte.")),
            models.CheckConstraint(condition=~Q(giver_id=F("receiver_id")), name="bytes_transaction_not_to_self",
                                   violation_error_message=_("A member cannot send bytes to themselves.")),
        ]
        indexes = [
            models.Index(fields=["guild_id", "created_at"], name="ix_bytes_tx_guild_created"),
            models.Index(fields=["giver_id", "created_at"], name="ix_bytes_tx_giver"),
            models.Index(fields=["receiver_id", "created_at"], name="ix_bytes_tx_receiver"),
        ]

    def __str__(self) -> str:
        return f"{self.giver_username} → {self.receiver_username}: {self.amount}"


class BytesConfig(models.Model):
    guild_id = models.BigIntegerField(_("server id"), unique=True)
    starting_balance = models.PositiveIntegerField(_("starting balance"), default=100,
                                                   help_text=_("Balance of a member's new account."))
    daily_amount = models.PositiveIntegerField(_("daily amount"), default=10,
                                               help_text=_("Base bytes of a daily claim."))
    max_transfer = models.PositiveIntegerField(_("largest transfer"), default=1000,
                                               help_text=_("Largest single transfer."))
    transfer_cooldown_hours = models.PositiveIntegerField(
        _("transfer cooldown (hours)"), default=0,
        help_text=_("Hours a member waits between two transfers (0 = no cooldown)."),
    )
    streak_bonuses = models.JSONField(
        _("streak bonuses"), default=default_streak_bonuses, blank=True, validators=[validate_streak_bonuses],
        help_text=_('{"N": M}: from a streak of N days the daily is multiplied by M.'),
    )
    role_rewards = models.JSONField(
        _("role rewards"), default=dict, blank=True, validators=[validate_role_rewards],
        help_text=_('{"role_id": threshold}: role granted once total received ≥ threshold.'),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("guild economy config")
        verbose_name_plural = _("guild economy configs")
        constraints = [
            models.CheckConstraint(condition=Q(max_transfer__gt=0), name="bytes_config_max_transfer_positive",
                                   violation_error_message=_("The largest transfer must be at least 1 byte.")),
        ]

    def __str__(self) -> str:
        from guildsync.services.directory import row_label

        return gettext("Economy settings of %(server)s") % {"server": row_label(self, "guild_id", "server")}


class Squad(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    guild_id = models.BigIntegerField(_("server id"))
    role_id = models.BigIntegerField(_("Discord role id"), help_text=_("Discord role members of this squad hold."))
    name = models.CharField(pgettext_lazy("squad", "name"), max_length=100)
    description = models.CharField(_("description"), max_length=500, blank=True)
    switch_cost = models.PositiveIntegerField(_("switch cost"), default=50,
                                              help_text=_("Bytes charged to move here from another squad."))
    max_members = models.PositiveIntegerField(_("member limit"), null=True, blank=True,
                                              help_text=_("Empty = no limit."))
    is_default = models.BooleanField(_("default squad"), default=False,
                                     help_text=_("Members without a squad join it on their first daily."))
    welcome_message = models.TextField(
        _("welcome message"), blank=True, max_length=2000,
        help_text=_("Sent by DM to whoever joins (a Discord message: 2,000 characters)."))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("squad")
        verbose_name_plural = _("squads")
        ordering = ["guild_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["guild_id", "role_id"], name="uq_squad_guild_role",
                                    violation_error_message=_("Another squad of this server already uses this Discord role.")),
            models.UniqueConstraint(Lower("name"), "guild_id", name="squad_name_unique_per_guild",
                                    violation_error_message=_("Another squad of this server already has this name (upper/lower case does "
                                                                    "not count).")),
            models.UniqueConstraint(fields=["guild_id"], condition=Q(is_default=True),
                                    name="squad_one_default_per_guild",
                                    violation_error_message=_("This server already has a default squad: untick “default squad” on "
                                                              "that one first."),
            ),
            models.CheckConstraint(condition=Q(max_members__isnull=True) | Q(max_members__gt=0),
                                   name="squad_max_members_positive",
                                   violation_error_message=_("A member limit is at least 1 (leave it empty for no limit)."),
            ),
        ]
        indexes = [models.Index(fields=["guild_id", "is_active"], name="ix_squad_guild_active")]

    def __str__(self) -> str:
        return self.name


class SquadMembership(models.Model):
    guild_id = models.BigIntegerField(_("server id"))
    user_id = models.BigIntegerField(_("member id"))
    squad = models.ForeignKey(Squad, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("squad"))
    joined_at = models.DateTimeField(_("joined"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("squad membership")
        verbose_name_plural = _("squad memberships")
        ordering = ["squad", "joined_at"]
        constraints = [
            models.UniqueConstraint(fields=["guild_id", "user_id"], name="squad_membership_one_per_member",
                                    violation_error_message=_("This member is already in a squad of this server.")),
        ]
        indexes = [models.Index(fields=["squad"], name="ix_squad_member_squad")]

    def __str__(self) -> str:
        from guildsync.services.directory import row_label

        return gettext("%(member)s in %(squad)s") % {"member": row_label(self, "user_id", "member"),
                                                      "squad": self.squad.name}


class RoleRewardGrant(models.Model):
    """A role reward already granted: at most one per member and role."""

    guild_id = models.BigIntegerField(_("server id"))
    user_id = models.BigIntegerField(_("member id"))
    role_id = models.BigIntegerField(_("Discord role id"))
    threshold = models.PositiveIntegerField(_("threshold"), help_text=_("The threshold that was crossed."))
    granted_at = models.DateTimeField(_("granted"), auto_now_add=True)

    class Meta:
        verbose_name = _("role reward grant")
        verbose_name_plural = _("role reward grants")
        ordering = ["-granted_at"]
        constraints = [
            models.UniqueConstraint(fields=["guild_id", "user_id", "role_id"], name="role_reward_granted_once",
                                    violation_error_message=_("This member already received this role reward.")),
        ]

    def __str__(self) -> str:
        from guildsync.services.directory import row_label

        return f"{row_label(self, 'role_id', 'role')} → {row_label(self, 'user_id', 'member')}"


class ModerationAction(models.TextChoices):
    WARN = "warn", _("Warn")
    TIMEOUT = "timeout", _("Timeout")
    KICK = "kick", _("Kick")
    BAN = "ban", _("Ban")
    DELETE = "delete", _("Delete message")


class ModerationCase(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    guild_id = models.BigIntegerField(_("server id"))
    user_id = models.BigIntegerField(_("member id"))
    user_tag = models.CharField(_("member's name"), max_length=100,
                                help_text=_("The member's name when the case was opened."))
    moderator_id = models.BigIntegerField(_("moderator id"), help_text=_("0 for auto-moderation."))
    moderator_tag = models.CharField(_("moderator's name"), max_length=100)
    action = models.CharField(pgettext_lazy("moderation", "action"), max_length=10, choices=ModerationAction.choices)
    reason = models.CharField(_("reason"), max_length=500)
    expires_at = models.DateTimeField(pgettext_lazy("moderation", "expires"), null=True, blank=True, help_text=_("End of a timeout."))
    resolved = models.BooleanField(_("resolved"), default=False)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.CharField(_("resolved by"), max_length=100, blank=True)
    channel_id = models.BigIntegerField(_("channel id"), null=True, blank=True,
                                        help_text=_("Channel of the offending message."))
    message_id = models.BigIntegerField(pgettext_lazy("moderation", "message id"), null=True, blank=True,
                                        help_text=_("The offending message (auto-moderation)."))
    rule = models.ForeignKey("AutoModRule", null=True, blank=True, on_delete=models.SET_NULL, related_name="cases",
                             verbose_name=_("auto-moderation rule"))
    created_at = models.DateTimeField(pgettext_lazy("moderation", "opened"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("moderation case")
        verbose_name_plural = _("moderation cases")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(action="timeout") | Q(expires_at__isnull=False),
                                   name="moderation_timeout_has_expiry",
                                   violation_error_message=_("A timeout needs an end time."),
            ),
            models.CheckConstraint(condition=Q(resolved=False) | Q(resolved_at__isnull=False),
                                   name="moderation_resolved_has_time",
                                   violation_error_message=_("A resolved case needs the time it was resolved."),
            ),
            models.UniqueConstraint(fields=["guild_id", "message_id"], condition=Q(message_id__isnull=False),
                                    name="moderation_one_case_per_message",
                                    violation_error_message=_("This message already has a moderation case."),
            ),
        ]
        indexes = [
            models.Index(fields=["guild_id", "created_at"], name="ix_mod_case_guild_created"),
            models.Index(fields=["user_id"], name="ix_mod_case_user"),
            models.Index(fields=["resolved", "expires_at"], name="ix_mod_case_resolved"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.user_tag}: {self.reason[:40]}"


class AutoModRule(models.Model):
    class RuleType(models.TextChoices):
        KEYWORD = "keyword", _("Keywords")
        REGEX = "regex", _("Regular expression")
        SPAM = "spam", _("Message spam")
        MENTION_SPAM = "mention_spam", _("Mention spam")
        LINKS = "links", _("Links")
        INVITES = "invites", _("Discord invites")
        CAPS = "caps", _("Excessive capitals")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    guild_id = models.BigIntegerField(_("server id"))
    name = models.CharField(pgettext_lazy("auto-moderation rule", "name"), max_length=100, blank=True)
    rule_type = models.CharField(_("rule type"), max_length=20, choices=RuleType.choices)
    config = models.JSONField(
        _("settings"), default=dict, blank=True,
        help_text='keyword {"keywords": ["bad*"]}; regex {"pattern": "..."}; spam {"messages": 5, "seconds": 10}; '
                  'mention_spam {"max_mentions": 5}; links {"allowed_domains": ["example.org"]}; invites {}; '
                  'caps {"min_length": 10, "max_ratio": 0.7}.',
    )
    action = models.CharField(pgettext_lazy("moderation", "action"), max_length=10, choices=ModerationAction.choices)
    timeout_minutes = models.PositiveIntegerField(_("timeout (minutes)"), default=10,
                                                  help_text=_("Length of a timeout action."))
    exempt_role_ids = models.JSONField(_("exempt roles"), default=list, blank=True,
                                       help_text=_("Role ids the rule ignores."))
    exempt_channel_ids = models.JSONField(_("exempt channels"), default=list, blank=True,
                                          help_text=_("Channel ids the rule ignores."))
    is_active = models.BooleanField(_("active"), default=True)
    priority = models.IntegerField(_("priority"), default=0, help_text=_("Lower runs first."))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["guild_id", "priority", "created_at"]
        verbose_name = _("auto-moderation rule")
        verbose_name_plural = _("auto-moderation rules")
        constraints = [
            models.CheckConstraint(condition=Q(timeout_minutes__gt=0), name="automod_timeout_positive",
                                   violation_error_message=_("A timeout lasts at least one minute.")),
        ]
        indexes = [models.Index(fields=["guild_id", "is_active", "priority"], name="ix_automod_guild_active")]

    def __str__(self) -> str:
        return self.name or f"{self.get_rule_type_display()} → {self.get_action_display()}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from economy import automod

        try:
            self.config = automod.validate_rule(self.rule_type, self.config, self.exempt_role_ids,
                                                self.exempt_channel_ids)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc
