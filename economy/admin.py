"""The "Economy moderators" admin. Balances, transactions, memberships and cases are read
only here: they change through services (adjust balance, remove from squad, resolve case)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Case, CharField, Count, QuerySet, Value, When
from django.db.models.functions import Substr
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy

from core import i18n
from core.admin_names import plain_label
from core.admin_tools import (
    DomainErrorPagesMixin,
    ExtraViewsMixin,
    MemberNamesMixin,
    ReadOnlyAdmin,
    SaysWhatChangedMixin,
    actor_column,
    confirm_first,
    directory_column,
    has_model_permission,
    member_column,
    member_label,
    run_for_each,
    server_filter,
)
from core.discord_signin import officers
from economy import privacy, services
from economy.automod_form import TYPE_FIELDS, WHAT_IT_CATCHES, AutoModRuleForm
from economy.models import (
    AutoModRule,
    BytesBalance,
    BytesConfig,
    BytesTransaction,
    ModerationAction,
    ModerationCase,
    RoleRewardGrant,
    Squad,
    SquadMembership,
)
from economy.services import EconomyError
from guildsync.services.directory import names_for

SERVER = directory_column("server", "guild_id", gettext_lazy("server"))
MEMBER = member_column("user_id", gettext_lazy("member"))
SERVER_FILTER = server_filter(title=gettext_lazy("server"))


class SettingsAdmin(SaysWhatChangedMixin, DomainErrorPagesMixin, MemberNamesMixin, admin.ModelAdmin):
    """Officer-edited settings, validated and saved by ``services.save_settings``."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        services.save_settings(obj)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        services.delete_settings([obj])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        services.delete_settings(list(queryset))


# -- balances --------------------------------------------------------------------------------
class AdjustBalanceForm(forms.Form):
    amount = forms.IntegerField(label=gettext_lazy("Amount"), min_value=-services.MAX_BALANCE,
                                max_value=services.MAX_BALANCE, help_text=gettext_lazy("Positive credits, negative debits."))
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=500, widget=forms.TextInput(attrs={"size": 60}))


