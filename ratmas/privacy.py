"""Secret Santa's part of the privacy registry (core/privacy): participations, wishlists,
pairings and the anonymous relay messages of one Discord member."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import Q

from core.privacy import ANONYMISED, ERASED, FORGOTTEN, AppPart, ForgetContext, Holds
from ratmas.models import Event, Pairing, Participant, RelayMessage
from ratmas.services.removal import remove_after_draw


def names(member: int) -> set[str]:
    return set(Participant.objects.filter(user_id=member).values_list("display_name", flat=True))


def export(member: int) -> dict[str, Any]:
    out = []
    for p in Participant.objects.filter(user_id=member).select_related("event").order_by("joined_at"):
        gives = Pairing.objects.filter(santa=p).select_related("recipient").first()
        mine = RelayMessage.objects.filter(
            Q(pairing__santa=p, direction=RelayMessage.Direction.TO_RECIPIENT)
            | Q(pairing__recipient=p, direction=RelayMessage.Direction.TO_SANTA)).order_by("created_at")
        out.append({
            "event": str(p.event), "status": p.event.status, "display_name": p.display_name,
            "wishlist_url": p.wishlist_url, "joined_at": p.joined_at.isoformat(),
            "your_recipient": gives.recipient.display_name if gives else None,
            "messages_you_sent": [{"at": m.created_at.isoformat(), "to": m.get_direction_display(), "text": m.text}
                                  for m in mine],
        })
    return {"participations": out}


def forget(member: int, ctx: ForgetContext) -> dict[str, Any]:
    removed = repaired = to_redraw = relays = 0
    anonymised = 0
    for participant in Participant.objects.filter(user_id=member).select_related("event"):
        if not participant.event.is_finished:
            report = remove_after_draw(participant.event_id, member)
            removed += report.removed
            repaired += report.chain_repaired
            to_redraw += report.santas_to_redraw
            relays += report.relay_messages_deleted
            continue
        # a finished event's pairings are history: the other Santas' chain stays whole, the
        # member in it becomes nobody
        relays += RelayMessage.objects.filter(Q(pairing__santa=participant) | Q(pairing__recipient=participant)) \
            .delete()[0]
        Participant.objects.filter(pk=participant.pk).update(user_id=-participant.pk, display_name=FORGOTTEN,
                                                             wishlist_url="")
        anonymised += 1
    return {ERASED: {"participations_in_running_events": removed, "relay_messages": relays},
            ANONYMISED: {"participations_in_finished_events": anonymised, "chains_repaired": repaired,
                         "santas_left_to_organisers": to_redraw},
            "kept": {}}


def retention(now: dt.datetime, dry_run: bool) -> dict[str, int]:
    """Relay texts and wishlists of events that ended more than RETENTION_RATMAS_DAYS ago."""
    from core.privacy.retention import in_batches

    cutoff = now - dt.timedelta(days=settings.RETENTION_RATMAS_DAYS)
    ended = Event.objects.filter(status__in=Event.FINISHED, updated_at__lt=cutoff, reveal_date__lt=cutoff)
    relays = RelayMessage.objects.filter(event__in=ended)
    wishlists = Participant.objects.filter(event__in=ended).exclude(wishlist_url="")
    return {
        "relay_messages": in_batches(relays, lambda pks: RelayMessage.objects.filter(pk__in=pks).delete()[0],
                                     dry_run=dry_run),
        "wishlists": in_batches(wishlists, lambda pks: Participant.objects.filter(pk__in=pks).update(wishlist_url=""),
                                dry_run=dry_run),
    }


PART = AppPart(
    app="ratmas",
    retention=retention,
    retention_rules=("Secret Santa relay messages and wishlists are deleted RETENTION_RATMAS_DAYS days after the "
                     "event ends.",),
    holds=(
        Holds("ratmas.Participant", ("user_id", "display_name", "wishlist_url"), ERASED,
              "Participation in events that are not finished is deleted with the wishlist. If the pairings are "
              "drawn, their Santa takes over their recipient (exclusions still hold; where none can, the organisers "
              "are told to pair one Santa again) and that Santa gets a new DM. In finished events the participation "
              "stays as 'a forgotten member' without id or wishlist, so the other members' history is whole."),
        Holds("ratmas.RelayMessage", ("text",), ERASED,
              "Every anonymous message to or from them is deleted."),
    ),
    export=export,
    forget=forget,
    names=names,
)
