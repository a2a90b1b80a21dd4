"""The raid officers' admin: seasons, raid nights, raid events with attendance, Raid-Helper
settings, the season attendance report. Every write goes through ``raids.services``: forms
save through a service once they are valid (``ServiceFormMixin``, a refusal becomes a form
error), deletes and actions call services and report back with ``message_user``."""

from __future__ import annotations

import datetime as dt

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy

from core import i18n
from core.admin_tools import (
    DomainErrorPagesMixin,
    ExtraViewsMixin,
    SaysWhatChangedMixin,
    member_label,
    run_for_each,
)
from core.admin_tools import ServiceFormMixin as CoreServiceFormMixin
from core.discord_signin import officers
from core.errors import DomainError
from core.secrets import secret_source
from raids import admin_imports, reports, roster, services
from raids.clients import RaidHelperError
from raids.models import RaidAttendance, RaidEvent, RaidHelperSettings, RaidSeason, RecurringEvent
from raids.warcraftlogs import WarcraftLogsError

CHART_HEIGHT = 160  # px of the weekly trend chart at 100 %
CHART_WEEK_WIDTH = 36  # px per week
WARNING_HTML = '<strong style="color:#ba2121">{}</strong>'  # markup, the words inside are translated
TITLED_HTML = '<span title="{}">{}</span>'
CSV_DISPOSITION = 'attachment; filename="attendance-{pk}{weekly}.csv"'


class ServiceFormMixin(DomainErrorPagesMixin, CoreServiceFormMixin):
    """Saves and deletes through services. ``service_fields``: the form fields the service
    takes; ``save_fields(pk_or_None, **fields)`` returns the saved row;
    ``service_delete(ids)`` deletes."""

    service_fields: tuple[str, ...] = ()

    def service_save(self, request, obj, cleaned_data):
        data = {f: cleaned_data[f] for f in self.service_fields if f in cleaned_data}
        return self.save_fields(obj.pk if obj else None, **data)

    def save_fields(self, pk: int | None, **fields):
        raise NotImplementedError

    def service_delete(self, ids: list[int]) -> object:
        raise NotImplementedError

    def delete_model(self, request, obj) -> None:
        self.report_delete(request, self.service_delete([obj.pk]))

    def delete_queryset(self, request, queryset) -> None:
        self.report_delete(request, self.service_delete(list(queryset.values_list("pk", flat=True))))

    def report_delete(self, request, result) -> None:
        """Hook for what a delete should tell the officer beyond Django's own message."""


@admin.register(RaidSeason)
class RaidSeasonAdmin(SaysWhatChangedMixin, ExtraViewsMixin, ServiceFormMixin, admin.ModelAdmin):
    extra_views = (("<int:season_id>/attendance/", "attendance_view", "attendance"),)
    list_display = ["name", "start_date", "end_date", "is_active", "event_count", "report_link"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    service_fields = services.SEASON_FIELDS

    def save_fields(self, pk, **fields) -> RaidSeason:
        return services.save_season(pk, **fields)

    def service_delete(self, ids) -> int:
        return services.delete_seasons(ids)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_events=Count("events"))

    @admin.display(description=gettext_lazy("events"), ordering="n_events")
    def event_count(self, obj: RaidSeason) -> int:
        return obj.n_events

    @admin.display(description=pgettext_lazy("raid admin column", "attendance"))
    def report_link(self, obj: RaidSeason) -> str:
        return format_html('<a href="{}">{}</a>', reverse("admin:raids_raidseason_attendance", args=[obj.pk]),
                           _("report"))

    def attendance_view(self, request: HttpRequest, season_id: int) -> HttpResponse:
        """Per player: raids since joined, attended, late, benched, absent, no-show, % — sortable,
        beside a weekly trend chart (inline SVG); both also as CSV."""
        if not self.has_view_permission(request) or not request.user.has_perm("raids.view_raidattendance"):
            raise PermissionDenied
        season = get_object_or_404(RaidSeason, pk=season_id)
        order = request.GET.get("o", "-percent")
        report = reports.season_report(season, order=order)
        if request.GET.get("format") in ("csv", "weeks-csv"):
            weekly = request.GET["format"] == "weeks-csv"
            body = reports.weeks_as_csv(report.weeks) if weekly else reports.as_csv(report.players)
            response = HttpResponse(body, content_type="text/csv")
            response["Content-Disposition"] = CSV_DISPOSITION.format(pk=season.pk, weekly="-weekly" if weekly else "")
            return response
        columns = []
        for key, label in reports.COLUMNS:
            next_order = f"-{key}" if order == key else key
            columns.append({"label": label, "url": f"?o={next_order}", "sorted": order.lstrip("-") == key,
                            "desc": order.startswith("-")})
        step = CHART_WEEK_WIDTH
        bars = [{"week": w, "x": 40 + i * step, "percent": i18n.percent(w.percent, 1),
                 "short_percent": i18n.percent(w.percent), "y": 10 + round(CHART_HEIGHT * (100 - w.percent) / 100, 1),
                 "height": round(CHART_HEIGHT * w.percent / 100, 1)} for i, w in enumerate(report.weeks)]
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "season": season,
                   "title": _("Attendance — %(season)s") % {"season": season}, "report": report, "rows": report.players,
                   "columns": columns, "bars": bars, "order": order, "chart_height": CHART_HEIGHT,
                   "bar_width": step - 8, "chart_width": 50 + step * max(len(bars), 1),
                   "gridlines": [{"pct": p, "label": i18n.percent(p), "y": 10 + CHART_HEIGHT * (100 - p) // 100}
                                 for p in (0, 50, 100)]}
        return TemplateResponse(request, "admin/raids/attendance_report.html", context)


