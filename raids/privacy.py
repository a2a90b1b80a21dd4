"""Raids' part of the privacy registry (core/privacy): the raid leader setting and the texts
Raid-Helper and Warcraft Logs answered (sign-ups quote members' names and ids)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, TextField
from django.db.models.functions import Cast

from core.privacy import ANONYMISED, KEPT, AppPart, ForgetContext, Holds
from raids.models import RaidAttendance, RaidEvent, RaidHelperSettings

TEXTS = ("raid_helper_payload", "signup_import_report", "wcl_import_report", "roster_post_text")


def export(member: int) -> dict[str, Any]:
    return {
        "raid_leader_of_booked_events": RaidHelperSettings.objects.filter(leader_discord_id=member).exists(),
        "attendance": [{"raid": e.event.title, "date": e.event.event_date.isoformat(), "status": e.status,
                        "attended": e.attended}
                       for e in RaidAttendance.objects.filter(player__discord_user__discord_id=member)
                       .select_related("event").order_by("event__event_date")],
    }


def forget(member: int, ctx: ForgetContext) -> dict[str, Any]:
    leader = RaidHelperSettings.objects.filter(leader_discord_id=member).update(leader_discord_id=None)
    condition = Q()
    annotations = {f"{name}_text": Cast(name, TextField()) for name in TEXTS}
    for name in TEXTS:
        for term in ctx.needles.search_terms():
            condition |= Q(**{f"{name}_text__icontains": term})
    scrubbed = 0
    for event in RaidEvent.objects.annotate(**annotations).filter(condition).select_for_update(of=("self",)):
        values = {name: ctx.needles.json(getattr(event, name)) for name in TEXTS}
        if any(values[n] != getattr(event, n) for n in TEXTS):
            RaidEvent.objects.filter(pk=event.pk).update(**values)
            scrubbed += 1
    return {"erased": {}, ANONYMISED: {"raid_leader_setting": leader, "raid_texts": scrubbed},
            KEPT: {"attendance": RaidAttendance.objects.filter(player__discord_user__discord_id=member).count()}}


PART = AppPart(
    app="raids",
    order=35,  # before guildsync unlinks the player (attendance counted by the Discord account)
    holds=(
        Holds("raids.RaidHelperSettings", ("leader_discord_id",), ANONYMISED,
              "If they were the leader shown on booked events, that setting is cleared."),
        Holds("raids.RaidEvent", TEXTS, ANONYMISED,
              "Their id and names are replaced in the stored Raid-Helper answers, import reports and roster posts."),
        Holds("raids.RaidAttendance", ("player",), KEPT,
              "Raid attendance stays with the player (a game identity), no longer linked to their Discord account."),
    ),
    export=export,
    forget=forget,
)
