"""Admin building blocks shared by the domain apps."""

from __future__ import annotations

import contextlib
from typing import Any

from django.core.exceptions import ValidationError
from django.db import router, transaction
from django.http import HttpRequest

from core.errors import DomainError


class ServiceFormMixin:
    """A ModelAdmin whose add/change forms save through a service, because services are the
    only writers. ``service_save(request, obj_or_None, cleaned_data)`` runs once the form's
    own validation passed and returns the saved row; a DomainError becomes a form error, so
    the officer sees the rule's message and nothing is saved. When something else on the page
    (an inline) is invalid, what the service saved is rolled back with it: an error page never
    leaves half an edit. ``service_context(request)`` wraps the call (e.g. to record who acted).
    """

    def service_save(self, request: HttpRequest, obj: Any, cleaned_data: dict[str, Any]) -> Any:
        raise NotImplementedError

    def service_context(self, request: HttpRequest) -> contextlib.AbstractContextManager:
        return contextlib.nullcontext()

    def get_form(self, request, obj=None, change=False, **kwargs):
        base = super().get_form(request, obj, change, **kwargs)
        model_admin = self

        class ServiceForm(base):
            def _post_clean(self) -> None:
                super()._post_clean()
                if self.errors:
                    return
                try:
                    with model_admin.service_context(request):
                        self.instance = model_admin.service_save(request, obj, self.cleaned_data)
                except DomainError as exc:
                    self.add_error(None, ValidationError(str(exc)))

        return ServiceForm

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        with transaction.atomic(using=router.db_for_write(self.model)):
            response = super().changeform_view(request, object_id, form_url, extra_context)
            if request.method == "POST" and (getattr(response, "context_data", None) or {}).get("errors"):
                transaction.set_rollback(True)
        return response

    def save_model(self, request, obj, form, change) -> None:
        """Already saved by the service, during the form's validation."""
