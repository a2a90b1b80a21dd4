"""Outcome of outbox deliveries, for domain code that tracks its messages.

Both signals are sent inside the transaction that records the outcome, with
``message=<OutboxMessage>``; a receiver filters on ``message.topic`` or ``message.dedupe_key``
and updates its own state atomically with the outbox row (e.g. Ratmas sets ``notified_at``
when the Santa's DM was accepted, Ark stores the registration message id).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.dispatch import Signal

outbox_sent = Signal()
outbox_failed = Signal()


def connect_outcomes(uid: str, wants: Callable[[str], bool], record: Callable[[Any, bool], Any]) -> None:
    """Call ``record(message, delivered)`` for every outbox row whose topic ``wants`` accepts,
    once it is sent (``True``) or given up (``False``); called from an app's ``ready``. The
    receivers are held strongly (they are closures) and registered once per ``uid``."""

    def on_sent(sender: Any, message: Any, **kwargs: Any) -> None:
        if wants(message.topic):
            record(message, True)

    def on_failed(sender: Any, message: Any, **kwargs: Any) -> None:
        if wants(message.topic):
            record(message, False)

    outbox_sent.connect(on_sent, weak=False, dispatch_uid=f"{uid}.outbox_sent")
    outbox_failed.connect(on_failed, weak=False, dispatch_uid=f"{uid}.outbox_failed")
