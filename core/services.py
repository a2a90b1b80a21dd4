"""Writers of core's own rows: API keys and their scopes."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from rest_framework_api_key.models import APIKey

from core.errors import DomainError
from core.models import APIKeyScopes, Scope

API_KEY_NAME_MAX = 50  # djangorestframework-api-key's column


def create_api_key(name: str, scopes: Iterable[str]) -> tuple[APIKey, str]:
    """A new key with its scopes, in one transaction. Returns the row and the raw key, which
    is shown once and stored only hashed."""
    name = (name or "").strip()
    wanted = set(scopes)
    if not name:
        raise DomainError("Give the key a name that says who uses it.")
    if len(name) > API_KEY_NAME_MAX:
        raise DomainError(f"The name is limited to {API_KEY_NAME_MAX} characters.")
    unknown = wanted - set(Scope.values)
    if unknown:
        raise DomainError(f"Unknown scope(s) {', '.join(sorted(unknown))}; choose from {', '.join(Scope.values)}.")
    if not wanted:
        raise DomainError(f"Choose at least one scope ({', '.join(Scope.values)}).")
    with transaction.atomic():
        api_key, raw = APIKey.objects.create_key(name=name)
        APIKeyScopes.objects.create(api_key=api_key, **{scope: scope in wanted for scope in Scope.values})
    return api_key, raw
