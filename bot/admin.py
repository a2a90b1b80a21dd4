import json

from django.conf import settings
from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from bot.delivery import retry_now
from bot.failures import describe
from bot.models import OutboxMessage
from bot.outbox import payload_of
from core.admin_tools import MemberNamesMixin, directory_label, has_model_permission, member_label

NO_TOKEN = gettext_lazy("DISCORD_TOKEN is not set: messages are queued but not sent.")


@admin.register(OutboxMessage)
class OutboxMessageAdmin(MemberNamesMixin, admin.ModelAdmin):
    """Read-only: rows are written by services and by the delivery worker."""

    member_fields = ("user_id",)
    channel_fields = ("channel_id",)
    list_display = ("id", "kind", "status", "target", "topic", "attempts", "next_attempt_at", "last_error_short",
                    "sent_at", "created_at")
    list_filter = ("status", "kind", "topic")
    list_select_related = ("scheduled_event",)
    search_fields = ("=channel_id", "=user_id", "=guild_id", "=message_id", "=sent_message_id", "dedupe_key", "topic")
    date_hierarchy = "created_at"
    actions = ["retry_selected"]
    readonly_fields = [f.name for f in OutboxMessage._meta.fields] + ["payload_redacted", "dedupe_key_redacted",
                                                                      "target", "payload_decrypted",
                                                                      "last_error_described"]
    secret_permission = "ratmas.view_pairings_secret"
    redacted = {"payload": "payload_redacted", "dedupe_key": "dedupe_key_redacted"}

    def may_read_secrets(self, request) -> bool:
        return request.user.has_perm(self.secret_permission)

    def get_fields(self, request, obj=None):
        """A secret row (a Santa DM names the recipient, its dedupe key too) shows its payload
        and dedupe key only to holders of the pairings permission; others see a placeholder."""
        fields = ["target", *("last_error_described" if f.name == "last_error" else f.name
                              for f in OutboxMessage._meta.fields if f.name != "id")]
        if obj is not None and obj.secret and not self.may_read_secrets(request):
            fields = [self.redacted.get(name, name) for name in fields]
        elif obj is not None and obj.secret:  # stored encrypted (core.privacy.sealed): shown decrypted to them
            fields = ["payload_decrypted" if name == "payload" else name for name in fields]
        return fields

    def get_search_fields(self, request):
        # searching the dedupe key would confirm a guessed pairing ("santa:<id>:<id>")
        if self.may_read_secrets(request):
            return self.search_fields
        return tuple(f for f in self.search_fields if f != "dedupe_key")

    @admin.display(description=gettext_lazy("payload"))
    def payload_redacted(self, obj: OutboxMessage) -> str:
        if not obj.secret:
            return json.dumps(obj.payload, ensure_ascii=False)
        return _("(secret: only people allowed to see the Secret Santa pairings can read it)")

    @admin.display(description=gettext_lazy("payload"))
    def payload_decrypted(self, obj: OutboxMessage) -> str:
        return json.dumps(payload_of(obj), ensure_ascii=False)

    @admin.display(description=gettext_lazy("dedupe key"))
    def dedupe_key_redacted(self, obj: OutboxMessage) -> str:
        return _("(secret)") if obj.secret and obj.dedupe_key else (obj.dedupe_key or "")

    @admin.display(description=gettext_lazy("target"))
    def target(self, obj: OutboxMessage) -> str:
        if obj.scheduled_event_id:
            return _("scheduled event “%(name)s”") % {"name": obj.scheduled_event.name}
        if obj.channel_id:
            name = getattr(obj, "channel_id_name", None)
            if not hasattr(obj, "channel_id_name"):  # a change page's one row
                from guildsync.services.directory import names_for

                name = names_for("channel", [obj.channel_id]).get(obj.channel_id)
            return directory_label("channel", obj.channel_id, name)
        name = getattr(obj, "user_id_name", None)
        if not hasattr(obj, "user_id_name"):
            from guildsync.services.directory import names_for

            name = names_for("member", [obj.user_id]).get(obj.user_id)
        return format_html(_("member {}"), member_label(obj.user_id, name))

    @admin.display(description=gettext_lazy("last error"))
    def last_error_short(self, obj: OutboxMessage) -> str:
        return describe(obj)[:80]

    @admin.display(description=gettext_lazy("last error"))
    def last_error_described(self, obj: OutboxMessage) -> str:
        """The stored reason (English, as the worker wrote it) in the reader's language."""
        return describe(obj)

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

    @admin.action(description=gettext_lazy("Retry now"), permissions=["retry"])
    def retry_selected(self, request, queryset) -> None:
        count = retry_now(queryset)
        skipped = queryset.count() - count
        if settings.DISCORD_TOKEN:
            self.message_user(request, ngettext("%(count)s message queued for delivery now.",
                                                "%(count)s messages queued for delivery now.", count)
                              % {"count": count}, messages.SUCCESS)
        else:
            self.message_user(request, ngettext("%(count)s message queued again, but DISCORD_TOKEN is not set: "
                                                "nothing is sent until it is.",
                                                "%(count)s messages queued again, but DISCORD_TOKEN is not set: "
                                                "nothing is sent until it is.", count)
                              % {"count": count}, messages.WARNING)
        if skipped:
            self.message_user(request, ngettext("%(count)s already sent or withdrawn: left alone.",
                                                "%(count)s already sent or withdrawn: left alone.", skipped)
                              % {"count": skipped}, messages.WARNING)
