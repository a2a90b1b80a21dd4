"""Alliances and matches: the match page with its roster inline, results, locking, cancelling,
the draft and reposting the Discord messages."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from ark import services
from ark.models import (
    Alliance,
    Match,
    Signup,
)
from core.admin_tools import (
    MemberNamesMixin,
    ReadOnlyInline,
    confirm_first,
    member_column,
    run_for_each,
)

from .common import ServiceFormMixin, channel_label, fill_line, officer_context, run_service, teams_line


def signed_up_members(match: Match) -> list[str]:
    """Who a cancel, lock or publish reaches: the active sign-ups, governor and Discord member by name."""
    from core.admin_names import plain_label
    from guildsync.services.directory import names_for

    signups = list(match.signups.filter(status=Signup.Status.ACTIVE).select_related("governor")
                   .order_by("governor__name"))
    names = names_for("member", [s.discord_user_id for s in signups])
    return [f"{s.governor.name} ({plain_label('member', s.discord_user_id, names.get(s.discord_user_id))})"
            for s in signups]


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
            describe=lambda m, done: f"Recorded {result} for {done}: the match is completed "
                                     "and its confirmation message shows the result.",
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
    @confirm_first(title="Lock signups now?", affected=signed_up_members, button="Yes, lock and post the roster",
                   changes="Signups close now and the roster below is posted to the alliance's confirmation "
                           "channel in Discord.")
    def lock(self, request, queryset):
        run_service(self, request, queryset, "Locked", lambda m: services.lock_match(match_id=m.pk),
                    describe=lambda m, done: f"Locked {done}: {fill_line(done)}; signups are closed and the "
                                             f"confirmation message is queued for "
                                             f"{channel_label(done.alliance.confirmation_channel_id)}.")

    @admin.action(description="Cancel (DMs the signed-up members)", permissions=["change"])
    @confirm_first(title="Cancel these matches?", affected=signed_up_members, button="Yes, cancel and DM them",
                   changes="The match is cancelled for good (it cannot be reopened) and every member below "
                           "gets a DM saying so.")
    def cancel(self, request, queryset):
        members = {m.pk: len(signed_up_members(m)) for m in queryset}  # before: cancelling keeps the rows
        run_service(self, request, queryset, "Cancelled", lambda m: services.cancel_match(match_id=m.pk),
                    describe=lambda m, done: f"Cancelled {done}: {members.get(m.pk, 0)} signed-up member(s) "
                                             "will get a DM; their reminders are withdrawn.")

    @admin.action(description="Draft teams (locked matches)", permissions=["change"])
    def draft(self, request, queryset):
        run_for_each(
            self, request, queryset,
            lambda m: services.draft_teams(match_id=m.pk),
            describe=lambda m, plan: f"{m}: teams drafted, {plan.power1:,} vs {plan.power2:,} power "
                                     f"(gap {abs(plan.power1 - plan.power2):,}); nothing is posted until you "
                                     "publish the draft.",
            context=lambda: officer_context(request),
        )

    @admin.action(description="Publish the draft to the confirmation channel", permissions=["change"])
    @confirm_first(title="Publish the draft?", affected=signed_up_members, button="Yes, publish the teams",
                   changes="The drafted teams of the members below are posted to the alliance's confirmation "
                           "channel in Discord.")
    def publish_draft(self, request, queryset):
        run_service(self, request, queryset, "Draft published", lambda m: services.publish_draft(match_id=m.pk),
                    describe=lambda m, ref: f"Published the teams of {m} to "
                                            f"{channel_label(m.alliance.confirmation_channel_id)}: "
                                            f"{teams_line(m)}.")

    @admin.action(description="Repost the Discord messages", permissions=["change"])
    def repost(self, request, queryset):
        run_service(
            self, request, queryset, "Reposted", lambda m: services.repost_match_messages(match_id=m.pk),
            describe=lambda m, done: f"Reposting the Discord messages of {done}: the registration message to "
                                     f"{channel_label(done.alliance.registration_channel_id)}"
                                     + ("" if done.status == Match.Status.SCHEDULED else
                                        f", the confirmation message to "
                                        f"{channel_label(done.alliance.confirmation_channel_id)}") + ".",
        )
