"""Outcome of outbox deliveries, for domain code that tracks its messages.

Both signals are sent inside the transaction that records the outcome, with
``message=<OutboxMessage>``; a receiver filters on ``message.topic`` or ``message.dedupe_key``
and updates its own state atomically with the outbox row (e.g. Ratmas sets ``notified_at``
when the Santa's DM was accepted, Ark stores the registration message id).
"""

from django.dispatch import Signal

outbox_sent = Signal()
outbox_failed = Signal()