@admin.register(BytesBalance)
class BytesBalanceAdmin(ExtraViewsMixin, MemberNamesMixin, admin.ModelAdmin):
    extra_views = (("leaderboard/", "leaderboard_view", "leaderboard"),)
    member_fields = ("user_id",)
    server_fields = ("guild_id",)
    list_display = (MEMBER, "balance", "total_received", "total_sent", "streak_count", "last_daily",
                    SERVER)
    list_filter = (SERVER_FILTER,)
    search_fields = ("=user_id",)
    ordering = ("-balance", "user_id")
    fields = (MEMBER, SERVER, "user_id", "balance",
              "total_received", "total_sent", "last_daily", "streak_count", "last_transfer_at", "created_at",
              "updated_at")
    readonly_fields = (MEMBER, SERVER, "user_id", "balance", "total_received", "total_sent", "last_daily",
                       "streak_count", "last_transfer_at", "created_at", "updated_at")
    actions = ["adjust_balance"]
    change_list_template = "admin/economy/bytesbalance/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=gettext_lazy("Adjust balance (logged as a transaction)"), permissions=["change"])
    def adjust_balance(self, request: HttpRequest, queryset: QuerySet[BytesBalance]) -> HttpResponse | None:
        form = AdjustBalanceForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            amount, reason = form.cleaned_data["amount"], form.cleaned_data["reason"]
            run_for_each(self, request, queryset, lambda b: services.adjust_balance(
                b.guild_id, b.user_id, amount, reason, officer=officers.actor(request.user)),
                summary=_("Adjusted {n} balance(s) by %(amount)s bytes.") % {
                    "amount": ("+" if amount > 0 else "") + i18n.number(amount)})
            return None
        balances = list(queryset)
        for row in balances:
            row.balance_shown = i18n.number(row.balance)  # as the officer writes numbers
        return TemplateResponse(request, "admin/economy/adjust_balance.html", {
            **self.admin_site.each_context(request), "title": _("Adjust balances"), "form": form,
            "balances": balances, "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        })

    def leaderboard_view(self, request: HttpRequest) -> HttpResponse:
        """Top balances of a guild as an inline SVG bar chart (no external assets)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        guild_ids = list(BytesBalance.objects.order_by("guild_id").values_list("guild_id", flat=True).distinct())
        servers = names_for("server", guild_ids)
        guilds = [(g, plain_label("server", g, servers.get(g))) for g in guild_ids]
        try:
            guild_id = int(request.GET.get("guild_id") or (guild_ids[0] if guild_ids else 0))
        except ValueError:
            guild_id = 0
        board = services.get_leaderboard(guild_id, limit=15)
        top = max((b.balance for b in board), default=0) or 1
        names = names_for("member", [b.user_id for b in board])
        bars = [{"rank": i + 1, "user_id": b.user_id, "name": plain_label("member", b.user_id, names.get(b.user_id)),
                 "balance": i18n.number(b.balance), "y": i * 28,
                 "width": round(560 * b.balance / top)} for i, b in enumerate(board)]
        return TemplateResponse(request, "admin/economy/leaderboard.html", {
            **self.admin_site.each_context(request), "title": _("Bytes leaderboard"), "opts": self.model._meta,
            "guilds": guilds, "guild_id": guild_id, "bars": bars, "height": max(28, 28 * len(bars)),
        })


OFFICER_PREFIX = "Officer "  # stored, never shown as is: the bank's side of an officer's correction: "Officer <actor>" (services.adjust_balance)


def transaction_side(field: str, stored: str, description: str):
    """One side of a transaction: the member by current name; the bank's side of an officer's
    correction as "Officer <current name>" when the officer was recorded by Discord id."""
    member = member_column(field, description, stored_name=stored)

    @admin.display(description=description, ordering=f"{field}_name")
    def column(obj: BytesTransaction) -> str:
        officer = getattr(obj, f"{stored}_officer_name", None)
        if officer:
            return member_label(getattr(obj, f"{stored}_officer_as_id"), _("Officer %(name)s") % {"name": officer})
        return member(obj)

    column.__name__ = f"{field}_side"
    return column


@admin.register(BytesTransaction)
class BytesTransactionAdmin(MemberNamesMixin, ReadOnlyAdmin):
    """Each side by the member's current name (the name stored with the transaction when the
    directory does not know them, e.g. the bank; an officer's correction by the officer's
    current name), all in the changelist's one query."""

    member_fields = ("giver_id", "receiver_id")
    server_fields = ("guild_id",)
    list_display = ("created_at", "kind", transaction_side("giver_id", "giver_username", pgettext_lazy("bytes transaction", "from")),
                    transaction_side("receiver_id", "receiver_username", pgettext_lazy("bytes transaction", "to")), "amount", "reason", SERVER)
    list_filter = ("kind", SERVER_FILTER, "created_at")
    search_fields = ("giver_username", "receiver_username", "=giver_id", "=receiver_id", "reason")
    date_hierarchy = "created_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[BytesTransaction]:
        from guildsync.services.members import actor_id_expression, name_expression

        queryset = super().get_queryset(request)
        for stored in ("giver_username", "receiver_username"):
            queryset = queryset.annotate(**{f"{stored}_officer": Case(
                When(**{f"{stored}__startswith": OFFICER_PREFIX}, then=Substr(stored, len(OFFICER_PREFIX) + 1)),
                default=Value(""), output_field=CharField())})
            queryset = queryset.annotate(**{f"{stored}_officer_as_id": actor_id_expression(f"{stored}_officer")})
            queryset = queryset.annotate(**{f"{stored}_officer_name": name_expression(f"{stored}_officer_as_id")})
        return queryset


@admin.register(BytesConfig)
class BytesConfigAdmin(SettingsAdmin):
    server_fields = ("guild_id",)
    list_display = ("__str__", "starting_balance", "daily_amount", "max_transfer", "transfer_cooldown_hours")
    search_fields = ("=guild_id",)
    readonly_fields = ("role_rewards_by_name",)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.base_fields["role_rewards"].label = _("Role rewards by role id")  # shown by name just below
        return form

    @admin.display(description=gettext_lazy("role rewards by name"))
    def role_rewards_by_name(self, obj: BytesConfig) -> str:
        """The role rewards as officers read them (the JSON box above keeps the role ids)."""
        rewards = obj.role_rewards or {}
        if not rewards:
            return "—"
        roles = names_for("role", rewards)
        line = _("%(role)s: at %(amount)s bytes") % {"role": "{}", "amount": "{}"}
        return format_html_join(mark_safe("<br>"), line, ((plain_label("role", rid, roles.get(int(rid))),
                                                           i18n.number(int(bytes_))) for rid, bytes_ in rewards.items()))


ROLE = directory_column("role", "role_id", gettext_lazy("Discord role"))


@admin.register(RoleRewardGrant)
class RoleRewardGrantAdmin(MemberNamesMixin, ReadOnlyAdmin):
    member_fields = ("user_id",)
    role_fields = ("role_id",)
    server_fields = ("guild_id",)
    list_display = (MEMBER, ROLE, "threshold", "granted_at", SERVER)
    list_filter = (SERVER_FILTER,)
    fields = readonly_fields = (MEMBER, ROLE, "threshold", "granted_at", SERVER, "user_id", "role_id")
    search_fields = ("=user_id", "=role_id")


# -- squads ----------------------------------------------------------------------------------
@admin.register(Squad)
class SquadAdmin(SettingsAdmin):
    server_fields = ("guild_id",)
    role_fields = ("role_id",)
    list_display = ("name", ROLE, "member_count", "max_members",
                    "switch_cost", "is_default", "is_active", SERVER)
    list_filter = (SERVER_FILTER, "is_active", "is_default")
    search_fields = ("name", "=role_id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Squad]:
        return super().get_queryset(request).annotate(member_count=Count("memberships"))

    @admin.display(description=gettext_lazy("members"), ordering="member_count")
    def member_count(self, obj: Squad) -> int:
        return obj.member_count


@admin.register(SquadMembership)
class SquadMembershipAdmin(MemberNamesMixin, ReadOnlyAdmin):
    member_fields = ("user_id",)
    server_fields = ("guild_id",)
    list_display = (MEMBER, "squad", "joined_at", SERVER)
    list_filter = ("squad",)
    list_select_related = ("squad",)
    search_fields = ("=user_id", "squad__name")
    actions = ["remove_from_squad"]

    def has_remove_permission(self, request: HttpRequest) -> bool:
        return has_model_permission(request, SquadMembership, "delete")

    @admin.action(description=gettext_lazy("Remove from squad (removes the Discord role)"), permissions=["remove"])
    def remove_from_squad(self, request: HttpRequest, queryset: QuerySet[SquadMembership]) -> None:
        run_for_each(self, request, queryset.select_related("squad"),
                     lambda m: services.leave_squad(m.guild_id, m.user_id),
                     summary=_("Removed {n} member(s) from their squad."))


# -- moderation ------------------------------------------------------------------------------
class CaseStateFilter(admin.SimpleListFilter):
    title = pgettext_lazy("moderation", "state")
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("open", pgettext("moderation", "Open")), ("expired", _("Expired, not yet resolved")), ("resolved", _("Resolved"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[ModerationCase]) -> QuerySet[ModerationCase]:
        if self.value() == "open":
            return queryset.filter(resolved=False)
        if self.value() == "expired":
            return queryset.filter(resolved=False, expires_at__lte=timezone.now())
        if self.value() == "resolved":
            return queryset.filter(resolved=True)
        return queryset


@admin.register(ModerationCase)
class ModerationCaseAdmin(MemberNamesMixin, ReadOnlyAdmin):
    """Member and moderator by their current names (the tag stored when the case was opened
    when the directory does not know them: auto-moderation's moderator is 0)."""

    member_fields = ("user_id", "moderator_id")
    actor_fields = ("resolved_by",)
    list_display = ("created_at", "action", member_column("user_id", gettext_lazy("member"), stored_name="user_tag"),
                    member_column("moderator_id", gettext_lazy("moderator"), stored_name="moderator_tag"), "reason_shown",
                    "expires_at", "resolved", actor_column("resolved_by", gettext_lazy("resolved by")))
    list_filter = (CaseStateFilter, "action", SERVER_FILTER)
    list_select_related = ("rule",)
    search_fields = ("user_tag", "=user_id", "moderator_tag", "reason")
    date_hierarchy = "created_at"
    actions = ["resolve"]

    def has_resolve_permission(self, request: HttpRequest) -> bool:
        return has_model_permission(request, ModerationCase, "change")

    @admin.display(description=gettext_lazy("reason"), ordering="reason")
    def reason_shown(self, obj: ModerationCase) -> str:
        """The reason as typed; the privacy markers that replace an erased one in the reader's language."""
        return _(obj.reason) if obj.reason in privacy.MARKERS else obj.reason

    @admin.action(description=gettext_lazy("Resolve (lifts an active timeout)"), permissions=["resolve"])
    @confirm_first(title=gettext_lazy("Resolve these cases?"), button=gettext_lazy("Yes, resolve"),
                   affected=lambda c: [f"{plain_label('member', c.user_id, c.user_id_name or c.user_tag)}: "
                                       f"{c.get_action_display().lower()}, {c.reason}"],
                   changes=gettext_lazy("Each case is closed; a member still timed out gets the timeout lifted "
                                        "in Discord."))
    def resolve(self, request: HttpRequest, queryset: QuerySet[ModerationCase]) -> None:
        run_for_each(self, request, queryset, lambda c: services.resolve_case(c.pk, officers.actor(request.user)),
                     summary=_("Resolved {n} case(s)."))


class RuleTrialForm(forms.Form):
    content = forms.CharField(label=gettext_lazy("Message"), widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
                              max_length=4000)
    author_roles = forms.CharField(label=gettext_lazy("Author's roles"), required=False,
                                   help_text=gettext_lazy("Role ids, comma separated (exemptions)."))
    channel_id = forms.IntegerField(label=gettext_lazy("Channel id"), required=False)
    mentions = forms.IntegerField(label=gettext_lazy("Mentions"), required=False, min_value=0, initial=0,
                                  help_text=gettext_lazy("Number of members mentioned."))
    recent_messages = forms.IntegerField(label=gettext_lazy("Recent messages"), min_value=1, initial=1,
                                         help_text=gettext_lazy("Messages in the spam window."))

    def clean_author_roles(self) -> list[int]:
        raw = self.cleaned_data["author_roles"]
        try:
            return [int(r) for r in raw.replace(" ", "").split(",") if r]
        except ValueError:
            raise forms.ValidationError(_("Role ids are numbers separated by commas.")) from None


@admin.register(AutoModRule)
class AutoModRuleAdmin(ExtraViewsMixin, SettingsAdmin):
    """A form per rule type (``economy.automod_form``): adding a rule starts by choosing its type."""

    extra_views = (("<uuid:rule_id>/test/", "test_view", "test"),)
    server_fields = ("guild_id",)
    form = AutoModRuleForm
    list_display = ("__str__", "rule_type", "action", "priority", "is_active", "test_link", SERVER)
    list_filter = (SERVER_FILTER, "rule_type", "action", "is_active")
    search_fields = ("name",)
    ordering = ("guild_id", "priority")

    def _rule_type(self, request: HttpRequest, obj: AutoModRule | None) -> str | None:
        return obj.rule_type if obj is not None else request.GET.get("rule_type")

    def get_fieldsets(self, request: HttpRequest, obj: AutoModRule | None = None) -> list:
        rule_type = self._rule_type(request, obj)
        if rule_type not in TYPE_FIELDS:
            return [(None, {"fields": ["guild_id", "name", "action", "timeout_minutes", "priority", "is_active"]})]
        return [
            (None, {"fields": ["guild_id", "name", "rule_type", "action", "timeout_minutes"]}),
            (_("What it catches: %(type)s") % {"type": AutoModRule.RuleType(rule_type).label},
             {"fields": list(TYPE_FIELDS[rule_type]), "description": WHAT_IT_CATCHES[rule_type]}),
            (_("Exemptions"), {"fields": ["exempt_roles", "exempt_channels"]}),
            (pgettext("auto-moderation rules", "Order"), {"fields": ["priority", "is_active"]}),
        ]

    def get_form(self, request: HttpRequest, obj: AutoModRule | None = None, change: bool = False, **kwargs: Any):
        import functools

        form = super().get_form(request, obj, change, **kwargs)
        rule_type = self._rule_type(request, obj)
        return type(form.__name__, (form,), {"__init__": functools.partialmethod(form.__init__, rule_type=rule_type)})

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None) -> HttpResponse:
        """First the rule type (each has its own fields), then that type's form."""
        if request.GET.get("rule_type") in TYPE_FIELDS:
            return super().add_view(request, form_url, extra_context)
        if not self.has_add_permission(request):
            raise PermissionDenied
        url = reverse("admin:economy_automodrule_add")
        return TemplateResponse(request, "admin/economy/automodrule_choose_type.html", {
            **self.admin_site.each_context(request), "title": _("Add an auto-moderation rule: what should it catch?"),
            "opts": self.model._meta,
            "types": [{"label": label, "what": WHAT_IT_CATCHES[value], "url": f"{url}?rule_type={value}"}
                      for value, label in AutoModRule.RuleType.choices],
        })

    @admin.display(description=pgettext_lazy("auto-moderation rule", "test"))
    def test_link(self, obj: AutoModRule) -> str:
        return format_html('<a href="{}">{}</a>', reverse("admin:economy_automodrule_test", args=[obj.pk]),
                           _("Test against a message"))

    def test_view(self, request: HttpRequest, rule_id: Any) -> HttpResponse:
        """Run one rule against a sample message, without acting or recording anything."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        rule = get_object_or_404(AutoModRule, pk=rule_id)
        form = RuleTrialForm(request.POST or None)
        result, error = None, None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                match = services.dry_run_rule(rule, data["content"], author_roles=data["author_roles"],
                                           channel_id=data["channel_id"],
                                           mentions=list(range(1, (data["mentions"] or 0) + 1)),
                                           recent_messages=data["recent_messages"])
                result = (_("Match: %(reason)s → %(action)s") % {
                    "reason": match.reason, "action": ModerationAction(match.action).label}
                    if match else _("No match: the message passes."))
            except EconomyError as exc:
                error = str(exc)
        return TemplateResponse(request, "admin/economy/test_rule.html", {
            **self.admin_site.each_context(request), "title": _("Test rule: %(rule)s") % {"rule": rule}, "opts": self.model._meta,
            "rule": rule, "form": form, "result": result, "error": error,
        })
