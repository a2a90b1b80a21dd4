"""Taking a participant out of an event after the draw, repairing the Secret Santa chain.

Used when a member asks to be forgotten (ratmas/privacy.py) and by an organiser who removes
someone after the draw. The chain S → P → R (P's Santa S, P's recipient R) becomes S → R: the
Santa takes over the recipient, so nobody else's pairing changes. Where that breaks a rule
(S and R are the same person, or an exclusion forbids S → R), both pairings are dropped and the
organisers are told, without names, that one Santa and one recipient need a new pairing.
Once the Santas have been told (``notified``), the Santa whose recipient changed gets a new DM.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from bot import outbox
from core import i18n
from core.reports import RunReport
from ratmas.models import Event, Exclusion, Participant

from .common import TOPIC_SANTA_DM, RatmasError, Status, _announce, _lock
from .notifications import _santa_dm, _santa_dm_key


@dataclass
class RemovalReport(RunReport):
    removed: int = 0  # participants taken out of the event (0 or 1)
    chain_repaired: int = 0  # 1 when the Santa took over the recipient
    santas_to_redraw: int = 0  # Santas left without a recipient (organisers told)
    relay_messages_deleted: int = 0  # anonymous messages of their two pairings

    def __str__(self) -> str:
        """For the organiser who removed someone (the admin page's language)."""
        return _("%(removed)s removed, chain repaired %(repaired)s, %(redraw)s Santa(s) to pair again by an "
                 "organiser, %(relays)s relay message(s) deleted") % {
            "removed": self.removed, "repaired": self.chain_repaired, "redraw": self.santas_to_redraw,
            "relays": i18n.number(self.relay_messages_deleted)}


def _forbidden(event: Event, santa: Participant, recipient: Participant) -> bool:
    if santa.pk == recipient.pk:
        return True
    return Exclusion.objects.filter(
        Q(giver=santa, receiver=recipient) | Q(giver=recipient, receiver=santa, both_ways=True), event=event,
    ).exists()


@dataclass
class RemovalPreview:
    """What ``remove_after_draw`` would do now, for the organiser's confirmation page (read only)."""

    removed: str  # the participant's name
    santa: str | None = None  # their Santa (None before the draw)
    recipient: str | None = None  # the one they give to
    chain_repaired: bool = False  # the Santa takes over the recipient
    santa_messaged: bool = False  # that Santa gets a new DM (the Santas were told already)
    organisers_told: bool = False  # no repair possible: the announcement channel hears about it
    relay_messages: int = 0  # anonymous messages of their two pairings, deleted


def preview_removal(event: Event | int, user_id: int) -> RemovalPreview | None:
    """The consequences of taking ``user_id`` out of ``event`` (None: not in it). Changes nothing."""
    event = event if isinstance(event, Event) else Event.objects.get(pk=event)
    participant = event.participants.filter(user_id=user_id).first()
    if participant is None:
        return None
    preview = RemovalPreview(removed=participant.display_name)
    gives = event.pairings.select_related("recipient").filter(santa=participant).first()
    receives = event.pairings.select_related("santa").filter(recipient=participant).first()
    preview.relay_messages = sum(p.relay_messages.count() for p in (gives, receives) if p is not None)
    if receives is not None:
        preview.santa = receives.santa.display_name
        recipient = gives.recipient if gives is not None else None
        preview.recipient = recipient.display_name if recipient is not None else None
        if recipient is not None and not _forbidden(event, receives.santa, recipient):
            preview.chain_repaired = True
            preview.santa_messaged = event.status == Status.NOTIFIED
        else:
            preview.organisers_told = True
    return preview


def remove_after_draw(event: Event | int, user_id: int) -> RemovalReport:
    """Take ``user_id`` out of an event that is not finished, drawn or not, repairing the chain."""
    report = RemovalReport()
    with transaction.atomic():
        locked = _lock(event)
        if locked.is_finished:
            raise RatmasError(_("This Ratmas is over: its pairings are history and stay as they are."))
        participant = locked.participants.select_for_update().filter(user_id=user_id).first()
        if participant is None:
            return report
        gives = locked.pairings.select_for_update(of=("self",)).select_related("recipient") \
            .filter(santa=participant).first()
        receives = locked.pairings.select_for_update(of=("self",)).select_related("santa") \
            .filter(recipient=participant).first()
        for pairing in (gives, receives):
            if pairing is not None:
                report.relay_messages_deleted += pairing.relay_messages.all().delete()[0]
        if gives is not None:
            gives.delete()
        if receives is not None:
            santa, recipient = receives.santa, gives.recipient if gives is not None else None
            if recipient is not None and not _forbidden(locked, santa, recipient):
                receives.recipient = recipient
                receives.notify_round += 1
                receives.notified_at, receives.last_error, receives.notify_message = None, "", None
                if locked.status == Status.NOTIFIED:
                    with i18n.for_member(santa.user_id):  # the Santa's language, rendered before sealing
                        receives.notify_message = outbox.send_dm(
                            santa.user_id, content="🎅 " + _("Your Secret Santa recipient has changed.") + "\n"
                            + _santa_dm(locked, receives),
                            dedupe_key=_santa_dm_key(locked, receives), topic=TOPIC_SANTA_DM, secret=True)
                receives.save()
                report.chain_repaired = 1
            else:
                receives.delete()
                report.santas_to_redraw = 1
                _announce(locked, lambda: "🎅 " + _(
                    "Organisers: a participant left after the draw and their Secret Santa could not simply take "
                    "over their recipient (an exclusion or a pair of two). One Santa now has no recipient and one "
                    "recipient no Santa: pair them in the admin (Ratmas › Pairings) or redraw."),
                    dedupe_key=f"ratmas:{locked.pk}:left:{participant.pk}")
        participant.delete()  # exclusions go with it
        report.removed = 1
    return report
