"""What every Ark admin page shares: the officer recorded as the actor of the services they call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils import dateformat
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

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
    """Forms save through ``ark.services``, recording the officer as the actor, and the success
    message says what the service did (``say_done``)."""

    def say_done(self, request: HttpRequest, text: str) -> None:
        """Replace Django's "… was added/changed successfully." with ``text`` for this request."""
        request._ark_done = text

    def message_user(self, request, message, level=messages.INFO, extra_tags="", fail_silently=False):
        done = getattr(request, "_ark_done", None)
        if done and level == messages.SUCCESS:  # Django's "… was added/changed successfully.", in any language
            message = done
        return super().message_user(request, message, level, extra_tags, fail_silently)

    def service_context(self, request):
        return officer_context(request)


def run_service(
    model_admin: admin.ModelAdmin, request: HttpRequest, queryset, label: str, call: Callable[[Any], Any],
    describe: Callable[[Any, Any], str | None] | None = None,
) -> None:
    """``run_for_each`` with the officer recorded as the actor of every audit row: one line per
    row saying what changed (``describe(row, result)``), then the count."""
    run_for_each(model_admin, request, queryset, call, summary=_("%(label)s: {n} done.") % {"label": label}, describe=describe,
                 context=lambda: officer_context(request))


def channel_label(channel_id: int | None) -> str:
    """A channel as officers know it ("#ark-roster"), never its number."""
    from guildsync.services.directory import label

    return label("channel", channel_id) if channel_id else _("no channel set")


def utc(value, form: str = "D d M H:i") -> str:
    """A UTC time as the officer's language writes day and month ("Sat 12 Dec 14:00 UTC",
    "Sa 12 Dez 14:00 UTC"): ``value`` is shown as stored (UTC), never converted."""
    return _("%(time)s UTC") % {"time": dateformat.format(value, form)}


def players_line(players: int, subs: int | None = None) -> str:
    text = ngettext("%(count)s player", "%(count)s players", players) % {"count": players}
    if subs is None:
        return text
    return text + ", " + ngettext("%(count)s substitute", "%(count)s substitutes", subs) % {"count": subs}


def fill_line(match) -> str:
    """ "7 players, 2 substitutes": the active roster of a match."""
    players, subs = services.roster_counts(match.pk)
    return players_line(players, subs)



def _power(value: int) -> str:
    from core.i18n import number

    return f"{number(round(value / 1_000_000, 2), 2)} M"


def teams_line(match) -> str:
    """ "Team 1: 10 players, 45.20 M power · Team 2: 9 players, 41.75 M power · gap 3.45 M"."""
    totals = services.team_totals(match.pk)
    parts = [_("Team %(team)s: %(players)s, %(power)s power") % {"team": team, "players": players_line(players),
                                                                  "power": _power(power)}
             for team, (players, power) in sorted(totals.items())]
    powers = [power for _players, power in totals.values()]
    gap = max(powers) - min(powers) if len(powers) == 2 else None
    return " · ".join(parts) + (" · " + _("gap %(power)s") % {"power": _power(gap)} if gap is not None else "")
