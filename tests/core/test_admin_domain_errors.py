"""``DomainErrorPagesMixin``: a refusal raised by a service after the form was valid (a rule
the form cannot see, a race with another officer or with Discord) in ``save_model``,
``delete_model`` or an action (``delete_queryset`` behind "Delete selected") becomes an error
message on the page the officer came from, with nothing saved — never a 500. Walked for every
registered admin that uses the mixin, on the demo data.

The refusal is raised by the admin's own hook *after* the hook did its real work (the service
saved or deleted), the way a service fails midway: the page must roll that work back. The
last test removes the mixin's guard and checks the same walk then fails, so this test cannot
pass without it."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.forms.models import model_to_dict
from django.urls import reverse

from core.admin_tools import DomainErrorPagesMixin
from core.errors import DomainError
from tests.core.test_admin_hostile_forms import page_data

pytestmark = pytest.mark.django_db

REFUSAL = "another officer changed this at the same moment: reload and try again"


class RefusedError(DomainError):
    """A refusal only the service can see."""


def guarded_admins() -> list[tuple[type, admin.ModelAdmin]]:
    return [(model, model_admin) for model, model_admin in admin.site._registry.items()
            if isinstance(model_admin, DomainErrorPagesMixin)]


CALLED: list[str] = []


def refuse_after(original):
    """The hook does its real work, then its service refuses."""

    def hook(*args: Any, **kwargs: Any) -> None:
        CALLED.append(original.__name__)
        original(*args, **kwargs)
        raise RefusedError(REFUSAL)

    return hook


def first_row(model_admin: admin.ModelAdmin, request) -> Any:
    return model_admin.get_queryset(request).order_by("pk").first()


def snapshot(obj) -> dict:
    fresh = type(obj)._default_manager.filter(pk=obj.pk).first()
    return model_to_dict(fresh) if fresh is not None else {}


def test_every_guarded_admin_is_walked() -> None:
    """The walk below covers the admins of every app that uses the mixin."""
    labels = {model._meta.app_label for model, _ in guarded_admins()}
    assert {"guildsync", "economy", "ratmas", "raids"} <= labels


def walk(client, monkeypatch) -> tuple[list[str], dict[str, int], list[str]]:
    """Post each guarded admin's change form, delete confirmation and "delete selected" with
    the hook refusing; return what went wrong, how many of each were walked and which
    refusals escaped the page as an exception (a 500)."""
    problems: list[str] = []
    walked = {"save": 0, "delete": 0, "action": 0}
    escaped: list[str] = []

    def post(what: str, url: str, data: dict) -> Any:
        """None when the refusal escaped; "skip" when the page never reached the hook (a
        protected row's delete page, a delete the admin refuses for this row)."""
        CALLED.clear()
        try:
            response = client.post(url, data)
        except RefusedError:
            walked[what] += 1
            escaped.append(f"{name} {what}")
            return None
        if not CALLED:
            return "skip"
        walked[what] += 1
        return response
    request = client.request().wsgi_request
    for model, model_admin in guarded_admins():
        opts = model._meta
        obj = first_row(model_admin, request)
        if obj is None:
            continue
        name = opts.label
        change_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        if model_admin.has_change_permission(request, obj):
            page = client.get(change_url)
            if page.status_code == 200 and "adminform" in (page.context or {}):
                data, _form = page_data(page.context)
                before = snapshot(obj)
                with monkeypatch.context() as patch:
                    patch.setattr(model_admin, "save_model", refuse_after(model_admin.save_model))
                    response = post("save", change_url, {**data, "_save": "Save"})
                problems += check(name, "save", response, change_url)
                if response is not None and snapshot(obj) != before:
                    problems.append(f"{name} save: the row changed although the page refused")
        if model_admin.has_delete_permission(request, obj):
            delete_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_delete", args=[obj.pk])
            with monkeypatch.context() as patch:
                patch.setattr(model_admin, "delete_model", refuse_after(model_admin.delete_model))
                response = post("delete", delete_url, {"post": "yes"})
            problems += check(name, "delete", response, delete_url)
            if response is not None and not snapshot(obj):
                problems.append(f"{name} delete: the row is gone although the page refused")
            changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
            if "delete_selected" in model_admin.get_actions(request):
                with monkeypatch.context() as patch:
                    patch.setattr(model_admin, "delete_queryset", refuse_after(model_admin.delete_queryset))
                    response = post("action", changelist, {"action": "delete_selected", "post": "yes",
                                                           "_selected_action": [obj.pk]})
                problems += check(name, "delete selected", response, changelist)
                if response is not None and not snapshot(obj):
                    problems.append(f"{name} delete selected: the row is gone although the page refused")
    return problems, walked, escaped


def check(name: str, what: str, response, url: str) -> list[str]:
    if isinstance(response, str):
        return []
    if response is None:
        return [f"{name} {what}: the refusal escaped as an exception (a 500)"]
    if response.status_code != 302 or response.url != url:
        return [f"{name} {what}: answered {response.status_code} {getattr(response, 'url', '')}, "
                "not a redirect back to the page"]
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    if f"Nothing was saved: {REFUSAL}" not in shown:
        return [f"{name} {what}: the refusal was not shown ({shown})"]
    return []


def test_a_refusal_in_save_delete_or_an_action_is_a_page_error(admin_client, demo_data, monkeypatch) -> None:
    problems, walked, escaped = walk(admin_client, monkeypatch)
    assert not problems and not escaped, "\n".join(problems)
    assert walked["save"] >= 8 and walked["delete"] >= 8 and walked["action"] >= 5, walked


def test_without_the_mixin_the_walk_fails(admin_client, demo_data, monkeypatch) -> None:
    """The guard removed (the mixin's views pass straight through): the same refusals escape
    as exceptions, i.e. a 500 — so the test above depends on the mixin."""
    monkeypatch.setattr(DomainErrorPagesMixin, "_guarded", lambda self, request, view: view())
    _problems, walked, escaped = walk(admin_client, monkeypatch)
    assert len(escaped) == sum(walked.values()) > 0, (escaped, walked)
