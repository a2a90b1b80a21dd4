"""Anonymous messages between a Santa and their recipient, relayed by the bot."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from bot import outbox
from core import i18n
from ratmas.models import Event, Pairing, Participant, RelayMessage

from .common import (
    RELAY_LIMIT,
    RELAY_MAX_CHARS,
    RELAY_WINDOW,
    TOPIC_RELAY,
    RatmasError,
    Status,
    _now,
    _ts,
    md,
)

# --------------------------------------------------------------------------- relay


def send_relay_message(event: Event, sender_user_id: int, direction: str, text: str) -> RelayMessage:
    """Deliver ``text`` to the other side of the sender's pairing without naming the sender.
    Limited to ``RELAY_LIMIT`` per ``RELAY_WINDOW`` per user; the sender's participant row is
    locked while counting, so parallel sends cannot overshoot."""
    if direction not in RelayMessage.Direction.values:
        raise RatmasError(_("Unknown message direction."))
    text = (text or "").strip()
    if not text:
        raise RatmasError(_("The message is empty."))
    if len(text) > RELAY_MAX_CHARS:
        raise RatmasError(_("The message is too long (%(count)s characters; %(limit)s at most).")
                          % {"count": i18n.number(len(text)), "limit": i18n.number(RELAY_MAX_CHARS)})
    to_recipient = direction == RelayMessage.Direction.TO_RECIPIENT
    with transaction.atomic():
        current = Event.objects.filter(pk=event.pk).first()
        if current is None or current.status not in (Status.MATCHED, Status.NOTIFIED):
            raise RatmasError(_("Anonymous messages open once the pairings are drawn, until the event ends."))
        try:
            sender = current.participants.select_for_update().get(user_id=sender_user_id)
        except Participant.DoesNotExist:
            raise RatmasError(_("You are not a participant of this Ratmas.")) from None
        pairing = (Pairing.objects.select_related("santa", "recipient")
                   .filter(event=current, **({"santa": sender} if to_recipient else {"recipient": sender})).first())
        if pairing is None:
            raise RatmasError(_("You have no pairing in this Ratmas."))
        now = _now()
        recent = (RelayMessage.objects.filter(event=current, created_at__gt=now - RELAY_WINDOW)
                  .filter(Q(direction=RelayMessage.Direction.TO_RECIPIENT, pairing__santa=sender)
                          | Q(direction=RelayMessage.Direction.TO_SANTA, pairing__recipient=sender))
                  .order_by("created_at").values_list("created_at", flat=True))
        recent = list(recent)
        if len(recent) >= RELAY_LIMIT:
            again = recent[len(recent) - RELAY_LIMIT] + RELAY_WINDOW
            raise RatmasError(_("You can send %(limit)s anonymous messages per hour; try again %(when)s.")
                              % {"limit": RELAY_LIMIT, "when": _ts(again, "R")})
        relay = RelayMessage.objects.create(event=current, pairing=pairing, direction=direction, text=text)
        # ">>> " quotes everything after it: 4 characters whatever the number of lines
        # (quoting each line with "> " would push a 1,500-character text past 2,000).
        # The wrapper sentence in the reader's language; the member's own text as they wrote it.
        target = pairing.recipient.user_id if to_recipient else pairing.santa.user_id
        with i18n.for_member(target):
            if to_recipient:
                wrapper = _("**A message from your Secret Santa** (answer anonymously with `/ratmas message-santa`):")
            else:
                wrapper = _("**A message from your recipient, %(name)s** (answer with `/ratmas message-recipient`):") % {
                    "name": md(pairing.recipient.display_name)}
            # secret both ways: one names the recipient to their Santa, the other carries the
            # Santa's own words (which may give them away)
            relay.outbox_message = outbox.send_dm(target, content=f"📨 {wrapper}\n>>> {text}", topic=TOPIC_RELAY,
                                                  dedupe_key=f"ratmas:relay:{relay.pk}", secret=True)
        relay.save(update_fields=["outbox_message"])
    return relay


def message_recipient(event: Event, santa_user_id: int, text: str) -> RelayMessage:
    """``/ratmas message-recipient``: the Santa asks without giving themselves away."""
    return send_relay_message(event, santa_user_id, RelayMessage.Direction.TO_RECIPIENT, text)


def message_santa(event: Event, recipient_user_id: int, text: str) -> RelayMessage:
    """``/ratmas message-santa``: the recipient answers a Santa they cannot name."""
    return send_relay_message(event, recipient_user_id, RelayMessage.Direction.TO_SANTA, text)
