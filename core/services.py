"""Writers of core's own rows: API keys and their scopes, the local admin login, encrypted secret settings."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from rest_framework_api_key.models import APIKey

from core.errors import DomainError
from core.models import APIKeyScopes, Scope, SecretSetting

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
    with transaction.atomic():
        user, _ = get_user_model().objects.select_for_update().get_or_create(
            username=username, defaults={"email": f"{username}@localhost"})
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(password)
        user.save()
    return user


def set_secret(name: str, value: str, actor: str) -> SecretSetting:
    """An officer sets an API key or secret: stored encrypted, with when and who; the value
    is never returned or shown again. Takes effect on the next task (clients read it then)."""
    from django.utils import timezone

    from core.secrets import encrypt

    value = (value or "").strip()
    if name not in SecretSetting.Name.values:
        raise DomainError(f"{name!r} is not a setting that can be set here.")
    if not value:
        raise DomainError("Enter the value (to remove a setting, delete it).")
    if len(value) > 4096:
        raise DomainError("That value is too long for an API key or secret.")
    if not actor:
        raise DomainError("Say who sets it.")
    with transaction.atomic():
        row, _ = SecretSetting.objects.update_or_create(
            name=name, defaults={"ciphertext": encrypt(value), "set_at": timezone.now(), "set_by": actor[:150]})
    return row


def clear_secret(name: str) -> bool:
    """Remove an admin-set secret (the environment's, if any, applies again)."""
    with transaction.atomic():
        deleted, _ = SecretSetting.objects.filter(name=name).delete()
    return bool(deleted)
