"""No admin page answers 500: every registered ModelAdmin's add and change forms are posted
with hostile values (10^20 in number fields, 10,000-character mixed-script text, far dates,
nonsense choices and ids, empty values) on top of the demo data. Each answer must be a page
with form errors, a redirect (saved) or a refusal (403): never an exception."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django import forms
from django.contrib import admin
from django.db import transaction
from django.urls import reverse

BIG = "100000000000000000000"  # 10^20
TEXT = ("Rat Ωмега 漢字 🐀 عربى " * 500)[:10_000]  # mixed scripts, 10,000 characters
SHORT_MIXED = "Ünï 漢 🐀 ب"

VARIANTS = ("huge", "far_past", "empty")


def hostile_value(field: forms.Field, variant: str) -> Any:
    if variant == "empty":
        return [] if isinstance(field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField) else ""
    huge = variant == "huge"
    if isinstance(field, forms.SplitDateTimeField):
        return ["9999-12-31", "23:59:59"] if huge else ["0001-01-01", "00:00:00"]
    if isinstance(field, forms.DateTimeField):
        return "9999-12-31 23:59:59" if huge else "0001-01-01 00:00:00"
    if isinstance(field, forms.DateField):
        return "9999-12-31" if huge else "0001-01-01"
    if isinstance(field, forms.TimeField):
        return "23:59:59" if huge else "00:00:00"
    if isinstance(field, forms.IntegerField | forms.FloatField | forms.DecimalField):
        return BIG if huge else f"-{BIG}"
    if isinstance(field, forms.BooleanField | forms.NullBooleanField):
        return "on"
    if isinstance(field, forms.ModelMultipleChoiceField):
        return [BIG]
    if isinstance(field, forms.ModelChoiceField):
        return BIG if huge else "-1"
    if isinstance(field, forms.ChoiceField):
        valid = [str(value) for value, _label in field.choices if value not in ("", None)]
        return TEXT if huge or not valid else valid[-1]
    if isinstance(field, forms.JSONField):
        return json.dumps({"k": TEXT[:5000]})[:-1] + f', "n": {BIG}}}' if huge else "[" * 50
    if isinstance(field, forms.URLField):
        return "https://example.org/" + "a" * 10_000 if huge else "javascript:alert(1)"
    return TEXT if huge else SHORT_MIXED


def widget_data(name: str, field: forms.Field, value: Any) -> dict[str, Any]:
    """What a browser would post for ``value`` in this field's widget."""
    widget = field.widget
    if isinstance(widget, forms.MultiWidget):
        parts = value if isinstance(value, list | tuple) else widget.decompress(value)
        return {f"{name}{suffix}": "" if part is None else sub.format_value(part) or ""
                for suffix, sub, part in zip(widget.widgets_names, widget.widgets, parts, strict=False)}
    if value is None:
        return {}
    if isinstance(value, list | tuple):
        return {name: [str(v) for v in value]}
    if isinstance(value, bool):
        return {name: "on"} if value else {}
    formatted = widget.format_value(value)
    return {name: "" if formatted is None else formatted}


def page_data(context) -> tuple[dict[str, Any], forms.BaseForm]:
    """The data the add/change page would post unchanged: the main form's and each inline's
    values plus the inlines' management forms."""
    form = context["adminform"].form
    data: dict[str, Any] = {}
    for bound in form:
        data.update(widget_data(bound.html_name, bound.field, bound.value()))
    for inline in context.get("inline_admin_formsets", []):
        formset = inline.formset
        for bound in formset.management_form:
            data[bound.html_name] = bound.value()
        for inline_form in formset.forms:
            for bound in inline_form:
                data.update(widget_data(bound.html_name, bound.field, bound.value()))
    return data, form


def with_hostile_values(data: dict[str, Any], form: forms.BaseForm, variant: str) -> dict[str, Any]:
    data = dict(data)
    for bound in form:
        value = hostile_value(bound.field, variant)
        for key in [k for k in data if k == bound.html_name or k.startswith(f"{bound.html_name}_")]:
            data.pop(key)
        data.update(widget_data(bound.html_name, bound.field, value))
    return data


def _try(client, method: str, url: str, data: dict | None = None) -> tuple[int | None, str]:
    """One request in a savepoint that is always rolled back: each post starts from the
    demo data, and an exception is caught and reported instead of ending the walk."""
    try:
        with transaction.atomic():
            response = client.post(url, data) if method == "post" else client.get(url)
            transaction.set_rollback(True)
    except Exception as exc:  # noqa: BLE001 - a 500 is what this test looks for
        return None, f"{type(exc).__name__}: {exc}"[:300]
    return response.status_code, response.content.decode(errors="replace")


@pytest.mark.django_db
def test_no_admin_form_answers_500(admin_client, demo_data) -> None:
    failures: list[str] = []
    posted_change_forms = 0
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        targets = [("add", reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))]
        obj = model_admin.get_queryset(admin_client.request().wsgi_request).order_by("pk").first()
        if obj is not None:
            targets.append(("change", reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])))
        for kind, url in targets:
            status, body = _try(admin_client, "get", url)
            if status is None or status >= 500:
                failures.append(f"GET {kind} {opts.label}: {body}")
                continue
            if status != 200:
                continue  # refused (403) or redirected: no form to post
            response = admin_client.get(url)
            if "adminform" not in (response.context or {}):
                continue
            base, form = page_data(response.context)
            posted_change_forms += kind == "change"
            for variant in VARIANTS:
                status, body = _try(admin_client, "post", url, with_hostile_values(base, form, variant))
                if status is None or status >= 500:
                    failures.append(f"POST {kind} {opts.label} ({variant}): {body}")
                elif status == 200 and "errornote" not in body and "errorlist" not in body:
                    failures.append(f"POST {kind} {opts.label} ({variant}): 200 without a form error")
    assert not failures, "\n".join(failures)
    assert posted_change_forms >= 15  # the demo data gives most admins a row to edit


@pytest.mark.django_db
def test_the_walk_posts_what_it_should(admin_client, demo_data) -> None:
    """The hostile values reach the forms: a Ratmas event page with 10^20 and 10,000
    characters answers with the fields' own errors."""
    from ratmas.models import Event

    url = reverse("admin:ratmas_event_change", args=[Event.objects.order_by("pk").first().pk])
    base, form = page_data(admin_client.get(url).context)
    response = admin_client.post(url, with_hostile_values(base, form, "huge"))
    errors = response.context["adminform"].form.errors
    assert response.status_code == 200 and "name" in errors and "announcement_channel_id" in errors


# Written by the system (errors it recorded), never typed into a form.
SYSTEM_TEXT = {"bot.OutboxMessage.last_error", "guildsync.SyncLog.error", "ratmas.Pairing.last_error",
               "raids.RaidEvent.roster_post_text",  # rendered by the live-roster service
               "core.SecretSetting.ciphertext",  # Fernet output of a secret, never typed or shown
               "guildsync.RoleConnection.access_token"}  # a member's Discord token, encrypted; never typed


def test_typed_text_fields_have_a_length() -> None:
    """Free text an officer or member types has a model-level length (the form refuses more),
    sized to the Discord message it ends up in."""
    from django.apps import apps
    from django.db import models

    unbounded = [f"{model._meta.label}.{field.name}"
                 for model in apps.get_models() if model._meta.app_label in
                 ("ark", "bot", "core", "economy", "guildsync", "raids", "ratmas")
                 for field in model._meta.get_fields()
                 if isinstance(field, models.TextField) and field.max_length is None]
    assert sorted(set(unbounded) - SYSTEM_TEXT) == []