@admin.register(RecurringEvent)
class RecurringEventAdmin(SaysWhatChangedMixin, ServiceFormMixin, admin.ModelAdmin):
    list_display = ["label", "event_type", "day_of_week", "default_start_time", "timezone",
                    "default_duration_minutes", "composition", "discord_channel_id", "raid_helper_template_id",
                    "is_active"]
    list_filter = ["is_active", "day_of_week", "event_type"]
    search_fields = ["label"]
    actions = ["book_first_event", "activate", "deactivate"]
    service_fields = services.RECURRING_FIELDS

    def save_fields(self, pk, **fields) -> RecurringEvent:
        return services.save_recurring_event(pk, **fields)

    @admin.display(description=gettext_lazy("Wanted (T/H/M/R)"))
    def composition(self, obj: RecurringEvent) -> str:
        return f"{obj.wanted_tanks}/{obj.wanted_healers}/{obj.wanted_melee}/{obj.wanted_ranged}"

    def service_delete(self, ids) -> int:
        return services.delete_recurring_events(ids)

    def _set_active(self, request, queryset, active: bool) -> None:
        changed = services.set_recurring_active(list(queryset.values_list("pk", flat=True)), active)
        if active:
            text = ngettext("%(count)s raid night activated.", "%(count)s raid nights activated.", changed)
        else:
            text = ngettext("%(count)s raid night deactivated.", "%(count)s raid nights deactivated.", changed)
        self.message_user(request, text % {"count": changed})

    @admin.action(description=gettext_lazy("Book the first event (Raid-Helper + here; auto-booking continues)"),
                  permissions=["change"])
    def book_first_event(self, request, queryset) -> None:
        def describe(night, result) -> str:
            if result.status == result.ALREADY_BOOKED:
                return _("%(night)s: already has an upcoming event (%(event)s); auto-booking continues from it.") % {
                    "night": night, "event": result.event}
            where = result.event.raid_helper_url or _("here only (Raid-Helper is not configured)")
            return _("%(night)s: booked %(event)s (%(where)s): %(signed)s; %(sent)s sign-ups sent to Raid-Helper, "
                     "%(failed)s failed.") % {"night": night, "event": result.event, "where": where,
                                              "signed": roster.booking_summary(result.event),
                                              "sent": result.signups_sent, "failed": result.signups_failed}

        run_for_each(self, request, queryset, services.book_first_event, describe=describe,
                     errors=(DomainError, RaidHelperError))

    @admin.action(description=gettext_lazy("Activate (auto-book these nights)"), permissions=["change"])
    def activate(self, request, queryset) -> None:
        self._set_active(request, queryset, True)

    @admin.action(description=gettext_lazy("Deactivate (stop auto-booking)"), permissions=["change"])
    def deactivate(self, request, queryset) -> None:
        self._set_active(request, queryset, False)


