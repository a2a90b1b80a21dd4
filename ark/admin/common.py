"""What every Ark admin page shares: the officer recorded as the actor of the services they call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ark import services
from core.admin_tools import ServiceFormMixin as CoreServiceFormMixin
from core.admin_tools import (
    run_for_each,
)
from core.discord_signin import officers


def officer_context(request: HttpRequest):
    """Ark's audit rows name the officer as every app's do (``officers.actor``): the Discord id
    in ``actor_discord_id`` (shown by the member's name) for a login connected to Discord, else
    the username in ``details.by``."""
    return services.acting_as(officers.actor(request.user))


class ServiceFormMixin(CoreServiceFormMixin):
    """Forms save through ``ark.services``, recording the officer as the actor."""

    def service_context(self, request):
        return officer_context(request)


def run_service(
    model_admin: admin.ModelAdmin, request: HttpRequest, queryset, label: str, call: Callable[[Any], Any]
) -> None:
    """``run_for_each`` with the officer recorded as the actor of every audit row."""
    run_for_each(model_admin, request, queryset, call, summary=f"{label}: {{n}} done.",
                 context=lambda: officer_context(request))
