"""What an API key may do. The key itself (hashed) is djangorestframework-api-key's
``APIKey``; its scopes live in a one-to-one row here, so the library's table and admin stay
as they are."""

from __future__ import annotations

from django.db import models
from rest_framework_api_key.models import APIKey


class Scope(models.TextChoices):
    READ = "read", "Read (GET)"
    WRITE = "write", "Write (links, matching, sync triggers)"
    UPLOAD = "upload", "Upload addon files"


class APIKeyScopes(models.Model):
    """The scopes chosen when the key was created (``create_api_key NAME --scope read ...``).

    A key without this row has no scope: it authenticates but every request gets a 403
    naming the missing scope. The migration that introduced scopes gave every key that existed
    then all three, so they kept working as before."""

    api_key = models.OneToOneField(APIKey, on_delete=models.CASCADE, related_name="scopes",
                                   help_text="The key these scopes belong to.")
    read = models.BooleanField(default=False, help_text="May read (GET) the API.")
    write = models.BooleanField(default=False, help_text="May link/unlink, run matching and trigger syncs.")
    upload = models.BooleanField(default=False, help_text="May upload addon SavedVariables files.")

    class Meta:
        verbose_name = "API key scopes"
        verbose_name_plural = "API key scopes"

    def __str__(self) -> str:
        return f"{self.api_key.name}: {', '.join(self.names()) or 'no scope'}"

    def names(self) -> list[str]:
        return [scope for scope in Scope.values if getattr(self, scope)]

    def allows(self, scope: str) -> bool:
        return scope in Scope.values and bool(getattr(self, scope))
