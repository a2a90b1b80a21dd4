"""Every admin action declares the permission it needs, and a write never runs on view
permission alone: walked over every registered action, then tried over HTTP per app by a
staff user who may only look."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.test import RequestFactory
from django.urls import reverse

from tests import factories

# Actions that only read (they write nothing): view permission is enough for them.
READ_ONLY_ACTIONS = {("ratmas", "event", "export_json")}


def registered_actions() -> list[tuple[str, admin.ModelAdmin, str, Any]]:
    found = []
    for model, model_admin in admin.site._registry.items():
        for func, name, _description in model_admin._get_base_actions():
            found.append((f"{model._meta.label}.{name}", model_admin, name, func))
    return found


def test_the_walk_sees_the_actions() -> None:
    assert len(registered_actions()) > 20


@pytest.mark.parametrize(("label", "model_admin", "name", "func"), registered_actions(),
                         ids=lambda v: v if isinstance(v, str) and "." in v else "")
def test_action_declares_a_write_permission(label: str, model_admin: admin.ModelAdmin, name: str, func: Any) -> None:
    perms = tuple(getattr(func, "allowed_permissions", ()))
    assert perms, f"{label} declares no permission: anyone who can open the list could run it"
    opts = model_admin.model._meta
    if set(perms) <= {"view"}:
        assert (opts.app_label, opts.model_name, name) in READ_ONLY_ACTIONS, (
            f"{label} runs with view permission alone but is not a read-only action")
    for perm in perms:
        assert callable(getattr(model_admin, f"has_{perm}_permission", None)), label


@pytest.mark.django_db
@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label)
def test_view_only_staff_is_offered_no_write_action(model, django_user_model) -> None:
    model_admin = admin.site._registry[model]
    opts = model._meta
    user = django_user_model.objects.create_user("viewer", is_staff=True)
    user.user_permissions.add(Permission.objects.get(content_type__app_label=opts.app_label,
                                                     codename=f"view_{opts.model_name}"))
    request = RequestFactory().get("/")
    request.user = django_user_model.objects.get(pk=user.pk)  # fresh permission cache
    offered = set(model_admin.get_actions(request))
    assert offered <= {name for app, model_name, name in READ_ONLY_ACTIONS
                       if (app, model_name) == (opts.app_label, opts.model_name)}


# -- over HTTP, one write action per app ------------------------------------------------------------
def _moderation_case():
    from economy.models import ModerationCase

    case = factories.moderation_case(2, moderator_id=3, moderator_tag="mod")
    return case, lambda: ModerationCase.objects.get(pk=case.pk).resolved is False


def _recurring_event():
    from raids.models import RecurringEvent

    night = factories.raid_night("Raid")
    return night, lambda: RecurringEvent.objects.get(pk=night.pk).is_active


def _failed_outbox_row():
    from bot.models import OutboxMessage

    row = factories.outbox_message(status="failed", attempts=8)
    return row, lambda: OutboxMessage.objects.get(pk=row.pk).status == "failed"


def _ark_match():
    from ark.models import Match

    match = factories.ark_match(factories.ark_alliance("Rats"))
    return match, lambda: Match.objects.get(pk=match.pk).status == "Scheduled"


def _ratmas_event():
    from ratmas.models import Event

    event = factories.ratmas_event()
    return event, lambda: Event.objects.get(pk=event.pk).status == "open"


def _audit_issue():
    from guildsync.models import AuditIssue

    issue = factories.audit_issue()
    return issue, lambda: AuditIssue.objects.get(pk=issue.pk).resolved_at is None


WRITE_ACTIONS: list[tuple[str, Callable[[], tuple[Any, Callable[[], bool]]]]] = [
    ("resolve", _moderation_case),
    ("deactivate", _recurring_event),
    ("retry_selected", _failed_outbox_row),
    ("lock", _ark_match),
    ("lock_signups", _ratmas_event),
    ("resolve", _audit_issue),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("action", "make"), WRITE_ACTIONS, ids=[m.__name__.strip("_") for _a, m in WRITE_ACTIONS])
def test_view_only_staff_is_refused_a_write_action(action: str, make, client, django_user_model) -> None:
    row, unchanged = make()
    opts = row._meta
    user = django_user_model.objects.create_user("viewer", password="pw-123456", is_staff=True)
    user.user_permissions.add(Permission.objects.get(content_type__app_label=opts.app_label,
                                                     codename=f"view_{opts.model_name}"))
    client.force_login(user)
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    response = client.post(url, {"action": action, ACTION_CHECKBOX_NAME: [row.pk], "index": 0}, follow=True)
    assert response.status_code == 200
    assert unchanged(), f"{opts.label}.{action} ran for a user with view permission only"
