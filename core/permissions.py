"""Who may call the API: an API key holding the view's scope, or a staff session holding the
view's Django model permissions.

Each view declares both (``required_scope`` / ``required_permissions``, by HTTP method); a view
that declares neither falls back to what its ``queryset`` model implies (DjangoModelPermissions'
map plus ``view_<model>`` for reads, and the ``read`` scope for safe methods, ``write``
otherwise). A view that declares nothing and has no queryset is closed to sessions: nothing is
reachable by accident.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.utils.translation import gettext, gettext_lazy, pgettext
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework_api_key.models import APIKey

from core.models import APIKeyScopes, Scope

# DjangoModelPermissions' map, with the view permission for reads (DRF's own map leaves GET open)
MODEL_PERMISSIONS = {
    "GET": ["%(app_label)s.view_%(model_name)s"],
    "OPTIONS": [],
    "HEAD": ["%(app_label)s.view_%(model_name)s"],
    "POST": ["%(app_label)s.add_%(model_name)s"],
    "PUT": ["%(app_label)s.change_%(model_name)s"],
    "PATCH": ["%(app_label)s.change_%(model_name)s"],
    "DELETE": ["%(app_label)s.delete_%(model_name)s"],
}


def _by_method(declared: object, method: str) -> object:
    if isinstance(declared, Mapping):
        return declared.get("GET" if method in ("HEAD", "OPTIONS") else method)
    return declared


def required_scope(view, method: str) -> tuple[str, ...]:
    """The scopes an API key may hold for ``method`` on ``view`` (any one of them will do: a view
    may declare a tuple, e.g. ``(read, upload)`` for a status an upload key may read too)."""
    scope = _by_method(getattr(view, "required_scope", None), method)
    if scope:
        return tuple(str(s) for s in scope) if isinstance(scope, tuple | list) else (str(scope),)
    return (Scope.READ,) if method in SAFE_METHODS else (Scope.WRITE,)


def required_permissions(view, method: str) -> list[str] | None:
    """The Django permissions a session needs; None when the view declares none (closed)."""
    declared = _by_method(getattr(view, "required_permissions", None), method)
    if declared is not None:
        return list(declared) if not isinstance(declared, str) else [declared]
    queryset = getattr(view, "queryset", None)
    if queryset is None:
        return None
    meta = queryset.model._meta
    return [perm % {"app_label": meta.app_label, "model_name": meta.model_name}
            for perm in MODEL_PERMISSIONS.get(method, MODEL_PERMISSIONS["POST"])]


def key_scopes(api_key: APIKey) -> APIKeyScopes | None:
    try:
        return api_key.scopes
    except APIKeyScopes.DoesNotExist:
        return None


class ScopedAPIKeyOrModelPermissions(BasePermission):
    """API keys need the view's scope; sessions need staff status and every permission the
    view requires (superusers hold all). A 403 says what was missing."""

    message = gettext_lazy("An API key (Authorization: Api-Key <key>) or a staff session is required.")

    def has_permission(self, request: Request, view) -> bool:
        method = request.method.upper()
        if isinstance(request.auth, APIKey):
            wanted = required_scope(view, method)
            scopes = key_scopes(request.auth)
            if scopes is None or not any(scopes.allows(scope) for scope in wanted):
                named = "' or '".join(wanted)
                self.message = (gettext("This API key lacks the '%(scope)s' scope (it has: %(scopes)s).")
                                % {"scope": named,
                                   "scopes": ", ".join(scopes.names()) if scopes else pgettext("API key scopes", "none")})
                return False
            return True
        user = request.user
        if not (user and user.is_authenticated and user.is_staff):
            return False
        perms = required_permissions(view, method)
        if perms is None:
            self.message = gettext("This endpoint is open to API keys only.")
            return False
        missing = _missing(user, perms)
        if missing:
            self.message = gettext("Your account lacks the permission(s): %(missing)s.") % {"missing": ", ".join(missing)}
            return False
        return True


def _missing(user, perms: Iterable[str]) -> list[str]:
    return [perm for perm in perms if not user.has_perm(perm)]
