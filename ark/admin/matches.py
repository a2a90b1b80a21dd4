"""Alliances and matches: the match page with its roster inline, results, locking, cancelling,
the draft and reposting the Discord messages."""

from __future__ import annotations

import datetime as dt
import itertools

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy

from ark import services
from ark.models import (
    Alliance,
    ArkCalendar,
    Match,
    Signup,
)
from core.admin_tools import (
    CONFIRMED,
    ExtraViewsMixin,
    MemberNamesMixin,
    ReadOnlyInline,
    confirm_first,
    member_column,
    run_for_each,
)
from core.errors import DomainError
from core.i18n import number
from core.labels import plain_label

from .common import ServiceFormMixin, channel_label, fill_line, officer_context, run_service, teams_line, utc

WEEKENDS_OFFERED = 6  # the next Ark weekends an officer may add a match for


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

    @admin.display(description=gettext_lazy("Channels"))
    def channels(self, obj: Alliance) -> str:
        text = (_("missing %(channels)s") % {"channels": _(" and ").join(obj.missing_channels)}
                if obj.missing_channels else _("ok"))
        if not obj.officer_channel_id:
            text += " · " + _("no officer channel (withdraw notices go to the confirmation channel: "
                              "set Officer channel)")
        return text

    def service_save(self, request, obj, data):
        alliance = self.save_alliance(data, obj)
        missing = ("; " + _("still missing: %(channels)s") % {"channels": _(" and ").join(alliance.missing_channels)}
                   if alliance.missing_channels else "")
        self.say_done(request, _("Saved alliance %(alliance)s: registration in %(registration)s, confirmation in "
                                 "%(confirmation)s, %(players)s players and %(subs)s subs%(missing)s.") % {
            "alliance": alliance.name, "registration": channel_label(alliance.registration_channel_id),
            "confirmation": channel_label(alliance.confirmation_channel_id), "players": alliance.player_cap,
            "subs": alliance.sub_cap, "missing": missing})
        return alliance

    @staticmethod
    def save_alliance(data, obj):
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
        member_column("discord_user_id", pgettext_lazy("ark", "member")),
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
        label = Match.Result(result).label
        run_service(
            model_admin,
            request,
            queryset,
            _("Result %(result)s") % {"result": label},
            lambda m: services.set_match_result(match_id=m.pk, result=result),
            describe=lambda m, done: _("Recorded %(result)s for %(match)s: the match is completed "
                                       "and its confirmation message shows the result.") % {
                "result": label, "match": done},
        )

    action.__name__ = f"set_result_{result.lower().replace('-', '_')}"
    description = format_lazy(gettext_lazy("Set result: {result}"), result=Match.Result(result).label)
    return admin.action(description=description, permissions=["change"])(action)


class MatchAddForm(forms.ModelForm):
    """A new match from the calendar: the next Ark weekends and the calendars' slots as choices
    (``slot_schedule`` checks the slot is the alliance's and computes the signup close), so no
    date or time is typed and an off-cadence weekend cannot be picked."""

    weekend = forms.TypedChoiceField(label=gettext_lazy("Ark weekend"), coerce=dt.date.fromisoformat,
                                     error_messages={"invalid_choice": gettext_lazy(
                                         "Pick one of the Ark weekends listed: %(value)s is not one of them.")})
    slot = forms.ChoiceField(label=gettext_lazy("Slot (UTC)"), error_messages={
        "invalid_choice": gettext_lazy(
            "Pick one of the slots listed: %(value)s is not a slot of any alliance's calendar.")})

    class Meta:
        model = Match
        fields = ("alliance", "notes")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cadence = services.get_cadence()
        weekends = list(itertools.islice(services.ark_weekends(timezone.now().date() + dt.timedelta(days=1), cadence),
                                        WEEKENDS_OFFERED))
        self.fields["weekend"].choices = [(w.isoformat(), _("%(date)s (Ark weekend)") % {
            "date": dateformat.format(w, "D d M Y")}) for w in weekends]
        self.fields["weekend"].help_text = _("Ark runs every %(count)s weekend(s) from %(anchor)s (Ark cadence).") % {
            "count": cadence.cadence_weekends, "anchor": dateformat.format(cadence.anchor_weekend, "d M Y")}
        by_slot: dict[str, list[str]] = {}
        for calendar in ArkCalendar.objects.select_related("alliance").filter(alliance__is_active=True):
            for label in calendar.slots or []:
                by_slot.setdefault(label, []).append(calendar.alliance.name)
        order = {"Sat": 0, "Sun": 1}
        self.fields["slot"].choices = [
            (label, _("%(slot)s UTC (%(alliances)s)") % {"slot": label, "alliances": ", ".join(sorted(names))})
            for label, names in sorted(by_slot.items(), key=lambda kv: (order.get(kv[0][:3], 2), kv[0]))
        ]
        self.fields["slot"].help_text = _("The slots of the alliances' Ark calendars; signups close as the "
                                          "alliance's calendar says. No slot listed? Set the calendar first "
                                          "(Ark calendars).")


