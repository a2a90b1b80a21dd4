"""Every database constraint of the project's apps speaks to an officer: a violated one shows
its ``violation_error_message`` in the admin, never Django's "Constraint “name” is violated"."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db.models import BaseConstraint

PROJECT_APPS = ("ark", "bot", "core", "economy", "guildsync", "raids", "ratmas")


def project_constraints() -> list[tuple[str, BaseConstraint]]:
    found = []
    for model in apps.get_models():
        if model._meta.app_label not in PROJECT_APPS:
            continue
        for constraint in model._meta.constraints:
            found.append((f"{model._meta.label}.{constraint.name}", constraint))
    return found


def test_the_walk_sees_the_constraints() -> None:
    assert len(project_constraints()) > 50


@pytest.mark.parametrize(("label", "constraint"), project_constraints(), ids=lambda v: v if isinstance(v, str) else "")
def test_constraint_has_an_officer_message(label: str, constraint: BaseConstraint) -> None:
    message = constraint.violation_error_message
    assert message and message != BaseConstraint.default_violation_error_message, (
        f"{label} has no violation_error_message: an officer would read its raw name")
    assert constraint.name not in message and "%(name)s" not in message, label
