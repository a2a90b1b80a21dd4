"""What Ark recorded: reminder preferences, the reminders sent and the audit log (read-only)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

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
    list_display = (member_column("discord_user_id", pgettext_lazy("ark", "member")), "dm_enabled", "disabled_types", "updated_at")
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


# The audit actions as officers read them, in their language (``humanize_code`` for any other).
ACTIONS = {
    "alliance_saved": gettext_lazy("Alliance saved"),
    "attendance_set": gettext_lazy("Attendance set"),
    "ban_added": gettext_lazy("Ban added"),
    "ban_revoked": gettext_lazy("Ban revoked"),
    "cadence_saved": gettext_lazy("Cadence saved"),
    "calendar_saved": gettext_lazy("Calendar saved"),
    "checked_in": gettext_lazy("Checked in"),
    "draft_constraint_added": gettext_lazy("Draft rule added"),
    "draft_constraint_removed": gettext_lazy("Draft rule removed"),
    "draft_made": gettext_lazy("Teams drafted"),
    "draft_moved": gettext_lazy("Moved to another team"),
    "draft_published": gettext_lazy("Draft published"),
    "emergency_withdraw": gettext_lazy("Emergency withdraw"),
    "governor_registered": gettext_lazy("Governor registered"),
    "match_amended": gettext_lazy("Match amended"),
    "match_cancelled": gettext_lazy("Match cancelled"),
    "match_created": gettext_lazy("Match created"),
    "match_locked": gettext_lazy("Match locked"),
    "message_lost": gettext_lazy("Discord message lost"),
    "message_posted": gettext_lazy("Discord message posted"),
    "message_reposted": gettext_lazy("Discord message reposted"),
    "messages_reposted": gettext_lazy("Discord messages reposted"),
    "reminder_prefs": gettext_lazy("Reminder preferences"),
    "reminders": gettext_lazy("Reminders"),
    "result_reminder": gettext_lazy("Result reminder"),
    "result_set": gettext_lazy("Result set"),
    "retention_purged": gettext_lazy("Old records deleted"),
    "signup_added": gettext_lazy("Signed up"),
    "signup_moved": gettext_lazy("Slot changed"),
    "signup_removed": gettext_lazy("Removed by an officer"),
    "signup_switched": gettext_lazy("Governor switched"),
    "signup_withdrawn": gettext_lazy("Withdrawn"),
    "stats_imported": gettext_lazy("Stats imported"),
}


def action_label(code: str) -> str:
    return str(ACTIONS[code]) if code in ACTIONS else humanize_code(code)


class ActionFilter(HumanizedValuesFilter):
    """The audit actions in the officer's language."""

    def choices(self, changelist):
        for choice in admin.AllValuesFieldListFilter.choices(self, changelist):
            if choice["display"] in self.lookup_choices:
                choice = {**choice, "display": action_label(choice["display"])}
            yield choice


@admin.register(AuditLog)
class AuditLogAdmin(MemberNamesMixin, ReadOnlyAdmin):
    member_fields = ("actor_discord_id",)
    details_fields = ("details",)
    list_display = ("created_at", "action_label", "actor", "match", "is_override", details_column())
    exclude = ("details",)
    readonly_fields = (details_column(),)
    list_filter = (("action", ActionFilter), "is_override")
    list_select_related = ("match__alliance",)
    search_fields = ("action", "=actor_discord_id", "details__by", "match__alliance__name")
    date_hierarchy = "created_at"
    raw_id_fields = ("match", "signup")

    @admin.display(description=gettext_lazy("action"), ordering="action")
    def action_label(self, obj: AuditLog) -> str:
        return action_label(obj.action)

    @admin.display(description=gettext_lazy("by"), ordering="actor_discord_id_name")
    def actor(self, obj: AuditLog) -> str:
        """The member who acted in Discord, else the officer who acted in the admin, else the scheduler."""
        if obj.actor_discord_id:
            return member_label(obj.actor_discord_id, obj.actor_discord_id_name)
        return (obj.details or {}).get("by") or _("scheduler")
