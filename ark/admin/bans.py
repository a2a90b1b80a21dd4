"""Bans: add (N weekends or until a date), list by state, revoke."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.utils import timezone

from ark import services
from ark.models import (
    Ban,
    Governor,
    Signup,
)
from core.admin_tools import (
    MemberNamesMixin,
    member_column,
)
from guildsync.models import DiscordUser, Player

from .common import ServiceFormMixin, run_service


class BanStatusFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", "Active (in force)"), ("expired", "Expired"), ("revoked", "Revoked")]

    def queryset(self, request, queryset):
        current = services.ark_weekend_of(timezone.now().date())
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True, ends_on__gte=current)
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, ends_on__lt=current)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


class BanForm(forms.ModelForm):
    """The target is picked by name: a member of the directory and/or a registered governor.
    The raw id fields stay for someone the project has never seen."""

    member = forms.ModelChoiceField(
        DiscordUser.objects.all(), required=False, label="Discord member",
        widget=AutocompleteSelect(Player._meta.get_field("discord_user"), admin.site),
        help_text="Bans the member, whichever governor they sign up with.",
    )
    governor = forms.ModelChoiceField(
        Governor.objects.all(), required=False, label="Governor",
        widget=AutocompleteSelect(Signup._meta.get_field("governor"), admin.site),
        help_text="Bans this in-game account, whoever signs it up.",
    )
    weekends = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=104,
        help_text="Ban for the next N Ark weekends (the current one included) …",
    )
    until_date = forms.DateField(required=False, help_text="… or until this date.")

    class Meta:
        model = Ban
        fields = ("discord_user_id", "governor_id", "reason")
        labels = {"discord_user_id": "… or a Discord id", "governor_id": "… or an in-game governor id"}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for picked, field, attribute in (("member", "discord_user_id", "discord_id"),
                                         ("governor", "governor_id", "governor_id")):
            choice = data.get(picked)
            if choice is None:
                continue
            value = getattr(choice, attribute)
            if data.get(field) not in (None, value):
                self.add_error(field, "Pick the target or type its id, not two different ones.")
            data[field] = value
        return data


@admin.register(Ban)
class BanAdmin(MemberNamesMixin, ServiceFormMixin, admin.ModelAdmin):
    form = BanForm
    member_fields = ("discord_user_id",)
    list_display = (  # the reason beside who, visible at 1280 px (tests/core/test_browser_layout.py)
        "ban_link",
        member_column("discord_user_id"),
        "governor_id",
        "reason",
        "starts_weekend",
        "ends_on",
        "revoked_at",
    )
    list_filter = (BanStatusFilter,)

    @admin.display(description="ban", ordering="starts_weekend")
    def ban_link(self, obj) -> str:
        return f"{obj.starts_weekend:%d %b}–{obj.ends_on:%d %b %Y}" + (" (revoked)" if obj.revoked_at else "")
    search_fields = ("=discord_user_id", "=governor_id", "reason")
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("member", "discord_user_id", "governor", "governor_id", "reason", "weekends", "until_date")
        return [f.name for f in Ban._meta.fields if f.name != "id"]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj) if obj else ()

    def service_save(self, request, obj, data):
        if obj is not None:
            return obj
        return services.add_ban(
            discord_user_id=data.get("discord_user_id"),
            governor_id=data.get("governor_id"),
            reason=data.get("reason", ""),
            weekends=data.get("weekends"),
            until_date=data.get("until_date"),
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoke instead: the audit log keeps the history

    def response_add(self, request, obj, post_url_continue=None):
        note = services.ban_coverage_note(obj)
        if note:
            self.message_user(request, note, messages.WARNING)
        return super().response_add(request, obj, post_url_continue)

    @admin.action(description="Revoke", permissions=["change"])
    def revoke(self, request, queryset):
        run_service(self, request, queryset, "Revoked", lambda b: services.revoke_ban(ban_id=b.pk))
