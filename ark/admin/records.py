"""What Ark recorded: reminder preferences, the reminders sent and the audit log (read-only)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ark.models import (
    AuditLog,
    ReminderPrefs,
    SentReminder,
)
from core.admin_tools import (
    HumanizedValuesFilter,
    MemberNamesMixin,
    ReadOnlyAdmin,
    details_column,
    humanize_code,
    member_column,
    member_label,
)


@admin.register(ReminderPrefs)
class ReminderPrefsAdmin(MemberNamesMixin, ReadOnlyAdmin):
    member_fields = ("discord_user_id",)
    list_display = (member_column("discord_user_id"), "dm_enabled", "disabled_types", "updated_at")
    list_filter = ("dm_enabled",)
    search_fields = ("=discord_user_id",)


@admin.register(SentReminder)
class SentReminderAdmin(MemberNamesMixin, ReadOnlyAdmin):
    member_fields = ("target_id",)
    list_display = ("reminder_type", member_column("target_id", gettext_lazy("to")), "match", "scheduled_for", "status",
                    "created_at")
    list_filter = ("status", "reminder_type")
    list_select_related = ("match__alliance",)
    search_fields = ("=target_id",)
    raw_id_fields = ("match", "outbox")


@admin.register(AuditLog)
class AuditLogAdmin(MemberNamesMixin, ReadOnlyAdmin):
    member_fields = ("actor_discord_id",)
    details_fields = ("details",)
    list_display = ("created_at", "action_label", "actor", "match", "is_override", details_column())
    exclude = ("details",)
    readonly_fields = (details_column(),)
    list_filter = (("action", HumanizedValuesFilter), "is_override")
    list_select_related = ("match__alliance",)
    search_fields = ("action", "=actor_discord_id", "details__by", "match__alliance__name")
    date_hierarchy = "created_at"
    raw_id_fields = ("match", "signup")

    @admin.display(description=gettext_lazy("action"), ordering="action")
    def action_label(self, obj: AuditLog) -> str:
        return humanize_code(obj.action)

    @admin.display(description=gettext_lazy("by"), ordering="actor_discord_id_name")
    def actor(self, obj: AuditLog) -> str:
        """The member who acted in Discord, else the officer who acted in the admin, else the scheduler."""
        if obj.actor_discord_id:
            return member_label(obj.actor_discord_id, obj.actor_discord_id_name)
        return (obj.details or {}).get("by") or _("scheduler")