class BookingFilter(admin.SimpleListFilter):
    title = gettext_lazy("next week")
    parameter_name = "booking"

    def lookups(self, request, model_admin):
        return [("booked", pgettext_lazy("next week", "Booked")), ("missed", _("Not booked — book manually")),
                ("pending", _("Not booked yet")), ("one_off", _("One-off event"))]

    def queryset(self, request, queryset):
        window_passed = timezone.now() - services.BOOKING_WINDOW_MAX
        unbooked = Q(recurring_event__isnull=False, next_booked_at__isnull=True)
        match self.value():
            case "booked":
                return queryset.filter(next_booked_at__isnull=False)
            case "missed":
                return queryset.filter(unbooked, start_time_utc__lt=window_passed)
            case "pending":
                return queryset.filter(unbooked, start_time_utc__gte=window_passed)
            case "one_off":
                return queryset.filter(recurring_event__isnull=True)
        return queryset


class PushErrorMixin:
    """A sign-up push's reason as stored (by the booking job: English), shown in the officer's
    language (``services.shown_text``)."""

    @admin.display(description=gettext_lazy("sign-up push error"))
    def push_error(self, obj: RaidAttendance) -> str:
        return services.shown_text(obj.signup_push_error) if obj and obj.pk else ""


class RaidAttendanceInline(PushErrorMixin, admin.TabularInline):
    """Existing rows: status and attended are editable; the player is fixed."""

    model = RaidAttendance
    extra = 0
    fields = ["player", "status", "attended", "attended_source", "late", "signed_up", "signed_up_late", "source",
              "specialization", "role", "signup_push", "push_error"]
    readonly_fields = ["player", "attended_source", "signed_up", "signed_up_late", "source", "specialization", "role",
                       "signup_push", "push_error"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("event", "player", "specialization__wow_class", "role")


class AddAttendanceInline(admin.TabularInline):
    """Blank rows to add a player by hand (a pick-up raider, a missed sign-up)."""

    model = RaidAttendance
    extra = 1
    verbose_name_plural = gettext_lazy("add attendance")
    autocomplete_fields = ["player"]
    fields = ["player", "status", "attended", "late"]

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_add_permission(request, obj)

    def get_queryset(self, request):
        return super().get_queryset(request).none()


@admin.register(RaidEvent)
class RaidEventAdmin(SaysWhatChangedMixin, ServiceFormMixin, admin.ModelAdmin):
    list_display = ["title", "event_date", "start_time_utc", "season", "booking_state", "auto_booked",
                    "raid_helper_link", "attendance_count", "wcl_state"]
    list_filter = [BookingFilter, "auto_booked", "season", "recurring_event"]
    list_select_related = ["season", "recurring_event"]
    search_fields = ["title", "=raid_helper_event_id"]
    date_hierarchy = "event_date"
    autocomplete_fields = ["season", "recurring_event"]
    readonly_fields = ["origin", "raid_helper_state", "live_roster", "next_booked_at", "next_event",
                       "signups_imported_at", "last_import", "wcl_import", "raid_helper_payload", "created_at"]
    # For officers: what the event is and its roster first, then the attendance rows (the
    # inlines); the import and booking bookkeeping read-only, folded away after them (the
    # "collapse" fieldsets: admin/raids/raidevent/change_form.html renders them last). One word
    # per fact: how the event was made is said once ("origin"), and the Raid-Helper state agrees.
    fieldsets = [
        (None, {"fields": ["title", "event_date", "start_time_utc", "end_time_utc", "season", "recurring_event",
                           "origin", "live_roster"]}),
        ("Raid-Helper", {"fields": ["raid_helper_state", "raid_helper_event_id", "discord_channel_id"]}),
        (gettext_lazy("Imports and bookkeeping (read-only)"), {"classes": ["collapse"], "fields": [
            "last_import", "wcl_import", "next_booked_at", "next_event", "signups_imported_at",
            "raid_helper_payload", "created_at"]}),
    ]
    change_form_template = "admin/raids/raidevent/change_form.html"
    inlines = [RaidAttendanceInline, AddAttendanceInline]
    actions = ["book_next_now", "import_signups", "mark_accepted_attended", "import_wcl_attendance"]
    service_fields = services.EVENT_FIELDS

    def save_fields(self, pk, **fields) -> RaidEvent:
        return services.save_raid_event(pk, **fields)

    def service_delete(self, ids) -> services.DeleteReport:
        return services.delete_raid_events(ids)

    def report_delete(self, request, result: services.DeleteReport) -> None:
        if result.unbooked_sources:
            self.message_user(request, ngettext(
                "%(count)s earlier event is no longer marked as booked: book its next week again if needed.",
                "%(count)s earlier events are no longer marked as booked: book their next week again if needed.",
                result.unbooked_sources) % {"count": result.unbooked_sources}, messages.WARNING)
        if result.raid_helper_ids:
            self.message_user(request, _("Raid-Helper still has these events, delete them there too: %(ids)s")
                              % {"ids": ", ".join(result.raid_helper_ids)}, messages.WARNING)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_attendance=Count("attendance"))

    @admin.display(description=pgettext_lazy("raid admin column", "attendance"), ordering="n_attendance")
    def attendance_count(self, obj: RaidEvent) -> int:
        return getattr(obj, "n_attendance", 0)

    @admin.display(description=gettext_lazy("Made by"))
    def origin(self, obj: RaidEvent) -> str:
        """How the event came to be, said once (the list's "auto booked" column, in words)."""
        if obj is None or obj.pk is None:
            return "—"
        if obj.auto_booked and obj.recurring_event_id:
            return _("The auto-booking job for the raid night %(night)s.") % {"night": obj.recurring_event}
        if obj.auto_booked:
            return _("The auto-booking job.")
        return _("An officer (entered or booked here by hand).")

    @admin.display(description=gettext_lazy("Live roster"))
    def live_roster(self, obj: RaidEvent) -> str:
        """By role against the raid night's wanted composition, as synced from Raid-Helper."""
        if not obj or not obj.pk:
            return "—"
        lines = roster.live_roster(obj).lines()
        return format_html("<br>".join(["{}"] * len(lines)), *lines)

    @admin.display(description=gettext_lazy("Last sign-up import"))
    def last_import(self, obj: RaidEvent) -> str:
        return admin_imports.as_html(admin_imports.signup_import_lines(obj.signup_import_report or {}))

    @admin.display(description=gettext_lazy("Warcraft Logs"), ordering="wcl_import_status")
    def wcl_state(self, obj: RaidEvent) -> str:
        return admin_imports.wcl_state(obj)

    @admin.display(description=gettext_lazy("Attendance from Warcraft Logs"))
    def wcl_import(self, obj: RaidEvent) -> str:
        return admin_imports.as_html(admin_imports.wcl_import_lines(obj))

    @admin.display(description="Raid-Helper")
    def raid_helper_link(self, obj: RaidEvent) -> str:
        if not obj.raid_helper_event_id:
            if obj.raid_helper_pending and obj.start_time_utc > timezone.now():
                return format_html(TITLED_HTML, services.NOT_CONFIGURED_NOTE, _("not yet"))
            return "—"
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', obj.raid_helper_url,
                           obj.raid_helper_event_id)

    @admin.display(description=gettext_lazy("On Raid-Helper"))
    def raid_helper_state(self, obj: RaidEvent) -> str:
        """Where the event stands with Raid-Helper, in particular one booked here while it was
        not configured: waiting to be pushed (with the last failure), pushed at, or too late."""
        if obj is None or obj.pk is None:
            return "—"
        if obj.raid_helper_event_id:
            link = format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', obj.raid_helper_url,
                               obj.raid_helper_event_id)
            if obj.raid_helper_pushed_at:
                return format_html(_("Booked here first, pushed to Raid-Helper at {at} UTC: {link}"),
                                   at=date_format(obj.raid_helper_pushed_at.astimezone(dt.UTC), "D d M Y H:i"),
                                   link=link)
            return link
        if not obj.raid_helper_pending:
            return _("Not on Raid-Helper: add its Raid-Helper id below if it has one there.")
        if obj.start_time_utc <= timezone.now():
            return _("Never pushed to Raid-Helper: it started before Raid-Helper was configured.")
        if obj.raid_helper_push_error:
            return _("%(note)s. Last attempt failed (retried every 5 minutes): %(error)s") % {
                "note": services.NOT_CONFIGURED_NOTE, "error": obj.raid_helper_push_error}
        return f"{services.NOT_CONFIGURED_NOTE}."

    @admin.display(description=gettext_lazy("next week"))
    def booking_state(self, obj: RaidEvent) -> str:
        if obj.next_booked_at:
            return _("booked")
        if obj.recurring_event_id is None:
            return "—"
        if obj.start_time_utc < timezone.now() - services.BOOKING_WINDOW_MAX:
            return format_html(WARNING_HTML, _("not booked — book manually"))
        return _("not booked yet")

    @admin.action(description=gettext_lazy("Book next occurrence now"), permissions=["change"])
    def book_next_now(self, request, queryset) -> None:
        def book(event: RaidEvent) -> services.BookingResult:
            result = services.book_next_occurrence(event)
            if result.status not in (result.BOOKED, result.ALREADY_BOOKED):
                raise services.RaidsError(_("being booked by another worker right now; try again in a minute."))
            return result

        def describe(event: RaidEvent, result: services.BookingResult) -> str:
            if result.status == result.ALREADY_BOOKED:
                return _("%(event)s: next week was already booked (%(next)s).") % {"event": event, "next": result.event}
            signed = roster.booking_summary(result.event)
            if not result.event.raid_helper_event_id:
                return _("%(event)s: booked %(next)s here only (Raid-Helper is not configured, so nothing was posted "
                         "there yet; it is pushed with its sign-ups once Raid-Helper is configured). Signed up: "
                         "%(signed)s.") % {"event": event, "next": result.event, "signed": signed}
            return _("%(event)s: booked %(next)s (%(url)s): %(signed)s; %(sent)s sign-ups sent to Raid-Helper, "
                     "%(failed)s failed.") % {"event": event, "next": result.event, "url": result.event.raid_helper_url,
                                              "signed": signed, "sent": result.signups_sent,
                                              "failed": result.signups_failed}

        run_for_each(self, request, queryset.select_related("recurring_event"), book, describe=describe,
                     errors=(DomainError, RaidHelperError))

    @admin.action(description=gettext_lazy("Import sign-ups from Raid-Helper"), permissions=["change"])
    def import_signups(self, request, queryset) -> None:
        def describe(event, report) -> str | None:
            if report.unplaced:  # counted and named, never a quiet success
                self.message_user(request, f"{event}: {report.summary()}.", messages.WARNING)
                return None
            return f"{event}: {report.summary()}."

        run_for_each(self, request, queryset,
                     lambda event: services.import_signups(event, triggered_by=officers.actor(request.user)),
                     errors=(DomainError, RaidHelperError), describe=describe)

    def has_import_wcl_permission(self, request) -> bool:
        """Importing writes attendance: it needs the attendance permission, not only the event's."""
        return self.has_change_permission(request) and request.user.has_perm("raids.change_raidattendance")

    @admin.action(description=gettext_lazy("Import attendance from Warcraft Logs"), permissions=["import_wcl"])
    def import_wcl_attendance(self, request, queryset) -> None:
        def describe(event, result) -> str | None:
            if result.status != "imported" or result.unplaced:  # named, never a quiet success
                self.message_user(request, f"{event}: {result.summary()}.", messages.WARNING)
                return None
            return f"{event}: {result.summary()}."

        run_for_each(self, request, queryset,
                     lambda event: services.import_wcl_attendance(event, force=True,
                                                                  triggered_by=officers.actor(request.user)),
                     errors=(DomainError, WarcraftLogsError), describe=describe)

    @admin.action(description=gettext_lazy("Mark all accepted as attended"), permissions=["change"])
    def mark_accepted_attended(self, request, queryset) -> None:
        changed = services.mark_accepted_attended(list(queryset.values_list("pk", flat=True)))
        self.message_user(request, ngettext("%(count)s accepted player marked as attended.",
                                            "%(count)s accepted players marked as attended.", changed)
                          % {"count": changed})

    def save_formset(self, request, form, formset, change) -> None:
        """Attendance edits go through one service call (validation, ``manual`` source)."""
        if formset.model is not RaidAttendance:
            return super().save_formset(request, form, formset, change)
        changes, changed_forms = [], []
        for inline_form in formset.forms:
            if not inline_form.has_changed() or inline_form in formset.deleted_forms:
                continue
            data = inline_form.cleaned_data
            changes.append(services.AttendanceChange(data.get("player") or inline_form.instance.player,
                                                     data["status"], data["attended"], data.get("late", False)))
            changed_forms.append(inline_form)
        deleted = [f.instance for f in formset.deleted_forms if f.instance.pk]
        try:
            services.edit_attendance(form.instance, changes, [row.pk for row in deleted])
        except DomainError as exc:
            transaction.set_rollback(True)  # the event's own changes are undone with it
            self.message_user(request, _("Nothing saved: %(error)s") % {"error": exc}, messages.ERROR)
            return None
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], deleted
        for inline_form in changed_forms:
            if inline_form.instance.pk:
                formset.changed_objects.append((inline_form.instance, inline_form.changed_data))
            else:
                formset.new_objects.append(inline_form.instance)
        return None


