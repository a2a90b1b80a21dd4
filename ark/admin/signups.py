"""Signups: officers add a member's governor, move slots and teams and mark attendance (the
rows themselves are the members'; read-only here)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from ark import services
from ark.models import (
    Signup,
)
from core.admin_tools import (
    MemberNamesMixin,
    ReadOnlyAdmin,
    confirm_first,
    member_column,
)
from core.i18n import number

from .common import ServiceFormMixin, fill_line, run_service, teams_line


def _slot_action(slot: str):
    def action(model_admin, request, queryset):
        queryset = queryset.select_related("governor", "match__alliance")
        run_service(
            model_admin,
            request,
            queryset,
            _("Moved to %(slot)s") % {"slot": Signup.Slot(slot).label},
            lambda s: services.move_signup_slot(
                match_id=s.match_id, governor_id=s.governor.governor_id, slot_type=slot
            ),
            describe=lambda s, _done: _("Moved %(governor)s to %(slot)s in %(match)s: %(fill)s.") % {
                "governor": s.governor.name, "slot": Signup.Slot(slot).label, "match": s.match,
                "fill": fill_line(s.match)},
        )

    action.__name__ = f"move_to_{slot.lower()}"
    description = format_lazy(gettext_lazy("Move to {slot}"), slot=Signup.Slot(slot).label)
    return admin.action(description=description, permissions=["roster"])(action)


def team_totals_line(match) -> str:
    """ "Ark …: Team 1: 10 players, 45.20 M power · Team 2: 9 players, 41.75 M · gap 3.45 M" after a move."""
    return f"{match}: {teams_line(match)}"


def _team_action(team: int):
    def action(model_admin, request, queryset):
        matches = {s.match_id: s.match for s in queryset.select_related("match__alliance")}
        run_service(model_admin, request, queryset.select_related("governor"),
                    _("Moved to team %(team)s") % {"team": team},
                    lambda s: services.move_to_team(signup_id=s.pk, team=team),
                    describe=lambda s, _done: _("Moved %(governor)s to team %(team)s.") % {
                        "governor": s.governor.name, "team": team})
        for match in matches.values():  # the new totals and the gap, so a worse balance never goes unnoticed
            model_admin.message_user(request, team_totals_line(match), messages.INFO)

    action.__name__ = f"move_to_team_{team}"
    description = format_lazy(gettext_lazy("Draft: move to team {team}"), team=team)
    return admin.action(description=description, permissions=["roster"])(action)


def _attendance_action(value: str):
    label = Signup.Attendance(value).label

    def action(model_admin, request, queryset):
        run_service(model_admin, request, queryset.select_related("governor", "match__alliance"),
                    _("Marked %(mark)s") % {"mark": label},
                    lambda s: services.set_attendance(match_id=s.match_id, governor_id=s.governor.governor_id,
                                                      attendance=value),
                    describe=lambda s, _done: marked_line(s, str(label)))

    action.__name__ = f"mark_{value}"
    return admin.action(description=format_lazy(gettext_lazy("Attendance: {mark}"), mark=label),
                        permissions=["roster"])(action)


def marked_line(signup: Signup, label: str) -> str:
    """ "Marked Seti no-show in Ark … (was played)." after an attendance action."""
    if signup.attendance:
        return _("Marked %(governor)s %(mark)s in %(match)s (was %(before)s).") % {
            "governor": signup.governor.name, "mark": label.lower(), "match": signup.match,
            "before": str(signup.get_attendance_display()).lower()}
    return _("Marked %(governor)s %(mark)s in %(match)s.") % {
        "governor": signup.governor.name, "mark": label.lower(), "match": signup.match}


def removal_reaches(signup: Signup) -> list[str]:
    """Who a removal concerns: the governor's member, and the substitute it promotes (DMed)."""
    from guildsync.services.directory import label

    reached = [_("%(governor)s (%(member)s) leaves %(match)s") % {
        "governor": signup.governor.name, "member": label("member", signup.discord_user_id), "match": signup.match}]
    if signup.status == Signup.Status.ACTIVE and signup.slot == Signup.Slot.PLAYER:
        sub = (Signup.objects.filter(match_id=signup.match_id, status=Signup.Status.ACTIVE, slot=Signup.Slot.SUB)
               .select_related("governor").order_by("created_at", "id").first())
        if sub is not None:
            reached.append(_("%(governor)s (%(member)s) moves up to Player and gets a DM") % {
                "governor": sub.governor.name, "member": label("member", sub.discord_user_id)})
    return reached


