"""The schedule: reminders and the reveal, sent when due."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from bot import outbox
from ratmas.models import Event, ScheduledSend

from .common import (
    REMINDERS,
    REVEAL_GRACE,
    TOPIC_REMINDER,
    Status,
    _announce,
    _lock,
    _now,
    _ts,
    member_languages,
)

# --------------------------------------------------------------------------- schedule



def _due_kinds(event: Event, now: dt.datetime) -> list[str]:
    due = []
    for kind, attribute, before, until, statuses in REMINDERS:
        deadline = getattr(event, attribute)
        if event.status in statuses and deadline - before <= now < deadline - until:
            due.append(kind)
    if event.status in (Status.MATCHED, Status.NOTIFIED) and event.reveal_date <= now < event.reveal_date + REVEAL_GRACE:
        due.append(ScheduledSend.Kind.REVEAL)
    return due


def _scheduled_post(event: Event, kind: str) -> str:
    """The channel post of a scheduled send, in the active language (the server's)."""
    if kind.startswith("signup"):
        return "⏰ " + _("Ratmas signups close %(deadline)s (%(relative)s). Join with `/ratmas join`!") % {
            "deadline": _ts(event.signup_deadline), "relative": _ts(event.signup_deadline, "R")}
    if kind.startswith("purchase"):
        return "🛍️ " + _("Santas: buy your Ratmas gift by %(deadline)s (%(relative)s).") % {
            "deadline": _ts(event.purchase_deadline), "relative": _ts(event.purchase_deadline, "R")}
    return "🎁 " + _("**Ratmas reveal!** Open your gifts — Santas may reveal themselves now.")


def _scheduled_dm(event: Event, kind: str) -> str:
    """The participants' DM of a scheduled send, in the active language (each member's)."""
    if kind.startswith("signup"):
        return "⏰ " + _("Ratmas signups close %(deadline)s. Is your wishlist set? `/ratmas wishlist`") % {
            "deadline": _ts(event.signup_deadline)}
    if kind.startswith("purchase"):
        return "🛍️ " + _("Reminder: buy your Ratmas gift by %(deadline)s. Budget: %(budget)s.") % {
            "deadline": _ts(event.purchase_deadline), "budget": event.budget or _("not set")}
    return "🎁 " + _("It is Ratmas reveal time: open your gift!")


def send_scheduled(event: Event, kind: str) -> bool:
    """Send one reminder/reveal if it was not sent before. The unique (event, kind) row is
    the claim: of two workers, the second blocks on it and then finds it taken."""
    with transaction.atomic():
        locked = _lock(event)
        if locked.is_finished:
            return False
        claim, created = ScheduledSend.objects.get_or_create(event=locked, kind=kind)
        if not created:
            return False
        _announce(locked, lambda: _scheduled_post(locked, kind), dedupe_key=f"ratmas:{locked.pk}:{kind}:channel")
        dm_all = kind != ScheduledSend.Kind.REVEAL or not locked.announcement_channel_id
        users = list(locked.participants.values_list("user_id", flat=True)) if dm_all else []
        languages = member_languages(users)  # one query, each DM in its reader's language
        dms: dict[str, str] = {}
        for user_id in users:
            language = languages[user_id]
            with translation.override(language):
                if language not in dms:
                    dms[language] = _scheduled_dm(locked, kind)
                outbox.send_dm(user_id, content=dms[language], dedupe_key=f"ratmas:{locked.pk}:{kind}:{user_id}",
                               topic=TOPIC_REMINDER)
        claim.recipients = len(users)
        claim.save(update_fields=["recipients"])
    return True


def run_schedule(now: dt.datetime | None = None) -> int:
    """Send every reminder and reveal announcement that is due (each at most once)."""
    now = now or _now()
    sent = 0
    events = Event.objects.exclude(status__in=Event.FINISHED)
    taken = set(ScheduledSend.objects.filter(event__in=events).values_list("event_id", "kind"))
    for event in events:
        for kind in _due_kinds(event, now):
            if (event.pk, kind) not in taken and send_scheduled(event, kind):
                sent += 1
    return sent