ATTENDANCE_CHOICES = [("", gettext_lazy("— leave as is —")), *((v, label) for v, label in Signup.Attendance.choices if v)]


def attendance_sheet(match: Match) -> dict:
    """The match page's attendance sheet: each roster member (governor and Discord member by
    name) with their mark, the totals, and a pre-filled ban link for whoever reached the
    alliance's no-show rule."""
    from guildsync.services.directory import names_for

    from .bans import suggested_ban_links

    rows = services.match_attendance(match)
    names = names_for("member", [s.discord_user_id for s in rows])
    totals = {value: sum(1 for s in rows if s.attendance == value) for value, _label in Signup.Attendance.choices}
    labels = dict(Signup.Attendance.choices)
    governors = {s.governor_id for s in rows}
    suggestions = [x for x in services.no_show_suggestions(match.alliance) if x.governor.pk in governors]
    links = suggested_ban_links(suggestions)
    return {
        "rows": [{"signup": s, "member": plain_label("member", s.discord_user_id, names.get(s.discord_user_id)),
                  "field": f"attendance-{s.pk}", "ban_link": links.get(s.governor_id)} for s in rows],
        "totals": [((labels[value] if value else _("Not marked")), n) for value, n in totals.items()],
        "choices": ATTENDANCE_CHOICES,
    }


