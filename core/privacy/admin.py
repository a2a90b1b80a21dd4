"""The officers' "Privacy requests" page: process a member's request (export or erase) for any
Discord id, including someone no longer in the server, and the record of each one.

Processing needs ``core.process_privacy_request`` (in no officer group: a superuser grants it);
the records are read-only. The id typed in is never stored: the record keeps its keyed hash
(``core.privacy.requests``), and the search box hashes a typed id to find its records.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from core.discord_signin import officers
from core.models import PrivacyRequest, RetentionRun

from . import PrivacyError
from .requests import process, target_hash

PERMISSION = "core.process_privacy_request"


class ProcessForm(forms.Form):
    discord_user_id = forms.RegexField(
        regex=r"^\d{15,20}$", label=gettext_lazy("Discord user id"),
        help_text=gettext_lazy("The member's id (Developer Mode → right-click → Copy User ID), also for someone "
                               "who left the server. Not stored: the record keeps a keyed hash of it."),
        error_messages={"invalid": gettext_lazy("A Discord user id is 15 to 20 digits.")})
    kind = forms.ChoiceField(choices=PrivacyRequest.Kind.choices, widget=forms.RadioSelect,
                             label=pgettext_lazy("privacy request", "Request"))
    source = forms.ChoiceField(choices=[c for c in PrivacyRequest.Source.choices if c[0] != "retention"],
                               label=gettext_lazy("Received from"))
    reason = forms.CharField(required=False, max_length=300, label=pgettext_lazy("privacy request", "Reason"),
                             help_text=gettext_lazy("e.g. the Trust & Safety ticket number."))
    confirm = forms.BooleanField(
        required=False, label=gettext_lazy("I understand that erasing cannot be undone"),
        help_text=gettext_lazy("Erasing removes their data from every app, cancels messages waiting for them "
                               "and, if they were in a drawn Secret Santa, tells their Santa about a new "
                               "recipient."))

    def clean(self):
        data = super().clean()
        if data.get("kind") == PrivacyRequest.Kind.FORGET and not data.get("confirm"):
            raise forms.ValidationError(_("Tick the confirmation to erase a member's data."))
        return data


@admin.register(PrivacyRequest)
class PrivacyRequestAdmin(admin.ModelAdmin):
    list_display = ("processed_at", "kind", "source", "status", "processed_by", "received_at")
    list_filter = ("kind", "source", "status")
    search_fields = ("target_hash",)
    search_help_text = gettext_lazy("Type a Discord user id to find its requests (matched by its keyed hash).")
    readonly_fields = ("kind", "source", "status", "received_at", "processed_at", "processed_by", "counts",
                       "refusal", "target_hash")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if term.isdigit():
            try:
                return queryset.filter(target_hash=target_hash(int(term))), False
            except PrivacyError:
                return queryset.none(), False
        return super().get_search_results(request, queryset, search_term)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(PERMISSION)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm(PERMISSION) or super().has_view_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ProcessForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                record, result = process(int(data["discord_user_id"]), kind=data["kind"], source=data["source"],
                                         actor=officers.actor(request.user), reason=data["reason"])
            except PrivacyError as exc:
                self.message_user(request, _("Refused: %(reason)s") % {"reason": exc}, messages.ERROR)
                return redirect(reverse("admin:core_privacyrequest_changelist"))
            if record.kind == PrivacyRequest.Kind.EXPORT:
                response = HttpResponse(json.dumps(result, indent=2, ensure_ascii=False),
                                        content_type="application/json")
                response["Content-Disposition"] = content_disposition_header(
                    True, f"guildops-data-{record.target_hash[:12]}.json")
                return response
            totals = {o: sum(sum(v.values()) for app in record.counts.values() for k, v in app.items() if k == o)
                      for o in ("erased", "anonymised", "kept")}
            self.message_user(request, _("Erased: %(erased)s rows erased, %(anonymised)s anonymised, %(kept)s kept "
                                         "(see the record for each app).") % totals, messages.SUCCESS)
            return redirect(reverse("admin:core_privacyrequest_change", args=[record.pk]))
        context = {**self.admin_site.each_context(request), "title": _("Process a privacy request"), "form": form,
                   "opts": self.model._meta, "has_view_permission": True}
        return TemplateResponse(request, "admin/core/privacyrequest/process.html", context)


@admin.register(RetentionRun)
class RetentionRunAdmin(admin.ModelAdmin):
    """Each retention run's report (read-only): what was deleted, or would have been (dry runs)."""

    list_display = ("started_at", "as_of", "dry_run", "triggered_by", "finished_at")
    list_filter = ("dry_run",)
    readonly_fields = ("started_at", "finished_at", "as_of", "dry_run", "triggered_by", "report")

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm(PERMISSION) or super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
