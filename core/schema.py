"""The parts of the OpenAPI description drf-spectacular cannot infer.

- The API-key authentication scheme.
- ``ERROR``: the one error body of the API (``{"detail": ...}``, core.errors).
- ``document_error_responses`` (a postprocessing hook): the error answers every operation can
  give, so clients (and Schemathesis' status-code check) know them: 401/403 everywhere, 400
  where the operation takes input, 404 where the path names a row, 429 where throttled.
- ``SnowflakeFieldSchema``: a Discord id is a string in answers; requests may also send it as
  a JSON integer, in the same range.
- ``document_link_targets``: the "exactly one of player_id / discord_user_id / discord_id"
  rule of ``POST /api/identity/link`` as a ``oneOf``.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerFieldExtension
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from core.serializers import MAX_SNOWFLAKE, SNOWFLAKE_PATTERN

ERROR = inline_serializer("Error", {
    "detail": serializers.CharField(help_text="What went wrong, for a person."),
    "fields": serializers.DictField(required=False, help_text="Validation errors: field → messages."),
})

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, for a person."},
        "fields": {"type": "object", "additionalProperties": {},
                   "description": "Validation errors: field → messages."},
    },
    "required": ["detail"],
}
ERROR_DESCRIPTIONS = {
    "400": "Invalid input (`fields` names the fields).",
    "401": "No API key, or a wrong, revoked or expired one.",
    "403": "The key lacks the scope, or the session the permission, this operation needs.",
    "404": "No such row.",
    "429": "Throttled: try again after the `Retry-After` seconds.",
}
LINK_TARGETS = ("player_id", "discord_user_id", "discord_id")


class APIKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "core.authentication.APIKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`; create one with `manage.py create_api_key NAME --scope read` "
                           "(scopes: read, write, upload).",
        }


class SnowflakeFieldSchema(OpenApiSerializerFieldExtension):
    target_class = "core.serializers.SnowflakeField"

    def map_serializer_field(self, auto_schema, direction):
        as_string = {"type": "string", "pattern": SNOWFLAKE_PATTERN, "example": "80351110224678912"}
        if direction == "response":
            return as_string
        return {"oneOf": [as_string, {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_SNOWFLAKE}]}


def _error_response(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def document_error_responses(result: dict, generator, request, public: bool) -> dict:
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            params = operation.get("parameters", [])
            codes = ["401", "403"]
            if any(p.get("in") == "query" for p in params) or "requestBody" in operation:
                codes.append("400")
            if any(p.get("in") == "path" for p in params):
                codes.append("404")
            for code in codes:
                operation["responses"].setdefault(code, _error_response(ERROR_DESCRIPTIONS[code]))
            if "429" in operation["responses"]:
                operation["responses"]["429"]["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
    document_link_targets(result)
    return result


def document_link_targets(result: dict) -> None:
    schema = result.get("components", {}).get("schemas", {}).get("LinkRequest")
    if schema is not None:
        schema["oneOf"] = [{"required": [name]} for name in LINK_TARGETS]
        schema["description"] = ("Exactly one of " + ", ".join(LINK_TARGETS) + " names whom the character "
                                 "is linked to.")
