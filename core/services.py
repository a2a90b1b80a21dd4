"""Writers of core's own rows: API keys and their scopes, the local admin login."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
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


def ensure_superuser(username: str, password: str) -> AbstractBaseUser:
    """Create the login, or reset an existing one to an active superuser with this password:
    the run command prints a login that works, whatever happened to the account since."""
    User = get_user_model()
    with transaction.atomic():
        user, _ = User.objects.select_for_update().get_or_create(
            username=username, defaults={"email": f"{username}@localhost"})
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(password)
        user.save()
    return user
