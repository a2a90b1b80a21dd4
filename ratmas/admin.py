"""The organisers' admin ("Ratmas organisers" group).

Every change goes through ``ratmas.services``: the event form calls create_event /
update_event, the actions call the lifecycle services. Participants come from Discord
(/ratmas join, role sync) and are read-only here. Pairings and relayed messages are secret:
they are shown only to users holding ``ratmas.view_pairings_secret``, which the organisers
group does not get by default (see apps.py).
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Count, Q, QuerySet
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext, pgettext_lazy

from core.admin_tools import (
    DomainErrorPagesMixin,
    MemberNamesMixin,
    ReadOnlyAdmin,
    ReadOnlyInline,
    confirm_first,
    has_model_permission,
    member_column,
    run_for_each,
)
from core.errors import DomainError
from ratmas import backup, services
from ratmas.models import Event, Exclusion, Pairing, Participant, RelayMessage, ScheduledSend
from ratmas.services.removal import preview_removal, remove_after_draw

SECRET_PERMISSION = "ratmas.view_pairings_secret"


def can_see_pairings(request: HttpRequest) -> bool:
    return request.user.is_active and request.user.has_perm(SECRET_PERMISSION)


def lookup_reaches_secret(model: type, lookup: str) -> bool:
    """Whether a changelist filter such as ``?gives=<pairing id>`` walks through a pairing or
    a relayed message. Django allows one-step related lookups in the query string without a
    list_filter, so ``/participant/?gives=7`` and ``?receives=7`` would name both ends of
    pairing 7 to anyone who may list participants."""
    for part in lookup.split(LOOKUP_SEP):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return False
        if not field.is_relation or field.related_model is None:
            return False
        model = field.related_model
        if model in (Pairing, RelayMessage):
            return True
    return False


class GuardSecretLookups:
    """Mixin for every Ratmas ModelAdmin: query-string lookups through pairings or relayed
    messages need ``view_pairings_secret`` (refused with 400 otherwise)."""

    def lookup_allowed(self, lookup, value, request=None) -> bool:
        if lookup_reaches_secret(self.model, lookup) and (request is None or not can_see_pairings(request)):
            return False
        return super().lookup_allowed(lookup, value, request)


class ParticipantInline(MemberNamesMixin, ReadOnlyInline):
    """Each participant by their current name in the member directory (the name they joined
    with when the directory does not know them), the Discord id on hover."""

    model = Participant
    member_fields = ("user_id",)
    fields = readonly_fields = (member_column("user_id", gettext_lazy("participant"), stored_name="display_name"), "wishlist_url",
                                "joined_at")


class ExclusionInline(admin.TabularInline):
    """Organisers add or delete exclusions here (like ``/ratmas exclude``) while the event is
    open or locked. Rows are never edited in place, and both ways go through the services
    (``EventAdmin.save_formset``)."""

    model = Exclusion
    fields = ("giver", "receiver", "both_ways")
    extra = 0
    show_change_link = False

    @staticmethod
    def _before_draw(obj: Event | None) -> bool:
        return obj is not None and obj.status in (Event.Status.OPEN, Event.Status.LOCKED)

    def has_add_permission(self, request: HttpRequest, obj: Event | None = None) -> bool:
        return self._before_draw(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Event | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Event | None = None) -> bool:
        return self._before_draw(obj) and super().has_delete_permission(request, obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("giver", "receiver")

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        """Only this event's participants can be picked."""
        if db_field.name in ("giver", "receiver"):
            object_id = str((request.resolver_match.kwargs if request.resolver_match else {}).get("object_id", ""))
            kwargs["queryset"] = Participant.objects.filter(
                event_id=int(object_id) if object_id.isdigit() else None).order_by("display_name")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class PairingInline(ReadOnlyInline):
    model = Pairing
    fields = ("santa", "recipient", "notified_at", "last_error")
    readonly_fields = fields
    verbose_name_plural = gettext_lazy("Pairings (secret)")

    def has_view_permission(self, request, obj=None) -> bool:
        return can_see_pairings(request)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("santa", "recipient")