class SignupAddForm(forms.ModelForm):
    """An officer signs a member's governor up (``add_signup`` with ``as_officer``): after the
    close, as Sub before the players are full, and past a ban only when ticked (audited)."""

    slot_choice = forms.ChoiceField(
        label=pgettext_lazy("ark", "Slot"),
        required=False,
        choices=[("", gettext_lazy("First free (Player, then Sub)")), *Signup.Slot.choices],
    )
    override_ban = forms.BooleanField(
        required=False, label=gettext_lazy("Override ban"),
        help_text=gettext_lazy("Sign up a banned member or governor anyway (recorded as an override).")
    )
    override_city_hall = forms.BooleanField(
        required=False, label=gettext_lazy("Override city hall"),
        help_text=gettext_lazy("Sign up a governor below the alliance's minimum city hall (recorded as an override).")
    )

    class Meta:
        model = Signup
        fields = ("match", "governor")


@admin.register(Signup)
class SignupAdmin(MemberNamesMixin, ServiceFormMixin, ReadOnlyAdmin):
    form = SignupAddForm
    member_fields = ("discord_user_id",)
    # What officers adjust teams by comes first (visible at 1280 px, tests/core/test_browser_layout.py).
    list_display = (
        "governor",
        member_column("discord_user_id", pgettext_lazy("ark", "member")),
        "team",
        "attendance",
        "power",
        "slot",
        "status",
        "match",
        "source",
        "checked_in_at",
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

    @admin.display(description=gettext_lazy("Power"), ordering="governor__power")
    def power(self, obj: Signup) -> str:
        return number(obj.governor.power) if obj.governor.power is not None else "—"

    @admin.action(description=gettext_lazy("Remove from the roster (officer)"), permissions=["roster"])
    @confirm_first(title=gettext_lazy("Remove from the roster?"), affected=removal_reaches,
                   button=gettext_lazy("Yes, remove them"),
                   changes=gettext_lazy(
                       "Each governor below leaves the match's roster (status Removed; it cannot be undone here, "
                       "they can sign up again while signups are open). A removed Player's slot goes to the first "
                       "substitute, who gets a DM; the roster message in Discord is updated."))
    def remove(self, request, queryset):
        run_service(
            self,
            request,
            queryset.select_related("governor", "match__alliance"),
            _("Removed"),
            lambda s: services.remove_signup(
                match_id=s.match_id,
                governor_id=s.governor.governor_id,
                status=Signup.Status.REMOVED,
                as_officer=True,
            ),
            describe=lambda s, _done: _("Removed %(governor)s from %(match)s: %(fill)s left; the roster message "
                                        "is updated.") % {"governor": s.governor.name, "match": s.match,
                                                          "fill": fill_line(s.match)},
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
        signup = services.add_signup(
            match_id=data["match"].pk,
            governor_id=governor.governor_id,
            discord_user_id=governor.discord_user_id,
            slot_type=data.get("slot_choice") or None,
            as_officer=True,
            override_ban=bool(data.get("override_ban")),
            override_city_hall=bool(data.get("override_city_hall")),
        )
        self.say_done(request, _("Signed up %(governor)s as %(slot)s for %(match)s: %(fill)s; the roster message "
                                 "is updated.") % {"governor": governor.name, "slot": signup.get_slot_display(),
                                                   "match": signup.match, "fill": fill_line(signup.match)})
        return signup