@admin.register(Match)
class MatchAdmin(ExtraViewsMixin, ServiceFormMixin, admin.ModelAdmin):
    # The name says weekend, day, time and alliance; beside it what an officer acts on.
    list_display = ("match_name", "status", "players", "subs", "signups_close", "result")
    list_filter = ("status", "match_day", "result", "alliance")
    list_select_related = ("alliance",)
    search_fields = ("alliance__name", "notes")
    autocomplete_fields = ("alliance",)
    date_hierarchy = "ark_weekend_date"
    inlines = [SignupInline]
    extra_views = (("<int:match_id>/attendance/", "attendance_view", "attendance"),)
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

    @admin.display(description=gettext_lazy("Team draft"))
    def draft_summary(self, obj: Match) -> str:
        """Both teams with their totals (adjust with the Signups actions "Move to team 1/2")."""
        if obj.pk is None or obj.drafted_at is None:
            return _("Not drafted yet (lock the match, then the action “Draft teams”).")
        totals = services.team_totals(obj.pk)
        roster = [s for s in services.get_roster(obj.pk) if s.slot == Signup.Slot.PLAYER]
        cells = format_html_join(
            "",
            '<td style="vertical-align:top;padding-right:2em"><strong>{}</strong><ol>{}</ol></td>',
            (
                (_("Team %(team)s · %(players)s players · %(power)s power") % {
                    "team": team, "players": totals[team][0], "power": number(totals[team][1])},
                 format_html_join("", "<li>{} ({})</li>",
                                  ((s.governor.name, number(s.governor.power or 0)) for s in roster if s.team == team)))
                for team in (1, 2)
            ),
        )
        gap = abs(totals[1][1] - totals[2][1])
        link = reverse("admin:ark_signup_changelist") + f"?match={obj.pk}&status__exact=Active"
        return format_html(
            '<table class="draft-summary"><tr>{}</tr></table><p>{} · <a href="{}">{}</a></p>',
            cells, _("Gap: %(power)s") % {"power": number(gap)}, link, _("Adjust on the signups page"),
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

    @admin.display(description=gettext_lazy("Match"), ordering="match_time_utc")
    def match_name(self, obj: Match) -> str:
        return str(obj)

    @admin.display(description=gettext_lazy("Signups close"), ordering="signup_close_utc")
    def signups_close(self, obj: Match) -> str:
        return utc(obj.signup_close_utc, "D d M Y, H:i")

    @admin.display(description=gettext_lazy("Players"), ordering="n_players")
    def players(self, obj) -> int:
        return obj.n_players

    @admin.display(description=gettext_lazy("Subs"), ordering="n_subs")
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

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = MatchAddForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("alliance", "weekend", "slot", "notes")
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        if obj.status == Match.Status.CANCELLED or self.records_result(obj):
            editable = self.RESULT_FIELDS if self.records_result(obj) else ()
            schedule = ("alliance", "ark_weekend_date", "match_day", "match_time_utc", "signup_close_utc", "notes")
            return (*schedule, *(f for f in self.readonly_fields if f not in editable))
        return ("ark_weekend_date", *self.readonly_fields)

    def service_save(self, request, obj, data):
        if obj is not None and obj.status == Match.Status.CANCELLED:
            return obj  # nothing editable
        if self.records_result(obj):
            match = services.set_match_result(
                match_id=obj.pk, result=data.get("result", ""), result_notes=data.get("result_notes", "")
            )
            self.say_done(request, _("Recorded %(result)s for %(match)s: the match is completed.") % {
                "result": match.get_result_display(), "match": match})
            return match
        if obj is None:
            day, start, close = services.slot_schedule(data["alliance"], data["weekend"], data["slot"])
            match = services.create_match(alliance=data["alliance"], ark_weekend_date=data["weekend"], match_day=day,
                                          match_time_utc=start, signup_close_utc=close, notes=data.get("notes", ""))
            self.say_done(request, _("Created %(match)s: signups close %(close)s; the registration message is "
                                     "queued for %(channel)s.") % {
                "match": match, "close": utc(close), "channel": channel_label(match.alliance.registration_channel_id)})
            return match
        before = Match.objects.get(pk=obj.pk)
        told = len(signed_up_members(before))
        match = services.amend_match(
            match_id=obj.pk,
            match_day=data["match_day"],
            match_time_utc=data["match_time_utc"],
            signup_close_utc=data["signup_close_utc"],
            notes=data.get("notes", ""),
            alliance=data["alliance"],
        )
        moved = match.match_time_utc != before.match_time_utc
        if moved:
            self.say_done(request, ngettext(
                "Saved %(match)s: the start moved from %(before)s; %(count)s signed-up member will get a DM with "
                "the new time.",
                "Saved %(match)s: the start moved from %(before)s; %(count)s signed-up members will get a DM with "
                "the new time.", told) % {"match": match, "before": utc(before.match_time_utc), "count": told})
        else:
            self.say_done(request, _("Saved %(match)s: the start is unchanged, nobody is messaged.") % {"match": match})
        return match

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # cancel instead: members are told by DM

    @staticmethod
    def takes_attendance(request, match: Match | None) -> bool:
        """Attendance is marked once a match (not cancelled) has started, by whoever may change signups."""
        return (match is not None and match.status != Match.Status.CANCELLED
                and match.match_time_utc <= timezone.now() and request.user.has_perm("ark.change_signup"))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        match = self.get_object(request, object_id)
        if (request.method == "POST" and match is not None and not request.POST.get(CONFIRMED)
                and match.status in Match.OPEN_STATUSES and not self.records_result(match)
                and self.has_change_permission(request, match)):
            confirm = self.confirm_new_start(request, match)
            if confirm is not None:
                return confirm
        if self.takes_attendance(request, match):
            extra_context = {**(extra_context or {}), "attendance_sheet": attendance_sheet(match),
                             "attendance_url": reverse("admin:ark_match_attendance", args=[match.pk])}
        return super().change_view(request, object_id, form_url, extra_context)

    def confirm_new_start(self, request, match: Match):
        """A new start DMs every signed-up member (``amend_match``): a valid change form that moves
        the start of a match with members shows them and the new time first, and saves nothing;
        the page posts the same form again, confirmed. Any other edit saves at once."""
        from django.template.response import TemplateResponse

        plain_form = admin.ModelAdmin.get_form(self, request, match, change=True)  # without the service save
        form = plain_form(request.POST, instance=Match.objects.get(pk=match.pk))
        if not form.is_valid() or form.cleaned_data.get("match_time_utc") in (None, match.match_time_utc):
            return None
        members = signed_up_members(match)
        if not members:
            return None
        start = form.cleaned_data["match_time_utc"]
        return TemplateResponse(request, "admin/ark/match/confirm_new_start.html", {
            **self.admin_site.each_context(request), "title": _("Move the match and DM its members?"),
            "opts": self.model._meta, "match": match, "members": members,
            "before": utc(match.match_time_utc, "l d M Y, H:i"), "after": utc(start, "l d M Y, H:i"),
            "posted": [(k, v) for k in request.POST if k not in ("csrfmiddlewaretoken", CONFIRMED)
                       for v in request.POST.getlist(k)],
            "confirmed_name": CONFIRMED,
        })

    def attendance_view(self, request, match_id: int):
        """The match page's attendance sheet posts here: every mark changed goes through
        ``set_match_attendance`` (one transaction); the message names each change and the totals."""
        from django.http import HttpResponseNotAllowed, HttpResponseRedirect

        match = Match.objects.select_related("alliance").filter(pk=match_id).first()
        if not request.user.has_perm("ark.change_signup"):
            raise PermissionDenied
        if match is None:
            raise Http404(_("No such Ark match."))
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        back = HttpResponseRedirect(reverse("admin:ark_match_change", args=[match.pk]) + "#attendance-sheet")
        rows = {s.pk: s for s in services.match_attendance(match)}
        marks, unknown = {}, []
        for key, value in request.POST.items():
            if not key.startswith("attendance-") or not value:
                continue
            signup = rows.get(int(key.removeprefix("attendance-"))) if key.removeprefix("attendance-").isdigit() else None
            if signup is None or value not in Signup.Attendance.values:
                unknown.append(key)
                continue
            marks[signup.governor.governor_id] = value
        if unknown:
            self.message_user(request, _("Nothing was saved: the sheet lists other governors now; reload the page "
                                         "and mark again."), messages.ERROR)
            return back
        try:
            with officer_context(request):
                changed = services.set_match_attendance(match_id=match.pk, marks=marks)
        except DomainError as exc:
            self.message_user(request, _("Nothing was saved: %(error)s") % {"error": exc}, messages.ERROR)
            return back
        labels = dict(Signup.Attendance.choices)
        if not changed:
            self.message_user(request, _("Attendance of %(match)s: nothing changed.") % {"match": match}, messages.INFO)
            return back
        what = ", ".join(f"{s.governor.name} {str(labels[s.attendance]).lower()}"
                         + (" " + _("(was %(mark)s)") % {"mark": str(labels[before]).lower()} if before else "")
                         for s, before in changed)
        counts = dict.fromkeys(Signup.Attendance.values, 0)
        for s in services.match_attendance(match):
            counts[s.attendance] += 1
        self.message_user(request, _("Attendance of %(match)s: %(changes)s. Now %(played)s played, %(no_show)s "
                                     "no-show, %(excused)s excused, %(unmarked)s not marked.") % {
            "match": match, "changes": what, "played": counts["played"], "no_show": counts["no_show"],
            "excused": counts["excused"], "unmarked": counts[""]}, messages.SUCCESS)
        return back

    @admin.action(description=gettext_lazy("Lock signups now (posts the confirmation)"), permissions=["change"])
    @confirm_first(title=gettext_lazy("Lock signups now?"), affected=signed_up_members,
                   button=gettext_lazy("Yes, lock and post the roster"),
                   changes=gettext_lazy("Signups close now and the roster below is posted to the alliance's "
                                        "confirmation channel in Discord."))
    def lock(self, request, queryset):
        run_service(self, request, queryset, _("Locked"), lambda m: services.lock_match(match_id=m.pk),
                    describe=lambda m, done: _("Locked %(match)s: %(fill)s; signups are closed and the confirmation "
                                               "message is queued for %(channel)s.") % {
                        "match": done, "fill": fill_line(done),
                        "channel": channel_label(done.alliance.confirmation_channel_id)})

    @admin.action(description=gettext_lazy("Cancel (DMs the signed-up members)"), permissions=["change"])
    @confirm_first(title=gettext_lazy("Cancel these matches?"), affected=signed_up_members,
                   button=gettext_lazy("Yes, cancel and DM them"),
                   changes=gettext_lazy("The match is cancelled for good (it cannot be reopened) and every member "
                                        "below gets a DM saying so."))
    def cancel(self, request, queryset):
        members = {m.pk: len(signed_up_members(m)) for m in queryset}  # before: cancelling keeps the rows
        run_service(self, request, queryset, _("Cancelled"), lambda m: services.cancel_match(match_id=m.pk),
                    describe=lambda m, done: ngettext(
                        "Cancelled %(match)s: %(count)s signed-up member will get a DM; their reminders are withdrawn.",
                        "Cancelled %(match)s: %(count)s signed-up members will get a DM; their reminders are "
                        "withdrawn.", members.get(m.pk, 0)) % {"match": done, "count": members.get(m.pk, 0)})

    @admin.action(description=gettext_lazy("Draft teams (locked matches)"), permissions=["change"])
    def draft(self, request, queryset):
        run_for_each(
            self, request, queryset,
            lambda m: services.draft_teams(match_id=m.pk),
            describe=lambda m, plan: _("%(match)s: teams drafted, %(power1)s vs %(power2)s power (gap %(gap)s); "
                                       "nothing is posted until you publish the draft.") % {
                "match": m, "power1": number(plan.power1), "power2": number(plan.power2),
                "gap": number(abs(plan.power1 - plan.power2))},
            context=lambda: officer_context(request),
        )

    @admin.action(description=gettext_lazy("Publish the draft to the confirmation channel"), permissions=["change"])
    @confirm_first(title=gettext_lazy("Publish the draft?"), affected=signed_up_members,
                   button=gettext_lazy("Yes, publish the teams"),
                   changes=gettext_lazy("The drafted teams of the members below are posted to the alliance's "
                                        "confirmation channel in Discord."))
    def publish_draft(self, request, queryset):
        run_service(self, request, queryset, _("Draft published"), lambda m: services.publish_draft(match_id=m.pk),
                    describe=lambda m, ref: _("Published the teams of %(match)s to %(channel)s: %(teams)s.") % {
                        "match": m, "channel": channel_label(m.alliance.confirmation_channel_id),
                        "teams": teams_line(m)})

    @admin.action(description=gettext_lazy("Repost the Discord messages"), permissions=["change"])
    def repost(self, request, queryset):
        run_service(self, request, queryset, _("Reposted"), lambda m: services.repost_match_messages(match_id=m.pk),
                    describe=lambda m, done: reposted_line(done))


def reposted_line(match: Match) -> str:
    registration = channel_label(match.alliance.registration_channel_id)
    if match.status == Match.Status.SCHEDULED:
        return _("Reposting the Discord messages of %(match)s: the registration message to %(registration)s.") % {
            "match": match, "registration": registration}
    return _("Reposting the Discord messages of %(match)s: the registration message to %(registration)s, the "
             "confirmation message to %(confirmation)s.") % {
        "match": match, "registration": registration,
        "confirmation": channel_label(match.alliance.confirmation_channel_id)}
