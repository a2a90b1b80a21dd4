"""Parsers and field validators for the economy's JSON settings.

They live apart from ``services`` so that ``models`` can validate its JSON fields without
importing the services (which import the models): the import graph stays acyclic.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError


def parse_streak_bonuses(raw: Any) -> list[tuple[int, int]]:
    """``{"8": 2, ...}`` → ``[(8, 2), ...]`` sorted by streak; ValueError if malformed."""
    if raw in (None, ""):
        return []
    if not isinstance(raw, dict):
        raise ValueError('Streak bonuses must be an object like {"8": 2}.')
    try:
        pairs = sorted((int(k), int(v)) for k, v in raw.items())
    except (TypeError, ValueError):
        raise ValueError("Streak bonuses map whole numbers of days to whole multipliers.") from None
    if any(days < 1 or mult < 1 for days, mult in pairs):
        raise ValueError("Streak bonus days and multipliers must be at least 1.")
    return pairs


def parse_role_rewards(raw: Any) -> list[tuple[int, int]]:
    """``{"role_id": threshold}`` → ``[(role_id, threshold), ...]``; ValueError if malformed."""
    if raw in (None, ""):
        return []
    if not isinstance(raw, dict):
        raise ValueError('Role rewards must be an object like {"123456789012345678": 500}.')
    try:
        pairs = sorted(((int(k), int(v)) for k, v in raw.items()), key=lambda p: p[1])
    except (TypeError, ValueError):
        raise ValueError("Role rewards map Discord role ids to whole byte thresholds.") from None
    if any(role < 1 or threshold < 1 for role, threshold in pairs):
        raise ValueError("Role ids and thresholds must be positive.")
    return pairs


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
