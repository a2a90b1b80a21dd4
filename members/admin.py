"""Officers' calendar pages: the public feed switches (saved through the services) and a read-only
list of members' private feeds, from which an officer can revoke one (e.g. a leaked URL)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin_names import MemberNamesMixin, member_column
from core.errors import DomainError
from members import services
from members.models import CalendarToken, PublicFeed


@admin.register(PublicFeed)
class PublicFeedAdmin(admin.ModelAdmin):
    list_display = ("__str__", "kind", "alliance", "enabled", "url")
    list_filter = ("kind", "enabled")
    fields = ("kind", "alliance", "enabled")

    @admin.display(description=_("Public URL"))
    def url(self, obj: PublicFeed) -> str:
        if obj.kind == PublicFeed.Kind.RAIDS:
            return services.public_url("raids")
        return services.public_url("ark", obj.alliance_id)

    def save_model(self, request: HttpRequest, obj: PublicFeed, form, change: bool) -> None:
        try:
            saved = services.set_public_feed(obj.kind, enabled=obj.enabled, alliance_id=obj.alliance_id)
        except DomainError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        obj.pk = saved.pk


@admin.register(CalendarToken)
class CalendarTokenAdmin(MemberNamesMixin, admin.ModelAdmin):
    member_fields = ("discord_user_id",)
    member = staticmethod(member_column("discord_user_id"))
    list_display = ("member", "prefix", "rotated_at", "last_used_at")
    search_fields = ("discord_user_id",)
    readonly_fields = ("member", "prefix", "created_at", "rotated_at", "last_used_at")
    exclude = ("token_hash", "discord_user_id")
    actions = ("revoke",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # members make their own (/calendar) or an officer runs manage.py calendar_url

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # revoke (below) goes through the service

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        """Revoking writes (through the service): officers who may change feeds, not viewers."""
        return request.user.has_perm("members.change_calendartoken")

    @admin.action(description=_("Revoke the selected calendar feeds (their URLs stop working)"),
                  permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[CalendarToken]) -> None:
        done = sum(services.revoke_token(t.discord_user_id) for t in queryset)
        self.message_user(request, ngettext("Revoked %(count)s calendar feed.", "Revoked %(count)s calendar feeds.", done)
                          % {"count": done}, messages.SUCCESS)
