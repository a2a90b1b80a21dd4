"""The Ark officers' admin. Every write goes through ``ark.services``: forms call a service
once the form itself is valid (``ServiceFormMixin``), actions call services and report
each outcome with ``message_user``. Rows owned by members (signups, reminder preferences) and
the audit log are read-only here."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from core.admin_tools import (
    ExtraViewsMixin,
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
from core.errors import DomainError
from guildsync.models import DiscordUser, Player

from . import services
from .models import (
    Alliance,
    ArkCalendar,
    ArkSettings,
    AuditLog,
    Ban,
    DraftConstraint,
    Governor,
    GovernorRecord,
    Match,
    ReminderPrefs,
    SentReminder,
    Signup,
)


def officer_context(request: HttpRequest):
    """Ark's audit rows record the officer twice: the Discord id in ``actor_discord_id`` (the
    column the admin shows by name) and the login in ``details.by``, for logins never
    connected to Discord."""
    return services.acting_as(request.user.get_username(), officers.discord_id(request.user))


class ServiceFormMixin(CoreServiceFormMixin):
    """Forms save through ``ark.services``, recording the officer as the actor."""

    def service_context(self, request):
        return officer_context(request)


def run_service(
    model_admin: admin.ModelAdmin, request: HttpRequest, queryset, label: str, call: Callable[[Any], Any]
) -> None:
    """``run_for_each`` with the officer recorded as the actor of every audit row."""
    run_for_each(model_admin, request, queryset, call, summary=f"{label}: {{n}} done.",
                 context=lambda: officer_context(request))


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
        text = f"missing {' and '.join(obj.missing_channels)}" if obj.missing_channels else "ok"
        if not obj.officer_channel_id:
            text += " · no officer channel (withdraw notices go to the confirmation channel: set Officer channel id)"
        return text

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
        "team",
        "attendance",
        "created_at",
    )
    ordering = ("slot", "team", "created_at", "id")
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
    actions = [
        "lock", "cancel", "repost", "draft", "publish_draft",
        *(_result_action(r) for r in ("Win", "Loss", "No-show")),
    ]
    readonly_fields = (
        "status",
        "result",
        "result_notes",
        "roster_version",
        "locked_at",
        "result_reminded_at",
        "draft_summary",
        "drafted_at",
        "draft_published_at",
        "scheduled_by_calendar",
        "created_by_discord_id",
        "created_at",
        "updated_at",
    )

    @admin.display(description="Team draft")
    def draft_summary(self, obj: Match) -> str:
        """Both teams with their totals (adjust with the Signups actions "Move to team 1/2")."""
        if obj.pk is None or obj.drafted_at is None:
            return "Not drafted yet (lock the match, then the action “Draft teams”)."
        totals = services.team_totals(obj.pk)
        roster = [s for s in services.get_roster(obj.pk) if s.slot == Signup.Slot.PLAYER]
        cells = format_html_join(
            "",
            '<td style="vertical-align:top;padding-right:2em"><strong>Team {} · {} players · {} power</strong>'
            "<ol>{}</ol></td>",
            (
                (team, totals[team][0], f"{totals[team][1]:,}",
                 format_html_join("", "<li>{} ({})</li>",
                                  ((s.governor.name, f"{s.governor.power or 0:,}") for s in roster if s.team == team)))
                for team in (1, 2)
            ),
        )
        gap = abs(totals[1][1] - totals[2][1])
        link = reverse("admin:ark_signup_changelist") + f"?match={obj.pk}&status__exact=Active"
        return format_html(
            '<table class="draft-summary"><tr>{}</tr></table><p>Gap: {} · <a href="{}">Adjust on the signups page</a></p>',
            cells, f"{gap:,}", link,
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

    @admin.action(description="Draft teams (locked matches)", permissions=["change"])
    def draft(self, request, queryset):
        run_for_each(
            self, request, queryset,
            lambda m: services.draft_teams(match_id=m.pk),
            describe=lambda m, plan: f"{m}: teams drafted, {plan.power1:,} vs {plan.power2:,} power.",
            context=lambda: officer_context(request),
        )

    @admin.action(description="Publish the draft to the confirmation channel", permissions=["change"])
    def publish_draft(self, request, queryset):
        run_service(self, request, queryset, "Draft published", lambda m: services.publish_draft(match_id=m.pk))

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


def _team_action(team: int):
    def action(model_admin, request, queryset):
        run_service(model_admin, request, queryset, f"Moved to team {team}",
                    lambda s: services.move_to_team(signup_id=s.pk, team=team))

    action.__name__ = f"move_to_team_{team}"
    return admin.action(description=f"Draft: move to team {team}", permissions=["roster"])(action)


def _attendance_action(value: str):
    label = Signup.Attendance(value).label

    def action(model_admin, request, queryset):
        run_service(model_admin, request, queryset.select_related("governor"), f"Marked {label}",
                    lambda s: services.set_attendance(match_id=s.match_id, governor_id=s.governor.governor_id,
                                                      attendance=value))

    action.__name__ = f"mark_{value}"
    return admin.action(description=f"Attendance: {label}", permissions=["roster"])(action)


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
    override_city_hall = forms.BooleanField(
        required=False, help_text="Sign up a governor below the alliance's minimum city hall (recorded as an override)."
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
        "team",
        "attendance",
        "power",
        "created_at",
    )
    list_filter = (
        "status", "slot", "source", "team", "attendance", "match__alliance", "ark_weekend_date", "match__status",
    )
    list_select_related = ("governor", "match__alliance")
    search_fields = ("governor__name", "=governor__governor_id", "=discord_user_id")
    autocomplete_fields = ("match", "governor")
    actions = [
        "remove",
        *(_slot_action(s) for s in Signup.Slot.values),
        *(_team_action(t) for t in (1, 2)),
        *(_attendance_action(a) for a in ("played", "no_show", "excused")),
    ]

    @admin.display(description="Power", ordering="governor__power")
    def power(self, obj: Signup) -> str:
        return f"{obj.governor.power:,}" if obj.governor.power is not None else "—"

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
            return ("match", "governor", "slot_choice", "override_ban", "override_city_hall")
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
            override_city_hall=bool(data.get("override_city_hall")),
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
        note = services.ban_coverage_note(obj)
        if note:
            self.message_user(request, note, messages.WARNING)
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


# --- the season: cadence, calendars, stats, draft, attendance ---------------------------------


@admin.register(ArkSettings)
class ArkSettingsAdmin(ServiceFormMixin, admin.ModelAdmin):
    """The installation's cadence: one row (Ark every N weekends from an anchor Saturday)."""

    list_display = ("__str__", "cadence_weekends", "anchor_weekend", "updated_at")
    fields = ("cadence_weekends", "anchor_weekend")

    # "Add" is allowed without a query (the admin home asks every model): the service writes the
    # one row (pk 1), so adding again just sets the cadence.

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def service_save(self, request, obj, data):
        return services.save_cadence(cadence_weekends=data["cadence_weekends"], anchor_weekend=data["anchor_weekend"])


