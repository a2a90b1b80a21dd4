"""A check constraint that lists a field's allowed values (``Q(status__in=[...])``) spells
them out, because a model's ``Meta`` cannot reach its own ``TextChoices``. This keeps the
two copies equal: a value added to the choices and not to the database check (or the
reverse) fails here, not in production."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import models

PROJECT_APPS = ("ark", "bot", "core", "economy", "guildsync", "raids", "ratmas")


def _leaves(q: models.Q) -> list[tuple[str, object]] | None:
    """The lookups of a condition built only of un-negated ``Q``s, else None."""
    if q.negated:
        return None
    out = []
    for child in q.children:
        if isinstance(child, models.Q):
            inner = _leaves(child)
            if inner is None:
                return None
            out.extend(inner)
        elif isinstance(child, tuple):
            out.append(child)
        else:
            return None
    return out


def choice_checks() -> list[tuple[str, models.Field, list]]:
    """(label, field, listed values) of every check whose condition is one ``field__in`` list,
    alone or beside ``field__isnull=True``, on a field with choices."""
    found = []
    for model in apps.get_models():
        if model._meta.app_label not in PROJECT_APPS:
            continue
        for constraint in model._meta.constraints:
            if not isinstance(constraint, models.CheckConstraint):
                continue
            leaves = _leaves(constraint.condition)
            if leaves is None:
                continue
            fields = {key.rsplit("__", 1)[0] for key, _ in leaves}
            listed = [values for key, values in leaves if key.endswith("__in")]
            if len(fields) != 1 or len(listed) != 1 or len(leaves) > 2:
                continue
            field = model._meta.get_field(fields.pop())
            if field.choices:
                found.append((f"{model._meta.label}.{constraint.name}", field, list(listed[0])))
    return found


def test_the_walk_sees_the_choice_checks() -> None:
    assert len(choice_checks()) >= 14


@pytest.mark.parametrize(("label", "field", "values"), choice_checks(),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_a_choice_check_allows_exactly_the_fields_choices(label: str, field: models.Field, values: list) -> None:
    choices = [value for value, _label in field.flatchoices]
    assert sorted(map(str, values)) == sorted(map(str, choices)), label
