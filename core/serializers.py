"""Serializer fields shared by the apps' APIs."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

MAX_SNOWFLAKE = 2**63 - 1
MAX_BIGINT = 2**63 - 1  # PostgreSQL's bigint (every primary key here): a larger id reaches no row


@extend_schema_field({"type": "string", "pattern": "^[0-9]{1,19}$", "example": "80351110224678912"})
class SnowflakeField(serializers.Field):
    """A Discord id: a 64-bit integer in the database, a string in JSON (JavaScript clients
    lose precision on integers above 2**53)."""

    default_error_messages = {"invalid": "A Discord id is a string of digits, e.g. \"80351110224678912\"."}

    def to_representation(self, value: int) -> str:
        return str(value)

    def to_internal_value(self, data: object) -> int:
        text = str(data).strip() if isinstance(data, str | int) and not isinstance(data, bool) else ""
        if not text.isdigit() or not 0 < int(text) <= MAX_SNOWFLAKE:
            self.fail("invalid")
        return int(text)
