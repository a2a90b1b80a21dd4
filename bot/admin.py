from django.conf import settings
from django.contrib import admin, messages

from bot.delivery import retry_now
from bot.models import OutboxMessage
from core.admin_tools import has_model_permission

NO_TOKEN = "DISCORD_TOKEN is not set: messages are queued but not sent."


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Read-only: rows are written by services and by the delivery worker."""

    list_display = ("id", "kind", "status", "target", "topic", "attempts", "next_attempt_at", "last_error_short",
                    "sent_at", "created_at")
    list_filter = ("status", "kind", "topic")
    search_fields = ("=channel_id", "=user_id", "=guild_id", "=message_id", "=sent_message_id", "dedupe_key", "topic")
    date_hierarchy = "created_at"
    actions = ["retry_selected"]
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]

    @admin.display(description="target")
    def target(self, obj: OutboxMessage) -> str:
        if obj.channel_id:
            return f"channel {obj.channel_id}"
        return f"user {obj.user_id}"

    @admin.display(description="last error")
    def last_error_short(self, obj: OutboxMessage) -> str:
        return (obj.last_error or "")[:80]

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET" and not settings.DISCORD_TOKEN:
            self.message_user(request, NO_TOKEN, messages.WARNING)
        return super().changelist_view(request, extra_context)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_retry_permission(self, request) -> bool:
        """Retrying changes delivery state: the change permission, not just view."""
        return has_model_permission(request, OutboxMessage, "change")

    @admin.action(description="Retry now", permissions=["retry"])
    def retry_selected(self, request, queryset) -> None:
        count = retry_now(queryset)
        skipped = queryset.count() - count
        if settings.DISCORD_TOKEN:
            self.message_user(request, f"{count} message(s) queued for delivery now.", messages.SUCCESS)
        else:
            self.message_user(request, f"{count} message(s) queued again, but DISCORD_TOKEN is not set: "
                                       "nothing is sent until it is.", messages.WARNING)
        if skipped:
            self.message_user(request, f"{skipped} already sent or withdrawn: left alone.", messages.WARNING)
