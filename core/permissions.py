from __future__ import annotations

from rest_framework.permissions import BasePermission
from rest_framework_api_key.models import APIKey


class HasAPIKeyOrStaff(BasePermission):
    """Machine clients with a valid API key, or staff signed in to the admin."""

    message = "An API key (Authorization: Api-Key <key>) or a staff session is required."

    def has_permission(self, request, view) -> bool:
        if isinstance(request.auth, APIKey):
            return True
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff)
