"""Admin building blocks shared by the domain apps."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename
from django.core.exceptions import ValidationError
from django.db import models, router, transaction
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from core.errors import DomainError


class ServiceFormMixin:
    """A ModelAdmin whose add/change forms save through a service, because services are the
    only writers. ``service_save(request, obj_or_None, cleaned_data)`` runs once the form's
    own validation passed and returns the saved row; a DomainError becomes a form error, so
    the officer sees the rule's message and nothing is saved. When something else on the page
    (an inline) is invalid, what the service saved is rolled back with it: an error page never
    leaves half an edit. ``service_context(request)`` wraps the call (e.g. to record who acted).
    """

    def service_save(self, request: HttpRequest, obj: Any, cleaned_data: dict[str, Any]) -> Any:
        raise NotImplementedError

    def service_context(self, request: HttpRequest) -> contextlib.AbstractContextManager:
        return contextlib.nullcontext()

    def get_form(self, request, obj=None, change=False, **kwargs):
        base = super().get_form(request, obj, change, **kwargs)
        model_admin = self

        class ServiceForm(base):
            def _post_clean(self) -> None:
                super()._post_clean()
                if self.errors:
                    return
                try:
                    with model_admin.service_context(request):
                        self.instance = model_admin.service_save(request, obj, self.cleaned_data)
                except DomainError as exc:
                    self.add_error(None, ValidationError(str(exc)))

        return ServiceForm

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        with transaction.atomic(using=router.db_for_write(self.model)):
            response = super().changeform_view(request, object_id, form_url, extra_context)
            if request.method == "POST" and (getattr(response, "context_data", None) or {}).get("errors"):
                transaction.set_rollback(True)
        return response

    def save_model(self, request, obj, form, change) -> None:
        """Already saved by the service, during the form's validation."""


def _row_verb(verb: str) -> str:
    """Django's change-message verbs (stored in English) as the officer reads them."""
    return {"added": pgettext("rows", "added"), "changed": pgettext("rows", "changed"),
            "deleted": pgettext("rows", "deleted")}.get(verb, verb)


def _changed_successfully() -> re.Pattern:
    """Django's own "The {name} “{obj}” was changed successfully." in the active language (its
    catalogue's sentence), as a pattern: what follows it ("You may edit it again below.") stays."""
    from django.utils.translation import gettext as django_gettext

    template = re.escape(django_gettext("The {name} “{obj}” was changed successfully."))
    return re.compile(template.replace(re.escape("{name}"), ".*?").replace(re.escape("{obj}"), ".*?"), re.S)


class SaysWhatChangedMixin:
    """A change page's success message says what changed ("Saved “Raid night”: title, start
    time; 2 attendance rows changed, 1 added."), not Django's "was changed successfully": the
    officer sees at once whether the edit was the one they meant. Built from Django's own change
    message (field labels, inline rows), so it says exactly what the history records."""

    def construct_change_message(self, request: HttpRequest, form: Any, formsets: Any, add: bool = False) -> list:
        message = super().construct_change_message(request, form, formsets, add)
        # read by message_user below, in the same request: the same change, with the labels and
        # names in the officer's language (Django stores its message in English, for the history)
        request._guildops_change = self._shown_change(form, formsets, add)
        return message

    @staticmethod
    def _shown_change(form: Any, formsets: Any, add: bool) -> list:
        def labels(some_form: Any, names: Iterable[str]) -> list[str]:
            return [str(some_form.fields[name].label or name) if name in some_form.fields else name for name in names]

        shown: list = []
        if not add and form.changed_data:
            shown.append({"changed": {"fields": labels(form, form.changed_data)}})
        for formset in formsets or []:
            shown += [{"added": {"name": str(row._meta.verbose_name)}} for row in formset.new_objects]
            shown += [{"changed": {"name": str(row._meta.verbose_name), "fields": labels(formset.forms[0], names)}}
                      for row, names in formset.changed_objects]
            shown += [{"deleted": {"name": str(row._meta.verbose_name)}} for row in formset.deleted_objects]
        return shown

    @staticmethod
    def describe_change(obj: Any, message: list) -> str:
        fields: list[str] = []
        rows: dict[tuple[str, str], int] = {}
        german = (translation.get_language() or "").startswith("de")
        for part in message:
            for verb, detail in part.items():
                if verb == "changed" and "name" not in detail:
                    # lower case mid-sentence, except in German, where nouns keep their capital
                    fields += [str(f) if german else str(f).lower() for f in detail.get("fields", [])]
                elif "name" in detail:
                    rows[(str(detail["name"]), verb)] = rows.get((str(detail["name"]), verb), 0) + 1
        said = [", ".join(fields)] if fields else []
        said += [(_("%(count)s %(name)s row %(verb)s") if n == 1 else _("%(count)s %(name)s rows %(verb)s"))
                 % {"count": n, "name": name, "verb": _row_verb(verb)} for (name, verb), n in rows.items()]
        return _("Saved “%(object)s”: %(changes)s.") % {"object": obj,
                                                         "changes": "; ".join(said) if said else _("nothing changed")}

    def message_user(self, request: HttpRequest, message: Any, level: int = messages.INFO, *args: Any,
                     **kwargs: Any) -> None:
        change = getattr(request, "_guildops_change", None)
        done = _changed_successfully().match(str(message)) if change is not None and level == messages.SUCCESS else None
        if done:
            obj = getattr(request, "_guildops_changed_object", None)
            message = self.describe_change(obj if obj is not None else "", change) + str(message)[done.end():]
        super().message_user(request, message, level, *args, **kwargs)

    def response_change(self, request: HttpRequest, obj: Any) -> HttpResponse:
        request._guildops_changed_object = obj
        return super().response_change(request, obj)


