"""The season: the cadence, each alliance's calendar, governor stats, draft constraints and
attendance records."""

from __future__ import annotations

import datetime as dt
import threading

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from ark import services
from ark.models import (
    ArkCalendar,
    ArkSettings,
    DraftConstraint,
    Governor,
    GovernorRecord,
)
from core.admin_tools import (
    ExtraViewsMixin,
    MemberNamesMixin,
    ReadOnlyAdmin,
    member_column,
)
from core.errors import DomainError

from .bans import suggested_ban_links
from .common import ServiceFormMixin, channel_label, officer_context, run_service, utc


@admin.register(ArkSettings)
class ArkSettingsAdmin(ServiceFormMixin, admin.ModelAdmin):
    """The installation's cadence: one row (Ark every N weekends from an anchor Saturday)."""

    list_display = ("__str__", "cadence_weekends", "anchor_weekend", "discord_events", "updated_at")
    fields = ("cadence_weekends", "anchor_weekend", "discord_events")

    # "Add" is allowed without a query (the admin home asks every model): the service writes the
    # one row (pk 1), so adding again just sets the cadence.

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def service_save(self, request, obj, data):
        cadence = services.save_cadence(cadence_weekends=data["cadence_weekends"], anchor_weekend=data["anchor_weekend"],
                                        discord_events=data.get("discord_events", False))
        next_weekend = services.next_ark_weekend(timezone.now().date(), cadence)
        self.say_done(request, _("Saved: %(cadence)s; the next Ark weekend is %(weekend)s.") % {
            "cadence": cadence, "weekend": dateformat.format(next_weekend, "D d M Y")})
        return cadence


