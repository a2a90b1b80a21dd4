"""Discord Linked Roles in the fake Discord REST API (mixed into ``FakeDiscord``): the application's
role-connection metadata and each user's role connection, with Discord's validation.

From discord-api-docs:
- ``docs/resources/Application_Role_Connection_Metadata.md``: a record is ``type`` (1–8:
  INTEGER_LESS_THAN_OR_EQUAL … BOOLEAN_NOT_EQUAL), ``key`` ("must be a-z, 0-9, or _ characters;
  1-50 characters"), ``name`` (1-100 characters), ``description`` (1-200 characters), optional
  ``name_localizations`` / ``description_localizations``; ``GET`` / ``PUT
  /applications/{application.id}/role-connections/metadata`` (bot token) return the list; "An
  application can have a maximum of 5 metadata records".
- ``docs/resources/User.md`` "Update Current User Application Role Connection": ``PUT
  /users/@me/applications/{application.id}/role-connection`` "Requires an OAuth2 access token with
  role_connections.write scope for the application specified in the path"; body ``platform_name``
  (max 50 characters), ``platform_username`` (max 100 characters), ``metadata`` ("object mapping
  application role connection metadata keys to their string-ified value (max 100 characters)");
  returns the application role connection object (the same three fields). ``GET`` returns it too.
  The same field limits are typed in discord-api-types ``RESTPutAPICurrentUserApplicationRoleConnectionJSONBody``.
Refusals use Discord's form-error shape (``{"code": 50035, "message": "Invalid Form Body", "errors":
{field: {"_errors": [{"code", "message"}]}}}``, docs/reference.md "Error Messages"); a bearer token the
fake did not grant, or granted without ``role_connections.write``, gets 401 ``{"code": 0, "message":
"401: Unauthorized"}``. A metadata key the application has not registered is refused too (the
fake's reading: the value is compared with the registered record of that key; an unknown key has none).
"""

from __future__ import annotations

import re
from typing import Any

KEY = re.compile(r"[a-z0-9_]{1,50}")


class RoleConnectionsMixin:
    def reset(self) -> None:
        super().reset()
        with self.lock:
            self.role_metadata: dict[int, list[dict]] = {}  # per application
            self.role_connections: dict[tuple[int, int], dict] = {}  # (application, user) → connection
            self.user_tokens: dict[str, tuple[int, set[str]]] = {}  # bearer token → (user id, scopes)

    def grant_user_token(self, token: str, user_id: int, scopes: str | set[str]) -> None:
        """A user authorised the application (Discord's OAuth2 flow gave ``token``)."""
        self.user_tokens[token] = (int(user_id), set(scopes.split()) if isinstance(scopes, str) else set(scopes))

    def _form_error(self, errors: dict[str, str]) -> Any:
        return self.respond(400, {"code": 50035, "message": "Invalid Form Body", "errors": {
            field: {"_errors": [{"code": "BASE_TYPE_BAD_LENGTH" if "characters" in text else "BASE_TYPE_INVALID",
                                 "message": text}]} for field, text in errors.items()}})

    def get_role_metadata(self, rec, app_id: int) -> Any:
        return self.respond(200, self.role_metadata.get(app_id, []))

    def put_role_metadata(self, rec, app_id: int) -> Any:
        body = rec.json
        if not isinstance(body, list):
            return self._form_error({"_root": "Must be an array."})
        if len(body) > 5:
            return self._form_error({"_root": "Must be 5 or fewer in length."})
        errors: dict[str, str] = {}
        keys = set()
        for i, record in enumerate(body):
            if not isinstance(record, dict):
                errors[str(i)] = "Must be an object."
                continue
            if record.get("type") not in range(1, 9) or isinstance(record.get("type"), bool):
                errors[f"{i}.type"] = "Value must be one of (1, 2, 3, 4, 5, 6, 7, 8)."
            key = record.get("key")
            if not isinstance(key, str) or not KEY.fullmatch(key):
                errors[f"{i}.key"] = "Must be 1-50 characters of a-z, 0-9 or _."
            elif key in keys:
                errors[f"{i}.key"] = "Keys must be unique."
            keys.add(key)
            for field, limit in (("name", 100), ("description", 200)):
                value = record.get(field)
                if not isinstance(value, str) or not 1 <= len(value) <= limit:
                    errors[f"{i}.{field}"] = f"Must be between 1 and {limit} characters long."
        if errors:
            return self._form_error(errors)
        self.role_metadata[app_id] = [{"type": r["type"], "key": r["key"], "name": r["name"],
                                       "description": r["description"],
                                       **{k: r[k] for k in ("name_localizations", "description_localizations") if k in r}}
                                      for r in body]
        return self.respond(200, self.role_metadata[app_id])

    def _user(self, rec) -> int | None:
        auth = rec.headers.get("Authorization", "")
        grant = self.user_tokens.get(auth[7:]) if auth.startswith("Bearer ") else None
        return grant[0] if grant and "role_connections.write" in grant[1] else None

    def get_role_connection(self, rec, app_id: int) -> Any:
        user = self._user(rec)
        if user is None:
            return self.error(401, 0, "401: Unauthorized")
        return self.respond(200, self.role_connections.get((app_id, user), {
            "platform_name": None, "platform_username": None, "metadata": {}}))

    def put_role_connection(self, rec, app_id: int) -> Any:
        user = self._user(rec)
        if user is None:
            return self.error(401, 0, "401: Unauthorized")
        body = rec.json if isinstance(rec.json, dict) else {}
        errors: dict[str, str] = {}
        for field, limit in (("platform_name", 50), ("platform_username", 100)):
            value = body.get(field)
            if value is not None and (not isinstance(value, str) or len(value) > limit):
                errors[field] = f"Must be {limit} or fewer characters long."
        metadata = body.get("metadata", {})
        registered = {r["key"] for r in self.role_metadata.get(app_id, [])}
        if not isinstance(metadata, dict):
            errors["metadata"] = "Must be an object."
        else:
            for key, value in metadata.items():
                if key not in registered:
                    errors[f"metadata.{key}"] = "Unknown metadata key."
                elif isinstance(value, bool) or not isinstance(value, str | int) or len(str(value)) > 100:
                    errors[f"metadata.{key}"] = "Must be a string or integer of 100 or fewer characters."
        if errors:
            return self._form_error(errors)
        connection = {"platform_name": body.get("platform_name"), "platform_username": body.get("platform_username"),
                      "metadata": {k: str(v) for k, v in metadata.items()}}
        self.role_connections[(app_id, user)] = connection
        return self.respond(200, connection)

    def role_connection_routes(self) -> list:
        """The user's routes (their Bearer token is the credential, not the bot's)."""
        return [("GET", r"/users/@me/applications/(\d+)/role-connection", self.get_role_connection),
                ("PUT", r"/users/@me/applications/(\d+)/role-connection", self.put_role_connection)]

    def role_metadata_routes(self) -> list:
        return [("GET", r"/applications/(\d+)/role-connections/metadata", self.get_role_metadata),
                ("PUT", r"/applications/(\d+)/role-connections/metadata", self.put_role_metadata)]