@admin.register(RaidAttendance)
class RaidAttendanceAdmin(PushErrorMixin, SaysWhatChangedMixin, DomainErrorPagesMixin, admin.ModelAdmin):
    """Browse attendance across events; edits happen on the event's page."""

    list_display = ["player", "status", "source", "signup_push", "attended", "attended_source", "signed_up", "event"]
    list_filter = ["status", "attended", "attended_source", "source", "signup_push", "event__season"]
    list_select_related = ["player", "event"]
    search_fields = ["player__display_name", "event__title"]
    exclude = ["signup_push_error"]  # shown translated: push_error
    readonly_fields = [f.name for f in RaidAttendance._meta.fields if f.name != "signup_push_error"] + ["push_error"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def delete_model(self, request, obj) -> None:
        services.remove_attendance([obj.pk])

    def delete_queryset(self, request, queryset) -> None:
        services.remove_attendance(list(queryset.values_list("pk", flat=True)))


@admin.register(RaidHelperSettings)
class RaidHelperSettingsAdmin(SaysWhatChangedMixin, ServiceFormMixin, admin.ModelAdmin):
    """One row. The API key is never shown: only whether RAID_HELPER_API_KEY is set."""

    fieldsets = [
        (None, {"fields": ["api_key_status", "server_id", "raid_channel_id", "leader_discord_id", "leader",
                           "default_template_id", "timezone", "discord_events"]}),
        (gettext_lazy("Warcraft Logs (attendance from the logs)"), {
            "fields": ["wcl_credentials_status", "wcl_guild_id", "wcl_guild_name", "wcl_guild_server_slug",
                       "wcl_guild_server_region"],
            "description": gettext_lazy("The guild whose logs give attendance. The environment's WCL_GUILD_* win "
                                        "when set.")}),
    ]
    readonly_fields = ["api_key_status", "leader", "wcl_credentials_status"]
    service_fields = services.SETTINGS_FIELDS

    def save_fields(self, pk, **fields) -> RaidHelperSettings:
        return services.save_settings(**fields)

    @admin.display(description=gettext_lazy("Leader"))
    def leader(self, obj=None) -> str:
        """The leader's current name from the member directory (the id above is what Raid-Helper takes)."""
        from guildsync.services.members import names_for

        if obj is None or not obj.leader_discord_id:
            return "—"
        return member_label(obj.leader_discord_id, names_for([obj.leader_discord_id]).get(obj.leader_discord_id))

    @admin.display(description=gettext_lazy("Warcraft Logs client"))
    def wcl_credentials_status(self, obj=None) -> str:
        """The client id and secret are secrets: set under Secret settings (or the environment)."""
        missing = [name for name in ("WCL_CLIENT_ID", "WCL_CLIENT_SECRET") if not secret_source(name)]
        if not missing:
            return _("set (client id and secret)")
        return format_html_join(", ", '<a href="{}?name={}">{}</a>', (
            (reverse("admin:core_secretsetting_add"), name, _("set %(name)s") % {"name": name}) for name in missing))

    @admin.display(description=gettext_lazy("API key"))
    def api_key_status(self, obj=None) -> str:
        source = secret_source("RAID_HELPER_API_KEY")
        if source == "environment":
            return _("set (RAID_HELPER_API_KEY in the environment)")
        if source:
            return _("set (Secret settings: RAID_HELPER_API_KEY)")
        return format_html(
            _('missing: <a href="{url}?name=RAID_HELPER_API_KEY">set RAID_HELPER_API_KEY under Secret settings</a> '
              "(the key Raid-Helper's /apikey command gives in Discord; needs the “manage secrets” permission) or "
              "in the environment; events booked meanwhile are pushed to Raid-Helper once it is set"),
            url=reverse("admin:core_secretsetting_add"))

    def has_add_permission(self, request) -> bool:
        return super().has_add_permission(request) and not RaidHelperSettings.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        if RaidHelperSettings.objects.exists():
            return HttpResponseRedirect(reverse("admin:raids_raidhelpersettings_change",
                                                args=[RaidHelperSettings.SINGLETON_PK]))
        return HttpResponseRedirect(reverse("admin:raids_raidhelpersettings_add"))
