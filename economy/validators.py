"""Parsers and field validators for the economy's JSON settings.

They live apart from ``services`` so that ``models`` can validate its JSON fields without
importing the services (which import the models): the import graph stays acyclic.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def _positive_int_pairs(raw: Any, *, by_value: bool, not_an_object: str, not_whole: str,
                        not_positive: str) -> list[tuple[int, int]]:
    """``{"key": value}`` of whole numbers ≥ 1 → ``[(key, value), ...]`` sorted by key (or by
    value); empty for nothing; ValueError with the matching sentence when malformed."""
    if raw in (None, ""):
        return []
    if not isinstance(raw, dict):
        raise ValueError(not_an_object)
    try:
        pairs = sorted(((int(k), int(v)) for k, v in raw.items()), key=(lambda p: p[1]) if by_value else None)
    except (TypeError, ValueError):
        raise ValueError(not_whole) from None
    if any(key < 1 or value < 1 for key, value in pairs):
        raise ValueError(not_positive)
    return pairs


def parse_streak_bonuses(raw: Any) -> list[tuple[int, int]]:
    """``{"8": 2, ...}`` → ``[(8, 2), ...]`` sorted by streak; ValueError if malformed."""
    return _positive_int_pairs(
        raw, by_value=False, not_an_object=_('Streak bonuses must be an object like %(example)s.') % {"example": '{"8": 2}'},
        not_whole=_("Streak bonuses map whole numbers of days to whole multipliers."),
        not_positive=_("Streak bonus days and multipliers must be at least 1."))


def parse_role_rewards(raw: Any) -> list[tuple[int, int]]:
    """``{"role_id": threshold}`` → ``[(role_id, threshold), ...]``; ValueError if malformed."""
    return _positive_int_pairs(
        raw, by_value=True,
        not_an_object=_("Role rewards must be an object like %(example)s.") % {"example": '{"123456789012345678": 500}'},
        not_whole=_("Role rewards map Discord role ids to whole byte thresholds."),
        not_positive=_("Role ids and thresholds must be positive."))


def validate_streak_bonuses(value: Any) -> None:
    """Field validator: the officer sees the parser's sentence on the form field."""
    try:
        parse_streak_bonuses(value)
    except ValueError as exc:
        raise ValidationError(str(exc), code="invalid_streak_bonuses") from exc


def validate_role_rewards(value: Any) -> None:
    try:
        parse_role_rewards(value)
    except ValueError as exc:
        raise ValidationError(str(exc), code="invalid_role_rewards") from exc