class ExtraViewsMixin:
    """Officer pages beside a model's changelist (a report, an upload, a chart), declared as
    ``extra_views = ((route, method name, url suffix), ...)``. Each is wrapped in
    ``admin_view`` (login and staff checks, no caching) and named
    ``admin:<app>_<model>_<suffix>``, so every app names its pages the same way; the view itself
    still checks the model permission it needs."""

    extra_views: tuple[tuple[str, str, str], ...] = ()

    def get_urls(self) -> list[URLPattern]:
        opts = self.model._meta
        extra = [path(route, self.admin_site.admin_view(getattr(self, method)),
                      name=f"{opts.app_label}_{opts.model_name}_{suffix}")
                 for route, method, suffix in self.extra_views]
        return extra + super().get_urls()


class _NoWrites:
    """Nobody adds, changes or deletes these rows in the admin."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(_NoWrites, admin.ModelAdmin):
    """Rows another system or the services own: officers look, and act only through actions
    (each declaring the permission it needs, see ``has_model_permission``)."""


class ReadOnlyInline(_NoWrites, admin.TabularInline):
    """An inline that lists related rows without letting anyone add, edit or delete them."""

    extra = 0
    can_delete = False


def has_model_permission(request: HttpRequest, model: type[models.Model], action: str) -> bool:
    """Whether the user holds ``<app>.<action>_<model>``: read-only admins answer their
    custom action permissions (``permissions=["resolve"]`` → ``has_resolve_permission``)
    with the model's change or delete permission, which ``has_change_permission`` cannot
    report because the rows have no edit form."""
    opts = model._meta
    return request.user.has_perm(f"{opts.app_label}.{get_permission_codename(action, opts)}")


def run_for_each(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    rows: Iterable[Any],
    call: Callable[[Any], Any],
    *,
    summary: str | None = None,
    describe: Callable[[Any, Any], str | None] | None = None,
    errors: tuple[type[BaseException], ...] = (DomainError,),
    context: Callable[[], contextlib.AbstractContextManager] | None = None,
) -> int:
    """An admin action's loop: ``call(row)`` (a service) for each selected row, each in its
    own transaction (the service's), so one refusal never undoes the others. Every refusal
    is reported with the row's name and the rule's message; successes are reported one line
    per row (``describe(row, result)``, a falsy answer reports nothing) or as one ``summary``
    line (``{n}`` is the count). ``context()`` wraps the whole run (e.g. who acted).
    Returns how many rows succeeded."""
    done: list[str] = []
    ok = 0
    with (context or contextlib.nullcontext)():
        for row in rows:
            try:
                result = call(row)
            except errors as exc:
                model_admin.message_user(request, f"{row}: {exc}", messages.ERROR)
                continue
            ok += 1
            if describe is not None:
                line = describe(row, result)
                if line:
                    done.append(line)
    for line in done:
        model_admin.message_user(request, line, messages.SUCCESS)
    if summary and ok:
        model_admin.message_user(request, summary.format(n=ok), messages.SUCCESS)
    return ok


# Discord members, servers, channels and roles by name: core/admin_names.py (re-exported here).
from core.admin_names import (  # noqa: E402,F401
    MemberNamesMixin,
    actor_column,
    actor_label,
    details_column,
    directory_column,
    directory_label,
    member_column,
    member_label,
    readable_details,
    server_filter,
)


# -- internal codes as words -----------------------------------------------------------------------
def humanize_code(code: str) -> str:
    """``match_locked`` → "Match locked": internal codes (audit actions…) as officers read them."""
    text = (code or "").replace("_", " ").strip()
    return text[:1].upper() + text[1:]


class HumanizedValuesFilter(admin.AllValuesFieldListFilter):
    """Django's "all values" filter, with each code shown as words (``humanize_code``)."""

    def choices(self, changelist):
        for choice in super().choices(changelist):
            if choice["display"] in self.lookup_choices:
                choice = {**choice, "display": humanize_code(choice["display"])}
            yield choice


class DomainErrorPagesMixin:
    """For admins whose ``save_model`` / ``delete_model`` / ``delete_queryset`` call services
    after the form was valid: a refusal there (a rule the form cannot see, a race with another
    officer or with Discord) becomes an error message on the page the officer came from, with
    nothing saved, instead of a 500."""

    def _refusal(self, request: HttpRequest, exc: DomainError, to: str):
        from django.http import HttpResponseRedirect

        self.message_user(request, _("Nothing was saved: %(reason)s") % {"reason": exc}, messages.ERROR)
        return HttpResponseRedirect(to)

    def _guarded(self, request: HttpRequest, view: Callable[[], Any]) -> Any:
        if request.method != "POST":
            return view()  # reading saves nothing: no transaction (and no savepoint query)
        try:
            with transaction.atomic(using=router.db_for_write(self.model)):
                return view()
        except DomainError as exc:
            return self._refusal(request, exc, request.get_full_path())

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return self._guarded(request, lambda: super(DomainErrorPagesMixin, self).changeform_view(
            request, object_id, form_url, extra_context))

    def delete_view(self, request, object_id, extra_context=None):
        return self._guarded(request, lambda: super(DomainErrorPagesMixin, self).delete_view(
            request, object_id, extra_context))

    def changelist_view(self, request, extra_context=None):
        return self._guarded(request, lambda: super(DomainErrorPagesMixin, self).changelist_view(
            request, extra_context))


# -- confirmation before anything that messages members or cannot be undone --------------------------
CONFIRMED = "confirmed"  # the confirmation page's submit button: present only on the second request


def confirm_first(*, title: str, affected: Callable[..., Iterable[str]], changes: str,
                  button: str, per_viewer: bool = False) -> Callable[[Callable], Callable]:
    """Wrap an admin action so it first shows a confirmation page and changes nothing: per
    selected row, who will be messaged or affected (``affected(row)``: names; with
    ``per_viewer``, ``affected(row, request)``, for names only some viewers may see) and what
    changes (``changes``); the action itself runs only when the officer confirms (the page posts
    the same selection back with ``confirmed``). Apply it under ``@admin.action``."""

    def wrap(action: Callable) -> Callable:
        import functools

        from django.template.response import TemplateResponse

        @functools.wraps(action)
        def confirmed_action(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: models.QuerySet):
            if request.POST.get(CONFIRMED):
                return action(model_admin, request, queryset)
            rows = [{"row": str(row), "affected": list(affected(row, request) if per_viewer else affected(row))}
                    for row in queryset]
            return TemplateResponse(request, "admin/confirm_action.html", {
                **model_admin.admin_site.each_context(request), "title": title, "opts": model_admin.model._meta,
                "rows": rows, "changes": changes, "button": button, "action": request.POST.get("action", ""),
                "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME, "confirmed_name": CONFIRMED,
                "select_across": request.POST.get("select_across", "0"),
            })

        return confirmed_action

    return wrap