class CalendarForm(forms.ModelForm):
    """Slots and skipped weekends typed as comma-separated text (validated by ``save_calendar``)."""

    slots_text = forms.CharField(
        label=gettext_lazy("Allowed slots"),
        help_text=gettext_lazy("Day and UTC time, comma-separated, e.g. Sat 12:00, Sat 20:00, Sun 04:00. "
                               "The first is the scheduler's."),
    )
    skipped_text = forms.CharField(
        label=gettext_lazy("Skipped weekends"), required=False,
        help_text=gettext_lazy("Saturdays to sit out, e.g. 2026-12-26, 2027-01-09."),
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
class ArkCalendarAdmin(ExtraViewsMixin, ServiceFormMixin, admin.ModelAdmin):
    extra_views = (("create-next-matches/", "create_next_matches_view", "create_next_matches"),)
    form = CalendarForm
    list_display = ("alliance", "is_enabled", "slot_list", "close_rule", "days_ahead", "nudge_time_utc")
    list_select_related = ("alliance",)
    autocomplete_fields = ("alliance",)
    fields = (
        "alliance", "is_enabled", "slots_text", "close_days_before", "close_time_utc", "days_ahead",
        "skipped_text", "nudge_time_utc", "quiet_start_utc", "quiet_end_utc",
    )

    @admin.display(description=gettext_lazy("Slots"))
    def slot_list(self, obj: ArkCalendar) -> str:
        return ", ".join(obj.slots or [])

    @admin.display(description=gettext_lazy("Signups close"))
    def close_rule(self, obj: ArkCalendar) -> str:
        return ngettext("%(count)s day before the Saturday, %(time)s UTC",
                        "%(count)s days before the Saturday, %(time)s UTC", obj.close_days_before) % {
            "count": obj.close_days_before, "time": f"{obj.close_time_utc:%H:%M}"}

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # disable instead

    def service_save(self, request, obj, data):
        split = lambda text: [p.strip() for p in (text or "").split(",") if p.strip()]  # noqa: E731
        calendar = services.save_calendar(
            alliance=data["alliance"],
            slots=split(data.get("slots_text")),
            skipped_weekends=split(data.get("skipped_text")),
            **{f: data.get(f) for f in (
                "close_days_before", "close_time_utc", "days_ahead", "is_enabled",
                "nudge_time_utc", "quiet_start_utc", "quiet_end_utc",
            )},
        )
        text = _("Saved the calendar of %(alliance)s: slots %(slots)s UTC; signups close %(close)s; matches "
                 "created %(days)s days ahead") % {"alliance": calendar.alliance.name,
                                                   "slots": ", ".join(calendar.slots),
                                                   "close": self.close_rule(calendar), "days": calendar.days_ahead}
        self.say_done(request, text + ("" if calendar.is_enabled else _(" (disabled)")) + ".")
        return calendar


    def create_next_matches_view(self, request: HttpRequest) -> HttpResponse:
        """"Create the next matches": GET shows what would be created (per alliance, its next Ark
        weekend without a match, at the calendar's first slot) and writes nothing; POST creates
        them (``create_next_matches``) and says what was created and where the messages go."""
        from django.http import HttpResponseRedirect

        if not request.user.has_perm("ark.add_match"):
            raise PermissionDenied
        if request.method == "POST":
            try:
                with officer_context(request):
                    created, left_out = services.create_next_matches(only=shown_plan(request))
            except DomainError as exc:
                self.message_user(request, _("Nothing was created: %(error)s") % {"error": exc}, messages.ERROR)
                return HttpResponseRedirect(request.path)
            for match in created:
                self.message_user(request, _("Created %(match)s: signups close %(close)s; the registration message "
                                             "is queued for %(channel)s.") % {
                    "match": match, "close": utc(match.signup_close_utc),
                    "channel": channel_label(match.alliance.registration_channel_id)}, messages.SUCCESS)
            for line in left_out:
                self.message_user(request, _("Not created: %(why)s") % {"why": line},
                                  messages.WARNING if created else messages.INFO)
            if not created:
                self.message_user(request, _("No match was created."), messages.WARNING)
            return HttpResponseRedirect(reverse("admin:ark_match_changelist"))
        plan = services.plan_next_matches()
        return TemplateResponse(request, "admin/ark/arkcalendar/create_next_matches.html", {
            **self.admin_site.each_context(request), "title": _("Create the next matches"), "opts": self.model._meta,
            "plan": plan, "rows": [(p, channel_label(p.alliance.registration_channel_id)) for p in plan.planned],
        })


def shown_plan(request: HttpRequest) -> set[tuple[int, dt.date]]:
    """The (alliance id, weekend) pairs the preview page listed (its hidden ``planned`` fields);
    anything unreadable is left out, so only what the officer saw can be created."""
    shown = set()
    for value in request.POST.getlist("planned"):
        alliance, _, weekend = value.partition(":")
        try:
            shown.add((int(alliance), dt.date.fromisoformat(weekend)))
        except ValueError:
            continue
    return shown


class StatsUploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV export"), help_text=gettext_lazy("At most 2 MB."))


def governor_record_html(governor: Governor) -> str:
    """The attendance record as a small inline SVG bar chart (no external assets)."""
    record = services.governor_record(governor)
    bars = [(_("Signed up"), record.signed_up, "#417690"), (_("Checked in"), record.checked_in, "#79aec8"),
            (_("Played"), record.played, "#2e7d32"), (_("No-show"), record.no_show, "#c62828"),
            (_("Excused"), record.excused, "#9e9e9e")]
    top = max(v for _label, v, _colour in bars) or 1
    rows = format_html_join(
        "",
        '<g transform="translate(0,{})"><text x="0" y="15">{}</text>'
        '<rect x="90" y="3" width="{}" height="16" fill="{}"></rect><text x="{}" y="16">{}</text></g>',
        ((i * 24, label, round(300 * v / top), colour, round(300 * v / top) + 96, v)
         for i, (label, v, colour) in enumerate(bars)),
    )
    return format_html(
        '<svg class="attendance-chart" role="img" aria-label="{}" width="440" height="{}" '
        'xmlns="http://www.w3.org/2000/svg" style="font:12px sans-serif">{}</svg>',
        _("Attendance record"), 24 * len(bars), rows,
    )


@admin.register(Governor)
class GovernorAdmin(ExtraViewsMixin, MemberNamesMixin, ServiceFormMixin, admin.ModelAdmin):
    extra_views = (("import-stats/", "import_stats_view", "import_stats"),)
    member_fields = ("discord_user_id",)
    list_display = (
        "name", "governor_id", member_column("discord_user_id", gettext_lazy("owner")), "power", "kill_points", "city_hall", "troop_tier",
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
        self._page.suggestions = suggested_ban_links(services.no_show_suggestions())
        return super().changelist_view(request, extra_context)

    @admin.display(description=gettext_lazy("No-show rule"))
    def suggested_ban(self, obj: Governor) -> str:
        """A link to the ban form, pre-filled by name; an officer decides (nothing is banned here)."""
        return getattr(self._page, "suggestions", {}).get(obj.pk, "—")

    @admin.display(description=gettext_lazy("Attendance record"))
    def attendance_record(self, obj: Governor) -> str:
        return governor_record_html(obj)

    def service_save(self, request, obj, data):
        governor = services.register_governor(
            governor_id=data["governor_id"],
            name=data["name"],
            discord_user_id=data["discord_user_id"],
            as_officer=True,
        )
        from guildsync.services.directory import label

        self.say_done(request, _("Saved governor %(governor)s, owned by %(member)s.") % {
            "governor": governor, "member": label("member", governor.discord_user_id)})
        return governor

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
                self.message_user(request, _("Stats import: %(report)s.") % {"report": report}, messages.SUCCESS)
            except DomainError as exc:
                form.add_error("file", str(exc))
        return TemplateResponse(request, "admin/ark/import_stats.html", {
            **self.admin_site.each_context(request), "title": _("Import governor stats"), "form": form,
            "report": report, "opts": self.model._meta,
        })


@admin.register(DraftConstraint)
class DraftConstraintAdmin(ServiceFormMixin, admin.ModelAdmin):
    list_display = ("__str__", "match", "kind", "governor", "other", "team")
    list_filter = ("kind",)
    list_select_related = ("match__alliance", "governor", "other")
    autocomplete_fields = ("match", "governor", "other")  # the match by alliance and weekend, not its number
    fields = ("match", "kind", "governor", "other", "team")
    actions = ["remove"]

    def get_readonly_fields(self, request, obj=None):
        return self.fields if obj else ()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the "Remove" action goes through the service (audited)

    def service_save(self, request, obj, data):
        if obj is not None:
            return obj
        constraint = services.add_draft_constraint(
            match_id=data["match"].pk, kind=data["kind"], governor_id=data["governor"].governor_id,
            other_governor_id=data["other"].governor_id if data.get("other") else None, team=data.get("team"),
        )
        self.say_done(request, _("Added “%(rule)s” for %(match)s: the next “Draft teams” keeps it.") % {
            "rule": constraint, "match": constraint.match})
        return constraint

    @admin.action(description=gettext_lazy("Remove these constraints"), permissions=["change"])
    def remove(self, request, queryset):
        run_service(self, request, queryset, _("Removed"),
                    lambda c: services.remove_draft_constraint(constraint_id=c.pk),
                    describe=lambda c, _done: _("Removed “%(rule)s” from %(match)s: the next “Draft teams” "
                                                "ignores it.") % {"rule": c, "match": c.match})


@admin.register(GovernorRecord)
class GovernorRecordAdmin(ReadOnlyAdmin):
    list_display = ("governor", "signed_up", "checked_in", "played", "no_show", "excused", "updated_at")
    list_select_related = ("governor",)
    search_fields = ("governor__name", "=governor__governor_id")
