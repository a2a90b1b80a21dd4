"""Bans: add (N weekends or until a date), list by state, revoke."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.db.models import OuterRef, Subquery
from django.template.response import TemplateResponse
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from ark import services
from ark.models import (
    Ban,
    Governor,
    Signup,
)
from core.admin_tools import (
    CONFIRMED,
    MemberNamesMixin,
    member_column,
)
from core.errors import DomainError
from guildsync.models import DiscordUser, Player

from .common import ServiceFormMixin, run_service


class BanStatusFilter(admin.SimpleListFilter):
    title = gettext_lazy("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", _("Active (in force)")), ("expired", _("Expired")), ("revoked", _("Revoked"))]

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
        DiscordUser.objects.all(), required=False, label=gettext_lazy("Discord member"),
        widget=AutocompleteSelect(Player._meta.get_field("discord_user"), admin.site),
        help_text=gettext_lazy("Bans the member, whichever governor they sign up with."),
    )
    governor = forms.ModelChoiceField(
        Governor.objects.all(), required=False, label=gettext_lazy("Governor"),
        widget=AutocompleteSelect(Signup._meta.get_field("governor"), admin.site),
        help_text=gettext_lazy("Bans this in-game account, whoever signs it up."),
    )
    weekends = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=104,
        label=gettext_lazy("Weekends"),
        help_text=gettext_lazy("Ban for the next N Ark weekends (the current one included) …"),
    )
    until_date = forms.DateField(required=False, label=gettext_lazy("Until date"),
                                 help_text=gettext_lazy("… or until this date."))

    class Meta:
        model = Ban
        fields = ("discord_user_id", "governor_id", "reason")
        labels = {"discord_user_id": gettext_lazy("… or a Discord id"),
                  "governor_id": gettext_lazy("… or an in-game governor id")}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for picked, field, attribute in (("member", "discord_user_id", "discord_id"),
                                         ("governor", "governor_id", "governor_id")):
            choice = data.get(picked)
            if choice is None:
                continue
            value = getattr(choice, attribute)
            if data.get(field) not in (None, value):
                self.add_error(field, _("Pick the target or type its id, not two different ones."))
            data[field] = value
        return data


def suggested_ban_links(suggestions) -> dict[int, str]:
    """Governor pk → a link to the ban form pre-filled from a no-show suggestion: the pickers
    show the member and the governor by name (the raw id fields stay empty unless the member
    directory has never seen the member). Nothing is banned until the officer confirms."""
    from django.urls import reverse
    from django.utils.html import format_html

    members = dict(DiscordUser.objects.filter(discord_id__in=[s.governor.discord_user_id for s in suggestions])
                   .values_list("discord_id", "pk"))
    links = {}
    for suggestion in suggestions:
        gov = suggestion.governor
        query = {"governor": gov.pk, "reason": suggestion.reason, "weekends": 1}
        if gov.discord_user_id in members:
            query["member"] = members[gov.discord_user_id]
        elif gov.discord_user_id:
            query["discord_user_id"] = gov.discord_user_id
        url = reverse("admin:ark_ban_add") + "?" + urlencode(query)
        links[gov.pk] = format_html('<a class="suggest-ban" href="{}">{}</a>', url,
                                    _("Suggest a ban: %(reason)s") % {"reason": suggestion.reason})
    return links


def ban_terms(data: dict[str, Any]) -> dict[str, Any]:
    """The ban form's answers as ``add_ban`` / ``preview_ban`` take them."""
    return {"discord_user_id": data.get("discord_user_id"), "governor_id": data.get("governor_id"),
            "reason": data.get("reason", ""), "weekends": data.get("weekends"), "until_date": data.get("until_date")}


def ban_target(ban: Ban) -> str:
    """ "Seti and governor Seti (51234010)": who a ban keeps out, by name."""
    from guildsync.services.directory import label

    parts = [label("member", ban.discord_user_id) if ban.discord_user_id else "", ban.governor_label()
             if ban.governor_id else ""]
    return _(" and ").join(p for p in parts if p)


