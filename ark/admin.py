"""The Ark officers' admin. Every write goes through ``ark.services``: forms call a service
once the form itself is valid (``ServiceFormMixin``), actions call services and report
each outcome with ``message_user``. Rows owned by members (signups, reminder preferences) and
the audit log are read-only here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils import timezone

from core.admin_tools import (
    HumanizedValuesFilter,
    MemberNamesMixin,
    ReadOnlyAdmin,
    ReadOnlyInline,
    humanize_code,
    member_column,
    member_label,
    run_for_each,
)
from core.admin_tools import ServiceFormMixin as CoreServiceFormMixin
from core.discord_signin import officers
from guildsync.models import DiscordUser, Player

from . import services
from .models import Alliance, AuditLog, Ban, Governor, Match, ReminderPrefs, SentReminder, Signup


class ServiceFormMixin(CoreServiceFormMixin):
    """Forms save through ``ark.services``, recording the officer as the actor."""

    def service_context(self, request):
        return services.acting_as(request.user.get_username(), officers.discord_id(request.user))


def run_service(
    model_admin: admin.ModelAdmin, request: HttpRequest, queryset, label: str, call: Callable[[Any], Any]
) -> None:
    """``run_for_each`` with the officer recorded as the actor of every audit row."""
    run_for_each(model_admin, request, queryset, call, summary=f"{label}: {{n}} done.",
                 context=lambda: services.acting_as(request.user.get_username(), officers.discord_id(request.user)))


@admin.register(Alliance)
class AllianceAdmin(ServiceFormMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "is_active",
        "channels",
        "registration_channel_id",
        "confirmation_channel_id",
        "player_cap",
        "sub_cap",
    )
    list_filter = ("is_active",)
    search_fields = ("name",)

    @admin.display(description="Channels")
    def channels(self, obj: Alliance) -> str:
        return f"missing {' and '.join(obj.missing_channels)}" if obj.missing_channels else "ok"

    def service_save(self, request, obj, data):
        fields = (
            "name",
            "registration_channel_id",
            "confirmation_channel_id",
            "officer_channel_id",
            "is_active",
            "player_cap",
            "sub_cap",
            "min_city_hall",
            "no_show_threshold",
            "no_show_window",
        )
        return services.save_alliance(alliance_id=obj.pk if obj else None, **{f: data.get(f) for f in fields})

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # matches keep their alliance; deactivate instead


@admin.register(Governor)
class GovernorAdmin(MemberNamesMixin, ServiceFormMixin, admin.ModelAdmin):
    member_fields = ("discord_user_id",)
    list_display = ("name", "governor_id", member_column("discord_user_id", "owner"), "updated_at")
    search_fields = ("name", "=governor_id", "=discord_user_id")

    def service_save(self, request, obj, data):
        return services.register_governor(
            governor_id=data["governor_id"],
            name=data["name"],
            discord_user_id=data["discord_user_id"],
            as_officer=True,
        )

    def get_readonly_fields(self, request, obj=None):
        return ("governor_id",) if obj else ()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class SignupInline(MemberNamesMixin, ReadOnlyInline):
    model = Signup
    member_fields = ("discord_user_id",)
    fields = readonly_fields = (
        "governor",
        member_column("discord_user_id"),
        "slot",
        "status",
        "source",
        "checked_in_at",
        "created_at",
    )
    ordering = ("slot", "created_at", "id")
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("governor")


def _result_action(result: str):
    def action(model_admin, request, queryset):
        run_service(
            model_admin,
            request,
            queryset,
            f"Result {result}",
            lambda m: services.set_match_result(match_id=m.pk, result=result),
        )

    action.__name__ = f"set_result_{result.lower().replace('-', '_')}"
    return admin.action(description=f"Set result: {result}", permissions=["change"])(action)


@admin.register(Match)
class MatchAdmin(ServiceFormMixin, admin.ModelAdmin):
    list_display = (
        "__str__",
        "alliance",
        "ark_weekend_date",
        "match_day",
        "match_time_utc",
        "status",
        "players",
        "subs",
        "result",
    )
    list_filter = ("status", "match_day", "result", "alliance")
    list_select_related = ("alliance",)
    search_fields = ("alliance__name", "notes")
    autocomplete_fields = ("alliance",)
    date_hierarchy = "ark_weekend_date"
    inlines = [SignupInline]
    actions = ["lock", "cancel", "repost", *(_result_action(r) for r in ("Win", "Loss", "No-show"))]
    readonly_fields = (
        "status",
        "result",
        "result_notes",
        "roster_version",
        "locked_at",
        "result_reminded_at",
        "created_by_discord_id",
        "created_at",
        "updated_at",
    )

    def get_queryset(self, request):
        active = Q(signups__status=Signup.Status.ACTIVE)
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_players=Count("signups", filter=active & Q(signups__slot=Signup.Slot.PLAYER)),
                n_subs=Count("signups", filter=active & Q(signups__slot=Signup.Slot.SUB)),
            )
        )

    @admin.display(description="Players", ordering="n_players")
    def players(self, obj) -> int:
        return obj.n_players

    @admin.display(description="Subs", ordering="n_subs")
    def subs(self, obj) -> int:
        return obj.n_subs

    RESULT_FIELDS = ("result", "result_notes")

    @staticmethod
    def records_result(obj: Match | None) -> bool:
        """Once a locked match has started, its page records the result (set_match_result);
        before, it amends the schedule (amend_match): one service per save."""
        return (
            obj is not None
            and obj.status in (Match.Status.LOCKED, Match.Status.COMPLETED)
            and obj.match_time_utc <= timezone.now()
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        if obj.status == Match.Status.CANCELLED or self.records_result(obj):
            editable = self.RESULT_FIELDS if self.records_result(obj) else ()
            schedule = ("alliance", "ark_weekend_date", "match_day", "match_time_utc", "signup_close_utc", "notes")
            return (*schedule, *(f for f in self.readonly_fields if f not in editable))
        return ("ark_weekend_date", *self.readonly_fields)

    def service_save(self, request, obj, data):
        if obj is not None and obj.status == Match.Status.CANCELLED:
            return obj  # nothing editable
        if self.records_result(obj):
            return services.set_match_result(
                match_id=obj.pk, result=data.get("result", ""), result_notes=data.get("result_notes", "")
            )
        if obj is None:
            return services.create_match(
                alliance=data["alliance"],
                ark_weekend_date=data["ark_weekend_date"],
                match_day=data["match_day"],
                match_time_utc=data["match_time_utc"],
                signup_close_utc=data["signup_close_utc"],
                notes=data.get("notes", ""),
            )
        return services.amend_match(
            match_id=obj.pk,
            match_day=data["match_day"],
            match_time_utc=data["match_time_utc"],
            signup_close_utc=data["signup_close_utc"],
            notes=data.get("notes", ""),
            alliance=data["alliance"],
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # cancel instead: members are told by DM

    @admin.action(description="Lock signups now (posts the confirmation)", permissions=["change"])
    def lock(self, request, queryset):
        run_service(self, request, queryset, "Locked", lambda m: services.lock_match(match_id=m.pk))

    @admin.action(description="Cancel (DMs the signed-up members)", permissions=["change"])
    def cancel(self, request, queryset):
        run_service(self, request, queryset, "Cancelled", lambda m: services.cancel_match(match_id=m.pk))

    @admin.action(description="Repost the Discord messages", permissions=["change"])
    def repost(self, request, queryset):
        run_service(
            self, request, queryset, "Reposted", lambda m: services.repost_match_messages(match_id=m.pk)
        )


def _slot_action(slot: str):
    def action(model_admin, request, queryset):
        queryset = queryset.select_related("governor")
        run_service(
            model_admin,
            request,
            queryset,
            f"Moved to {slot}",
            lambda s: services.move_signup_slot(
                match_id=s.match_id, governor_id=s.governor.governor_id, slot_type=slot
            ),
        )

    action.__name__ = f"move_to_{slot.lower()}"
    return admin.action(description=f"Move to {slot}", permissions=["roster"])(action)


class SignupAddForm(forms.ModelForm):
    """An officer signs a member's governor up (``add_signup`` with ``as_officer``): after the
    close, as Sub before the players are full, and past a ban only when ticked (audited)."""

    slot_choice = forms.ChoiceField(
        label="Slot",
        required=False,
        choices=[("", "First free (Player, then Sub)"), *Signup.Slot.choices],
    )
    override_ban = forms.BooleanField(
        required=False, help_text="Sign up a banned member or governor anyway (recorded as an override)."
    )

    class Meta:
        model = Signup
        fields = ("match", "governor")


@admin.register(Signup)
class SignupAdmin(MemberNamesMixin, ServiceFormMixin, ReadOnlyAdmin):
    form = SignupAddForm
    member_fields = ("discord_user_id",)
    list_display = (
        "governor",
        "match",
        "slot",
        "status",
        "source",
        "checked_in_at",
        member_column("discord_user_id"),
        "created_at",
    )
    list_filter = ("status", "slot", "source", "match__alliance", "ark_weekend_date", "match__status")
    list_select_related = ("governor", "match__alliance")
    search_fields = ("governor__name", "=governor__governor_id", "=discord_user_id")
    autocomplete_fields = ("match", "governor")
    actions = ["remove", *(_slot_action(s) for s in Signup.Slot.values)]

    @admin.action(description="Remove from the roster (officer)", permissions=["roster"])
    def remove(self, request, queryset):
        run_service(
            self,
            request,
            queryset.select_related("governor"),
            "Removed",
            lambda s: services.remove_signup(
                match_id=s.match_id,
                governor_id=s.governor.governor_id,
                status=Signup.Status.REMOVED,
                as_officer=True,
            ),
        )

    def has_roster_permission(self, request) -> bool:
        """The roster actions (services) need the signup change permission; the rows
        themselves stay read-only."""
        return request.user.has_perm("ark.change_signup")

    def has_add_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("ark.add_signup")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("match", "governor", "slot_choice", "override_ban")
        return [f.name for f in Signup._meta.fields if f.name != "id"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:  # the view-only page: a plain form of the read-only fields
            kwargs["form"] = forms.ModelForm
        return super().get_form(request, obj, change, **kwargs)

    def service_save(self, request, obj, data):
        if obj is not None:
            return obj  # view only
        governor = data["governor"]
        return services.add_signup(
            match_id=data["match"].pk,
            governor_id=governor.governor_id,
            discord_user_id=governor.discord_user_id,
            slot_type=data.get("slot_choice") or None,
            as_officer=True,
            override_ban=bool(data.get("override_ban")),
        )


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
    list_display = (
        "__str__",
        member_column("discord_user_id"),
        "governor_id",
        "starts_weekend",
        "ends_on",
        "revoked_at",
        "reason",
    )
    list_filter = (BanStatusFilter,)
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
        still_in = services.signups_covered_by(obj)
        if still_in:
            self.message_user(
                request,
                "Still signed up: "
                + ", ".join(f"{s.governor.name} in {s.match}" for s in still_in[:10])
                + ". A ban refuses new signups; remove these from Signups if they should not play.",
                messages.WARNING,
            )
        return super().response_add(request, obj, post_url_continue)

    @admin.action(description="Revoke", permissions=["change"])
    def revoke(self, request, queryset):
        run_service(self, request, queryset, "Revoked", lambda b: services.revoke_ban(ban_id=b.pk))


@admin.register(ReminderPrefs)
class ReminderPrefsAdmin(MemberNamesMixin, ReadOnlyAdmin):
    member_fields = ("discord_user_id",)
    list_display = (member_column("discord_user_id"), "dm_enabled", "disabled_types", "updated_at")
    list_filter = ("dm_enabled",)
    search_fields = ("=discord_user_id",)


@admin.register(SentReminder)
class SentReminderAdmin(MemberNamesMixin, ReadOnlyAdmin):
    member_fields = ("target_id",)
    list_display = ("reminder_type", member_column("target_id", "to"), "match", "scheduled_for", "status",
                    "created_at")
    list_filter = ("status", "reminder_type")
    list_select_related = ("match__alliance",)
    search_fields = ("=target_id",)
    raw_id_fields = ("match", "outbox")


@admin.register(AuditLog)
class AuditLogAdmin(MemberNamesMixin, ReadOnlyAdmin):
    member_fields = ("actor_discord_id",)
    list_display = ("created_at", "action_label", "actor", "match", "is_override", "details")
    list_filter = (("action", HumanizedValuesFilter), "is_override")
    list_select_related = ("match__alliance",)
    search_fields = ("action", "=actor_discord_id", "details__by", "match__alliance__name")
    date_hierarchy = "created_at"
    raw_id_fields = ("match", "signup")

    @admin.display(description="action", ordering="action")
    def action_label(self, obj: AuditLog) -> str:
        return humanize_code(obj.action)

    @admin.display(description="by", ordering="actor_discord_id_name")
    def actor(self, obj: AuditLog) -> str:
        """The member who acted in Discord, else the officer who acted in the admin, else the scheduler."""
        if obj.actor_discord_id:
            return member_label(obj.actor_discord_id, obj.actor_discord_id_name)
        return (obj.details or {}).get("by") or "scheduler"
