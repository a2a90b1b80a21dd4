"""Writers of core's own rows (API keys and their scopes, the local admin login, encrypted secret
settings) and ``save_row``, the one create-or-change-a-row writer the apps' officer edits share."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _
from rest_framework_api_key.models import APIKey

from core.errors import DomainError
from core.models import APIKeyScopes, Scope, SecretSetting

M = TypeVar("M", bound=models.Model)

API_KEY_NAME_MAX = 50  # djangorestframework-api-key's column


def create_api_key(name: str, scopes: Iterable[str]) -> tuple[APIKey, str]:
    """A new key with its scopes, in one transaction. Returns the row and the raw key, which
    is shown once and stored only hashed."""
    name = (name or "").strip()
    wanted = set(scopes)
    if not name:
        raise DomainError(_("Give the key a name that says who uses it."))
    if len(name) > API_KEY_NAME_MAX:
        raise DomainError(_("The name is limited to %(max)s characters.") % {"max": API_KEY_NAME_MAX})
    unknown = wanted - set(Scope.values)
    if unknown:
        raise DomainError(_("Unknown scope(s) %(unknown)s; choose from %(choices)s.")
                          % {"unknown": ", ".join(sorted(unknown)), "choices": ", ".join(Scope.values)})
    if not wanted:
        raise DomainError(_("Choose at least one scope (%(choices)s).") % {"choices": ", ".join(Scope.values)})
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
        raise DomainError(_("%(name)s is not a setting that can be set here.") % {"name": repr(name)})
    if not value:
        raise DomainError(_("Enter the value (to remove a setting, delete it)."))
    if len(value) > 4096:
        raise DomainError(_("That value is too long for an API key or secret."))
    if not actor:
        raise DomainError(_("Say who sets it."))
    with transaction.atomic():
        row, _created = SecretSetting.objects.update_or_create(
            name=name, defaults={"ciphertext": encrypt(value), "set_at": timezone.now(), "set_by": actor[:150]})
    return row


def clear_secret(name: str) -> bool:
    """Remove an admin-set secret (the environment's, if any, applies again)."""
    with transaction.atomic():
        deleted, _rows = SecretSetting.objects.filter(name=name).delete()
    return bool(deleted)


def validation_text(model: type[models.Model], exc: ValidationError) -> str:
    """A model ValidationError as one sentence an officer can act on ("End date: …")."""
    if not hasattr(exc, "error_dict"):
        return " ".join(exc.messages)
    parts = []
    for name, errors in exc.message_dict.items():
        text = " ".join(errors)
        if name == NON_FIELD_ERRORS:
            parts.append(text)
        else:
            label = str(model._meta.get_field(name).verbose_name)
            parts.append(f"{label[:1].upper()}{label[1:]}: {text}")
    return " ".join(parts)


def save_row(
    model: type[M],
    pk: int | None,
    fields: dict,
    *,
    error: type[DomainError] = DomainError,
    missing: type[DomainError] | None = None,
    check: Callable[[M], None] | None = None,
) -> M:
    """Create (``pk`` None) or change one row of ``model`` with ``fields``, locked while it
    changes, after ``check`` and the model's own validation (validators, check and unique
    constraints). Every refusal is an ``error`` with a sentence an officer can act on (a row
    deleted meanwhile is a ``missing``, by default an ``error`` too), and nothing is written.

    Why one helper: an officer's edit of a settings row must lock the row it reads, say which
    field is wrong instead of showing an IntegrityError, and turn the race it can still lose (a
    concurrent edit of a unique field) into "reload and try again" — the same in every app."""
    name = str(model._meta.verbose_name)
    with transaction.atomic():
        if pk is None:
            row = model()
        else:
            row = model.objects.select_for_update().filter(pk=pk).first()
            if row is None:
                raise (missing or error)(_("This %(name)s no longer exists (deleted by someone else?).")
                                        % {"name": name})
        for key, value in fields.items():
            setattr(row, key, value)
        if check is not None:
            check(row)
        try:
            row.full_clean()
        except ValidationError as exc:
            raise error(validation_text(model, exc)) from None
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:
            raise error(_("This %(name)s was changed by someone else at the same moment: reload and try again.")
                        % {"name": name}) from None
    return row


def set_officer_language(user: AbstractBaseUser, language: str) -> str:
    """Remember the admin language ``user`` chose; "" forgets the choice (the browser's
    language applies again). Returns the language kept."""
    from core.i18n import check_language
    from core.models import OfficerLanguage

    if not language:
        OfficerLanguage.objects.filter(user=user).delete()
        return ""
    language = check_language(language)
    with transaction.atomic():
        OfficerLanguage.objects.update_or_create(user=user, defaults={"language": language})
    return language


def set_server_language(language: str, actor: str) -> str:
    """Choose the language of the bot's public Discord posts. A post edited later keeps the
    language it was created in until this changes (``core.i18n.post_language``)."""
    from django.utils import timezone

    from core import i18n
    from core.models import ServerLanguage

    language = i18n.check_language(language)
    with transaction.atomic():
        row, _ = ServerLanguage.objects.select_for_update().get_or_create(id=1)
        if row.language != language:
            row.language, row.changed_at, row.changed_by = language, timezone.now(), actor[:150]
            row.save()
    i18n.forget_server_language()
    return language