class EventForm(forms.ModelForm):
    """Validates with the services' own rules so the officer sees errors on the form."""

    class Meta:
        model = Event
        fields = ("name", "guild_id", "signup_deadline", "purchase_deadline", "reveal_date", "timezone", "budget",
                  "announcement_channel_id", "participant_role_id", "managing_role_id")

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        # Read-only fields (guild_id once created, everything once finished) are not on
        # the form: the saved value stands in for them.
        def value(name: str) -> Any:
            return data[name] if name in data else getattr(self.instance, name)

        try:
            services.validate_event_fields(
                value("signup_deadline"), value("purchase_deadline"), value("reveal_date"), value("timezone"),
                value("budget"), new=self.instance.pk is None, guild_id=value("guild_id"))
        except DomainError as exc:
            self._refused_by_service = True
            raise forms.ValidationError(str(exc)) from None
        return data

    def _post_clean(self) -> None:
        """When the services' rules refused the settings, the model's own check of the same
        rule (the dates' order constraint) would repeat the message: skip it."""
        if not getattr(self, "_refused_by_service", False):
            super()._post_clean()


@admin.register(Event)
class EventAdmin(DomainErrorPagesMixin, GuardSecretLookups, admin.ModelAdmin):
    form = EventForm
    list_display = ("title", "guild_id", "status", "signup_deadline", "reveal_date", "participant_count",
                    "notified_count")
    list_filter = ("status",)
    search_fields = ("name", "=guild_id")
    date_hierarchy = "reveal_date"
    readonly_fields = ("status", "notification_summary", "created_at", "updated_at")
    inlines = (ParticipantInline, ExclusionInline, PairingInline)
    actions = ("lock_signups", "reopen_signups", "draw_pairings", "notify_santas", "retry_failed_notifications",
               "complete_events", "cancel_events", "export_json")

    def get_readonly_fields(self, request: HttpRequest, obj: Event | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("status",)
        if obj.is_finished:
            return (*EventForm.Meta.fields, *self.readonly_fields)
        return ("guild_id", *self.readonly_fields)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(
            n_participants=Count("participants", distinct=True),
            n_pairings=Count("pairings", distinct=True),
            n_notified=Count("pairings", filter=Q(pairings__notified_at__isnull=False), distinct=True),
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # cancel instead: the lifecycle service keeps the history

    @admin.display(description=pgettext_lazy("ratmas event", "name"), ordering="name")
    def title(self, obj: Event) -> str:
        return obj.title

    @admin.display(description=gettext_lazy("Participants"), ordering="n_participants")
    def participant_count(self, obj: Event) -> int:
        return obj.n_participants

    @admin.display(description=gettext_lazy("Santas notified"))
    def notified_count(self, obj: Event) -> str:
        return f"{obj.n_notified}/{obj.n_pairings}" if obj.n_pairings else "—"

    @admin.display(description=gettext_lazy("Notifications"))
    def notification_summary(self, obj: Event) -> str:
        if not obj.pk:
            return "—"
        failed = list(obj.pairings.exclude(last_error="").filter(notified_at__isnull=True)
                      .values_list("santa__display_name", "last_error"))
        text = (_("%(notified)s/%(total)s Santas notified.") % {"notified": obj.n_notified, "total": obj.n_pairings}
                if obj.n_pairings else _("No pairings yet."))
        if failed:
            text += " " + _("Not reachable: %(santas)s") % {
                "santas": "; ".join(f"{name} ({error})" for name, error in failed)}
        return text

    def save_model(self, request: HttpRequest, obj: Event, form, change: bool) -> None:
        """Through create_event / update_event: the same rules and announcements as Discord."""
        fields = {name: form.cleaned_data[name] for name in EventForm.Meta.fields if name in form.cleaned_data}
        if change:
            changes = {k: v for k, v in fields.items() if k in form.changed_data and k != "guild_id"}
            if not changes:
                return  # e.g. only exclusions were edited, or a finished event's read-only page
            saved = services.update_event(obj, **changes)
        else:
            saved = services.create_event(**fields)
        obj.pk, obj.status, obj.created_at, obj.updated_at = saved.pk, saved.status, saved.created_at, saved.updated_at

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        """Only the exclusions are editable inline, and only through the services (the
        participant and pairing inlines are read-only: nothing to save)."""
        formset.save(commit=False)  # writes nothing; lists the changes for the history message
        if formset.model is not Exclusion:
            return
        event = form.instance
        try:
            for deleted in formset.deleted_forms:
                if deleted.instance.pk:
                    services.remove_exclusion(event, deleted.instance.giver.user_id, deleted.instance.receiver.user_id)
            for new in formset.extra_forms:
                if new.has_changed() and new not in formset.deleted_forms:
                    services.add_exclusion(event, new.cleaned_data["giver"].user_id,
                                           new.cleaned_data["receiver"].user_id, new.cleaned_data["both_ways"])
        except DomainError as exc:
            self.message_user(request, _("Exclusions: %(error)s") % {"error": exc}, messages.ERROR)

    def _run(self, request, queryset, action, done: str) -> None:
        def describe(event: Event, result: Any) -> str:
            detail = f": {result}" if result is not None and not isinstance(result, Event) else ""
            return f"{event}: {done}{detail}"

        run_for_each(self, request, queryset, action, describe=describe)

    @admin.action(description=gettext_lazy("Lock signups"), permissions=["change"])
    def lock_signups(self, request, queryset) -> None:
        self._run(request, queryset, lambda e: services.set_status(e, Event.Status.LOCKED), _("signups locked"))

    @admin.action(description=gettext_lazy("Reopen signups"), permissions=["change"])
    def reopen_signups(self, request, queryset) -> None:
        self._run(request, queryset, lambda e: services.set_status(e, Event.Status.OPEN), _("signups reopened"))

    @admin.action(description=gettext_lazy("Draw pairings (generate)"), permissions=["change"])
    @confirm_first(title=gettext_lazy("Draw the pairings?"), button=gettext_lazy("Yes, draw the pairings"),
                   affected=lambda e: [p.display_name for p in e.participants.order_by("display_name")],
                   changes=gettext_lazy("Every participant below gets a recipient, respecting the exclusions. "
                                        "Nobody is messaged yet: Santas are told only when you run “Notify Santas "
                                        "by DM”."))
    def draw_pairings(self, request, queryset) -> None:
        self._run(request, queryset, lambda e: services.generate_pairings(e).summary(), _("done"))

    @admin.action(description=gettext_lazy("Notify Santas by DM"), permissions=["change"])
    def notify_santas(self, request, queryset) -> None:
        self._run(request, queryset, services.notify_santas, _("notifications"))

    @admin.action(description=gettext_lazy("Retry failed Santa notifications"), permissions=["change"])
    def retry_failed_notifications(self, request, queryset) -> None:
        self._run(request, queryset, services.retry_failed_notifications, _("retry"))

    @admin.action(description=gettext_lazy("Complete (announce the end)"), permissions=["change"])
    def complete_events(self, request, queryset) -> None:
        self._run(request, queryset, services.complete_event, pgettext("ratmas admin result", "completed"))

    @admin.action(description=gettext_lazy("Cancel (withdraws queued DMs; events are never deleted)"),
                  permissions=["change"])
    def cancel_events(self, request, queryset) -> None:
        self._run(request, queryset, lambda e: services.set_status(e, Event.Status.CANCELLED),
                  pgettext("ratmas admin result", "cancelled"))

    @admin.action(description=gettext_lazy("Export JSON (pairings only with the secret permission)"),
                  permissions=["view"])
    def export_json(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        """Organisers get the archive without pairings; holders of ``view_pairings_secret``
        get the full backup that ``ratmas_import`` restores."""
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one event to export."), messages.ERROR)
            return None
        event = queryset.get()
        secret = can_see_pairings(request)
        data = backup.export_event(event, include_pairings=secret)
        response = HttpResponse(json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json")
        name = f"ratmas-event-{event.pk}" + ("" if secret else "-without-pairings")
        response["Content-Disposition"] = f'attachment; filename="{name}.json"'
        return response


@admin.register(Participant)
class ParticipantAdmin(MemberNamesMixin, GuardSecretLookups, ReadOnlyAdmin):
    """Read-only: participants are managed from Discord (join/leave/role sync). Shown and
    searched by their current name in the member directory, the Discord id on hover."""

    member_fields = ("user_id",)
    list_display = (member_column("user_id", gettext_lazy("participant"), stored_name="display_name"), "event", "wishlist_url",
                    "joined_at")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_select_related = ("event",)
    list_filter = ("event__status",)
    search_fields = ("display_name", "user_id")
    raw_id_fields = ("event",)
    actions = ("remove_after_draw",)

    def has_remove_permission(self, request: HttpRequest) -> bool:
        return has_model_permission(request, Participant, "delete")

    @staticmethod
    def removal_consequences(participant: Participant, request: HttpRequest) -> list[str]:
        """The confirmation page's lines: names of Santas and recipients only for those who may
        see the pairings (an organiser without ``view_pairings_secret`` reads what happens, not
        who draws whom)."""
        preview = preview_removal(participant.event, participant.user_id)
        if preview is None:
            return []
        lines = [_("%(name)s leaves “%(event)s” (removed, with their wishlist).") % {
            "name": preview.removed, "event": participant.event}]
        secret = can_see_pairings(request)
        santa = (_("their Santa %(name)s") % {"name": preview.santa} if secret
                 else _("their Santa (name hidden: pairings are secret)"))
        if preview.chain_repaired:
            recipient = preview.recipient if secret else _("their recipient")
            lines.append(_("Chain repaired: %(santa)s now gives to %(recipient)s.") % {
                "santa": santa, "recipient": recipient})
            lines.append(_("Messaged: %(santa)s gets a new DM naming the new recipient.") % {"santa": santa}
                         if preview.santa_messaged
                         else _("Messaged: nobody (the Santas have not been told their recipients yet)."))
        elif preview.organisers_told:
            lines.append(_("No repair possible (an exclusion or a pair of two): %(santa)s is left without a "
                           "recipient; the announcement channel tells the organisers to pair them again.") % {
                "santa": santa})
        else:
            lines.append(_("Pairings are not drawn yet: nobody else changes, nobody is messaged."))
        if preview.relay_messages:
            lines.append(ngettext("%(count)s anonymous message of their pairings is deleted.",
                                  "%(count)s anonymous messages of their pairings are deleted.",
                                  preview.relay_messages) % {"count": preview.relay_messages})
        return lines

    @admin.action(description=gettext_lazy("Remove from the event (repairs the Santa chain after the draw)"),
                  permissions=["remove"])
    @confirm_first(title=gettext_lazy("Remove these participants?"), button=gettext_lazy("Yes, remove them"),
                   per_viewer=True, affected=removal_consequences,
                   changes=gettext_lazy("Each one leaves the event; where pairings are drawn their Santa takes over "
                                        "their recipient (exclusions still hold). Several at once are removed in the "
                                        "order listed, each repair seeing the previous one."))
    def remove_after_draw(self, request: HttpRequest, queryset: QuerySet) -> None:
        run_for_each(self, request, queryset.select_related("event").order_by("pk"),
                     lambda p: remove_after_draw(p.event_id, p.user_id),
                     describe=lambda p, report: f"{p.display_name}: {report}")


class SecretAdmin(GuardSecretLookups, ReadOnlyAdmin):
    """Visible only with ``view_pairings_secret``; never edited by hand."""

    def has_module_permission(self, request) -> bool:
        return can_see_pairings(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return can_see_pairings(request)


@admin.register(Pairing)
class PairingAdmin(SecretAdmin):
    list_display = ("event", "santa", "recipient", "notified_at", "last_error")
    list_select_related = ("event", "santa", "recipient")
    list_filter = ("event__status", ("notified_at", admin.EmptyFieldListFilter))
    search_fields = ("santa__display_name", "recipient__display_name")
    raw_id_fields = ("event", "santa", "recipient", "notify_message")


@admin.register(RelayMessage)
class RelayMessageAdmin(SecretAdmin):
    list_display = ("created_at", "event", "direction", "pairing", "delivered")
    list_select_related = ("event", "pairing__santa", "pairing__recipient")
    list_filter = ("direction", "delivered")
    raw_id_fields = ("event", "pairing", "outbox_message")


@admin.register(ScheduledSend)
class ScheduledSendAdmin(GuardSecretLookups, ReadOnlyAdmin):
    list_display = ("event", "kind", "sent_at", "recipients")
    list_select_related = ("event",)
    list_filter = ("kind",)