def ban_span(ban: Ban) -> str:
    """ "for the Ark weekends from Sat 12 Dec 2026 to Sun 27 Dec 2026"."""
    return _("for the Ark weekends from %(first)s to %(last)s") % {
        "first": dateformat.format(ban.starts_weekend, "D d M Y"), "last": dateformat.format(ban.ends_on, "D d M Y")}


@admin.register(Ban)
class BanAdmin(MemberNamesMixin, ServiceFormMixin, admin.ModelAdmin):
    form = BanForm
    member_fields = ("discord_user_id",)
    list_display = (  # the reason beside who, visible at 1280 px (tests/core/test_browser_layout.py)
        "ban_link",
        member_column("discord_user_id", pgettext_lazy("ark", "member")),
        "governor",
        "reason",
        "starts_weekend",
        "ends_on",
        "revoked_at",
    )
    list_filter = (BanStatusFilter,)

    @admin.display(description=gettext_lazy("ban"), ordering="starts_weekend")
    def ban_link(self, obj) -> str:
        span = f"{dateformat.format(obj.starts_weekend, 'd M')}–{dateformat.format(obj.ends_on, 'd M Y')}"
        return span + (_(" (revoked)") if obj.revoked_at else "")
    search_fields = ("=discord_user_id", "=governor_id", "reason")

    def get_queryset(self, request):
        names = Governor.objects.filter(governor_id=OuterRef("governor_id")).values("name")[:1]
        return super().get_queryset(request).annotate(governor_name=Subquery(names))

    @admin.display(description=pgettext_lazy("ark", "governor"), ordering="governor_name")
    def governor(self, obj: Ban) -> str:
        if not obj.governor_id:
            return "—"
        name = getattr(obj, "governor_name", None)
        return f"{name} ({obj.governor_id})" if name else str(obj.governor_id)
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
        ban = services.add_ban(**ban_terms(data))
        self.say_done(request, _("Banned %(target)s %(span)s: new signups are refused; nobody was messaged.") % {
            "target": ban_target(ban), "span": ban_span(ban)})
        return ban

    def add_view(self, request, form_url="", extra_context=None):
        """A valid ban form first shows what the ban does (who, how long, who is still signed up,
        that nobody is messaged) and writes nothing; the page's "Yes, ban" posts it again, confirmed."""
        if request.method == "POST" and not request.POST.get(CONFIRMED) and self.has_add_permission(request):
            form = BanForm(request.POST)
            if form.is_valid():
                try:
                    ban = services.preview_ban(**ban_terms(form.cleaned_data))
                except DomainError:
                    ban = None  # the normal form below shows the same refusal (add_ban's rule)
                if ban is not None:
                    return self.confirm_ban(request, ban)
        return super().add_view(request, form_url, extra_context)

    def confirm_ban(self, request, ban: Ban) -> TemplateResponse:
        still_in = services.signups_covered_by(ban)
        return TemplateResponse(request, "admin/ark/ban/confirm_add.html", {
            **self.admin_site.each_context(request), "title": _("Ban this member?"), "opts": self.model._meta,
            "target": ban_target(ban), "span": ban_span(ban), "reason": ban.reason, "still_in": still_in,
            "posted": [(k, v) for k in request.POST if k not in ("csrfmiddlewaretoken", CONFIRMED)
                       for v in request.POST.getlist(k)],
            "confirmed_name": CONFIRMED,
        })

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoke instead: the audit log keeps the history

    def response_add(self, request, obj, post_url_continue=None):
        note = services.ban_coverage_note(obj)
        if note:
            self.message_user(request, note, messages.WARNING)
        return super().response_add(request, obj, post_url_continue)

    @admin.action(description=gettext_lazy("Revoke"), permissions=["change"])
    def revoke(self, request, queryset):
        run_service(self, request, queryset, _("Revoked"), lambda b: services.revoke_ban(ban_id=b.pk),
                    describe=lambda b, _done: _("Revoked the ban of %(target)s: they can sign up again "
                                                "(nobody was messaged).") % {"target": ban_target(b)})