class CalendarForm(forms.ModelForm):
    """Slots and skipped weekends typed as comma-separated text (validated by ``save_calendar``)."""

    slots_text = forms.CharField(
        label="Allowed slots",
        help_text="Day and UTC time, comma-separated, e.g. Sat 12:00, Sat 20:00, Sun 04:00. The first is the scheduler's.",
    )
    skipped_text = forms.CharField(
        label="Skipped weekends", required=False, help_text="Saturdays to sit out, e.g. 2026-12-26, 2027-01-09."
    )

    class Meta:
        model = ArkCalendar
        fields = (
            "alliance", "is_enabled", "close_days_before", "close_time_utc", "days_ahead",
            "nudge_time_utc", "quiet_start_utc", "quiet_end_utc",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["slots_text"].initial = ", ".join(self.instance.slots or [])
            self.fields["skipped_text"].initial = ", ".join(self.instance.skipped_weekends or [])


@admin.register(ArkCalendar)
class ArkCalendarAdmin(ServiceFormMixin, admin.ModelAdmin):
    form = CalendarForm
    list_display = ("alliance", "is_enabled", "slot_list", "close_rule", "days_ahead", "nudge_time_utc")
    list_select_related = ("alliance",)
    autocomplete_fields = ("alliance",)
    fields = (
        "alliance", "is_enabled", "slots_text", "close_days_before", "close_time_utc", "days_ahead",
        "skipped_text", "nudge_time_utc", "quiet_start_utc", "quiet_end_utc",
    )

    @admin.display(description="Slots")
    def slot_list(self, obj: ArkCalendar) -> str:
        return ", ".join(obj.slots or [])

    @admin.display(description="Signups close")
    def close_rule(self, obj: ArkCalendar) -> str:
        return f"{obj.close_days_before} day(s) before the Saturday, {obj.close_time_utc:%H:%M} UTC"

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # disable instead

    def service_save(self, request, obj, data):
        split = lambda text: [p.strip() for p in (text or "").split(",") if p.strip()]  # noqa: E731
        return services.save_calendar(
            alliance=data["alliance"],
            slots=split(data.get("slots_text")),
            skipped_weekends=split(data.get("skipped_text")),
            **{f: data.get(f) for f in (
                "close_days_before", "close_time_utc", "days_ahead", "is_enabled",
                "nudge_time_utc", "quiet_start_utc", "quiet_end_utc",
            )},
        )


class StatsUploadForm(forms.Form):
    file = forms.FileField(label="CSV export", help_text="At most 2 MB.")


def governor_record_html(governor: Governor) -> str:
    """The attendance record as a small inline SVG bar chart (no external assets)."""
    record = services.governor_record(governor)
    bars = [("Signed up", record.signed_up, "#417690"), ("Checked in", record.checked_in, "#79aec8"),
            ("Played", record.played, "#2e7d32"), ("No-show", record.no_show, "#c62828"),
            ("Excused", record.excused, "#9e9e9e")]
    top = max(v for _, v, _ in bars) or 1
    rows = format_html_join(
        "",
        '<g transform="translate(0,{})"><text x="0" y="15">{}</text>'
        '<rect x="90" y="3" width="{}" height="16" fill="{}"></rect><text x="{}" y="16">{}</text></g>',
        ((i * 24, label, round(300 * v / top), colour, round(300 * v / top) + 96, v)
         for i, (label, v, colour) in enumerate(bars)),
    )
    return format_html(
        '<svg class="attendance-chart" role="img" aria-label="Attendance record" width="440" height="{}" '
        'xmlns="http://www.w3.org/2000/svg" style="font:12px sans-serif">{}</svg>',
        24 * len(bars), rows,
    )


@admin.register(Governor)
class GovernorAdmin(ExtraViewsMixin, MemberNamesMixin, ServiceFormMixin, admin.ModelAdmin):
    extra_views = (("import-stats/", "import_stats_view", "import_stats"),)
    member_fields = ("discord_user_id",)
    list_display = (
        "name", "governor_id", member_column("discord_user_id", "owner"), "power", "kill_points", "city_hall", "troop_tier",
        "stats_updated_at", "suggested_ban",
    )
    search_fields = ("name", "=governor_id", "=discord_user_id")
    list_filter = ("city_hall",)
    readonly_fields = ("power", "kill_points", "city_hall", "troop_tier", "stats_updated_at", "attendance_record")

    def get_fields(self, request, obj=None):
        base = ("governor_id", "name", "discord_user_id")
        return base if obj is None else (*base, *self.readonly_fields)

    _page = threading.local()  # this request's ban suggestions (the admin instance is shared by threads)

    def changelist_view(self, request, extra_context=None):
        self._page.suggestions = {s.governor.pk: s for s in services.no_show_suggestions()}
        return super().changelist_view(request, extra_context)

    @admin.display(description="No-show rule")
    def suggested_ban(self, obj: Governor) -> str:
        """A link to the ban form, pre-filled; an officer decides (nothing is banned here)."""
        suggestion = getattr(self._page, "suggestions", {}).get(obj.pk)
        if suggestion is None:
            return "—"
        url = reverse("admin:ark_ban_add") + "?" + urlencode(
            {"governor_id": obj.governor_id, "discord_user_id": obj.discord_user_id,
             "reason": suggestion.reason, "weekends": 1}
        )
        return format_html('<a class="suggest-ban" href="{}">Suggest a ban: {}</a>', url, suggestion.reason)

    @admin.display(description="Attendance record")
    def attendance_record(self, obj: Governor) -> str:
        return governor_record_html(obj)

    def service_save(self, request, obj, data):
        return services.register_governor(
            governor_id=data["governor_id"],
            name=data["name"],
            discord_user_id=data["discord_user_id"],
            as_officer=True,
        )

    def get_readonly_fields(self, request, obj=None):
        return ("governor_id", *self.readonly_fields) if obj else ()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def import_stats_view(self, request: HttpRequest) -> HttpResponse:
        """Upload the stats CSV; the page reports every row (updated, unchanged, refused and why)."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        report = None
        form = StatsUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                with officer_context(request):
                    report = services.import_governor_stats(data=upload.read(services.MAX_IMPORT_BYTES + 1))
                self.message_user(request, f"Stats import: {report}.", messages.SUCCESS)
            except DomainError as exc:
                form.add_error("file", str(exc))
        return TemplateResponse(request, "admin/ark/import_stats.html", {
            **self.admin_site.each_context(request), "title": "Import governor stats", "form": form,
            "report": report, "opts": self.model._meta,
        })


@admin.register(DraftConstraint)
class DraftConstraintAdmin(ServiceFormMixin, admin.ModelAdmin):
    list_display = ("__str__", "match", "kind", "governor", "other", "team")
    list_filter = ("kind",)
    list_select_related = ("match__alliance", "governor", "other")
    autocomplete_fields = ("governor", "other")
    raw_id_fields = ("match",)
    fields = ("match", "kind", "governor", "other", "team")
    actions = ["remove"]

    def get_readonly_fields(self, request, obj=None):
        return self.fields if obj else ()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the "Remove" action goes through the service (audited)

    def service_save(self, request, obj, data):
        if obj is not None:
            return obj
        return services.add_draft_constraint(
            match_id=data["match"].pk, kind=data["kind"], governor_id=data["governor"].governor_id,
            other_governor_id=data["other"].governor_id if data.get("other") else None, team=data.get("team"),
        )

    @admin.action(description="Remove these constraints", permissions=["change"])
    def remove(self, request, queryset):
        run_service(self, request, queryset, "Removed",
                    lambda c: services.remove_draft_constraint(constraint_id=c.pk))


@admin.register(GovernorRecord)
class GovernorRecordAdmin(ReadOnlyAdmin):
    list_display = ("governor", "signed_up", "checked_in", "played", "no_show", "excused", "updated_at")
    list_select_related = ("governor",)
    search_fields = ("governor__name", "=governor__governor_id")
