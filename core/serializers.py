"""Serializer fields shared by the apps' APIs."""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

MAX_SNOWFLAKE = 2**63 - 1
MAX_BIGINT = 2**63 - 1  # PostgreSQL's bigint (every primary key here): a larger id reaches no row


def digits_at_most(limit: int) -> str:
    """A regex (no anchors) for the decimal numbers 1..``limit`` without leading zeros, so the
    OpenAPI ``pattern`` says exactly what the field accepts (Schemathesis checks both ways)."""
    text = str(limit)
    shorter = f"[1-9][0-9]{{0,{len(text) - 2}}}" if len(text) > 1 else None
    same_length = []
    for i, digit in enumerate(text):
        low = "1" if i == 0 else "0"
        if digit > low:
            top = str(int(digit) - 1)
            rest = len(text) - i - 1
            same_length.append(f"{text[:i]}[{low}-{top}]" + (f"[0-9]{{{rest}}}" if rest else ""))
    same_length.append(text)
    return "|".join(([shorter] if shorter else []) + same_length)


SNOWFLAKE_PATTERN = f"^(?:{digits_at_most(MAX_SNOWFLAKE)})$"
_SNOWFLAKE_RE = re.compile(SNOWFLAKE_PATTERN)


class SnowflakeField(serializers.Field):
    """A Discord id: a 64-bit integer in the database, a string in JSON (JavaScript clients
    lose precision on integers above 2**53). Accepted as that string (digits, no leading
    zero, 1..2**63-1) or as a JSON integer in the same range; documented that way by
    ``core.schema.SnowflakeFieldSchema``."""

    default_error_messages = {"invalid": _("A Discord id is a string of digits, e.g. \"80351110224678912\".")}

    def to_representation(self, value: int) -> str:
        return str(value)

    def to_internal_value(self, data: object) -> int:
        if isinstance(data, int) and not isinstance(data, bool) and 0 < data <= MAX_SNOWFLAKE:
            return data
        if isinstance(data, str) and _SNOWFLAKE_RE.fullmatch(data):
            return int(data)
        return self.fail("invalid")  # raises ValidationError
