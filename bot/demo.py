"""Demo data for the outbox: one message in every delivery state (pending, sending, sent,
failed with Discord's reason, withdrawn), so officers can see each state and try "Retry now".
Queued through ``bot.outbox`` like any service would; the delivery outcome is then written
the way the delivery worker records it (``bot.delivery``), since no Discord answers here.
Idempotent: each row has its own dedupe key."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from bot import outbox
from bot.models import OutboxMessage
from core.demo import name_demo_ids

DEMO_CHANNEL_ID = 100_000_000_000_000_043
DEMO_USER_ID = 100_000_000_000_100_001
Status = OutboxMessage.Status

# state → (kind, message, what the worker recorded)
STATES = {
    Status.PENDING: ("channel", "📣 Demo: guild meeting on Sunday at 20:00.", {}),
    Status.SENDING: ("channel", "📣 Demo: raid roster posted.", {"attempts": 1}),
    Status.SENT: ("channel", "📣 Demo: welcome to the new members!", {"attempts": 1}),
    # Discord's documented JSON error for a member who does not accept DMs
    # (https://discord.com/developers/docs/topics/opcodes-and-status-codes#json-json-error-codes)
    Status.FAILED: ("dm", "🎁 Demo: your Secret Santa recipient is …", {
        "attempts": 1, "last_error_code": 50007, "last_error": "403 Forbidden (50007): Cannot send messages to this user"}),
    Status.CANCELLED: ("channel", "📣 Demo: an announcement withdrawn before delivery.", {}),
}


def seed_demo(stdout) -> None:
    # the ids below are the Ratmas demo's announcement channel and one of its participants
    name_demo_ids(members={DEMO_USER_ID: "Borin Ironfist"}, channels={DEMO_CHANNEL_ID: "announcements"})
    now = timezone.now()
    with transaction.atomic():
        for state, (kind, text, recorded) in STATES.items():
            key = f"demo:outbox:{state}"
            if outbox.find(key) is not None:
                continue
            if kind == "dm":
                row = outbox.send_dm(DEMO_USER_ID, content=text, dedupe_key=key, topic="demo")
            else:
                row = outbox.post_message(DEMO_CHANNEL_ID, content=text, dedupe_key=key, topic="demo")
            if state == Status.CANCELLED:
                outbox.withdraw_pending([row.pk], "the demo event was changed")
                continue
            fields = {"status": state, **recorded}
            if state == Status.SENDING:
                fields["next_attempt_at"] = now + dt.timedelta(minutes=2)  # the worker's lease
            elif state == Status.SENT:
                fields.update(sent_at=now, sent_message_id=1_400_000_000_000_000_001, sent_channel_id=DEMO_CHANNEL_ID)
            elif state == Status.FAILED:
                fields["failed_at"] = now
            OutboxMessage.objects.filter(pk=row.pk).update(**fields)
    stdout.write(f"  bot: outbox demo rows in every state ({', '.join(STATES)})")
