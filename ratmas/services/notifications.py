"""Telling each Santa their recipient by DM, and recording what Discord did with each message."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from bot import outbox
from bot.models import OutboxMessage
from core import i18n
from core.reports import RunReport
from ratmas.models import Event, Pairing, RelayMessage

from .common import (
    ERROR_SHOWN_CHARS,
    TOPIC_RELAY,
    TOPIC_RELAY_BOUNCE,
    TOPIC_SANTA_DM,
    RatmasError,
    _announce,
    _lock,
    _mirror,
    _now,
    _require,
    _ts,
    md,
    member_languages,
)

# --------------------------------------------------------------------------- notifications


@dataclass
class NotifyReport(RunReport):
    queued: int = 0  # DMs queued by this call (new or retried)
    waiting: int = 0  # DMs already queued, not yet answered by Discord
    notified: int = 0  # Santas whose DM Discord accepted
    failed: int = 0  # Santas whose DM failed and was not retried by this call

    def __str__(self) -> str:
        """For the organiser who acted (their reply's or admin page's language)."""
        return _("%(queued)s DM(s) queued, %(waiting)s waiting, %(notified)s Santa(s) notified, %(failed)s failed") % {
            "queued": i18n.number(self.queued), "waiting": i18n.number(self.waiting),
            "notified": i18n.number(self.notified), "failed": i18n.number(self.failed)}


def _santa_dm(event: Event, pairing: Pairing) -> str:
    """The Santa's DM, in the active language: callers render it in the Santa's
    (``core.i18n.for_member`` / ``member_languages``) before the outbox seals it."""
    recipient = pairing.recipient
    wishlist = recipient.wishlist_url or _("none yet — ask them with `/ratmas message-recipient`")
    return "\n".join((
        "🎅 " + _("**You are a Secret Santa!** (Ratmas %(year)s)") % {"year": f"{event.reveal_date:%Y}"},
        _("Your recipient: **%(name)s**") % {"name": md(recipient.display_name)},
        _("Wishlist: %(wishlist)s") % {"wishlist": wishlist},
        _("Budget: %(budget)s") % {"budget": event.budget or _("not set")},
        _("Buy your gift by %(purchase)s; gifts are revealed %(reveal)s.")
        % {"purchase": _ts(event.purchase_deadline), "reveal": _ts(event.reveal_date)},
        _("Keep it secret! Message them anonymously with `/ratmas message-recipient`.")))


def _santa_dm_key(event: Event, pairing: Pairing) -> str:
    return (f"ratmas:{event.pk}:santa:{pairing.santa.user_id}:{pairing.recipient.user_id}"
            f":r{pairing.notify_round}")


def _queue_santa_dms(event: Event, only_failed: bool) -> NotifyReport:
    report = NotifyReport()
    pairings = list(event.pairings.select_for_update(of=("self",))
                    .select_related("santa", "recipient", "notify_message"))
    languages = member_languages(p.santa.user_id for p in pairings if not p.notified_at)
    changed = []
    for pairing in pairings:
        if pairing.notified_at:
            report.notified += 1
            continue
        message = pairing.notify_message
        failed = message is not None and message.status == OutboxMessage.Status.FAILED
        if message is not None and not failed:
            report.waiting += 1
            continue
        if only_failed and not failed:
            continue
        if failed:
            pairing.notify_round += 1
            pairing.last_error = ""
        with translation.override(languages[pairing.santa.user_id]):  # the Santa's language, then sealed
            pairing.notify_message = outbox.send_dm(pairing.santa.user_id, content=_santa_dm(event, pairing),
                                                    dedupe_key=_santa_dm_key(event, pairing), topic=TOPIC_SANTA_DM,
                                                    secret=True)
        changed.append(pairing)
        report.queued += 1
    Pairing.objects.bulk_update(changed, ["notify_round", "last_error", "notify_message"], batch_size=2000)
    report.failed = sum(1 for p in pairings if p.last_error)
    return report


def notify_santas(event: Event) -> NotifyReport:
    """DM every Santa who has not been told yet (failed DMs are sent again; DMs still on
    their way are left alone). The event becomes ``notified`` once Discord accepted them all."""
    with transaction.atomic():
        locked = _lock(event)
        if locked.status == Event.Status.NOTIFIED:
            raise RatmasError(_("Every Santa already has their DM."))
        _require(locked, Event.Status.MATCHED, action=gettext_lazy("notify Santas"))
        report = _queue_santa_dms(locked, only_failed=False)
        _maybe_all_notified(locked)
    _mirror(event, locked)
    return report


def retry_failed_notifications(event: Event) -> NotifyReport:
    """Queue a new DM only for the Santas whose last DM failed (e.g. after they opened DMs)."""
    with transaction.atomic():
        locked = _lock(event)
        _require(locked, Event.Status.MATCHED, action=gettext_lazy("retry notifications"))
        return _queue_santa_dms(locked, only_failed=True)


def _maybe_all_notified(event: Event) -> None:
    if event.status == Event.Status.MATCHED and event.pairings.exists() and \
            not event.pairings.filter(notified_at__isnull=True).exists():
        event.status = Event.Status.NOTIFIED
        event.save(update_fields=["status", "updated_at"])
        count = event.pairings.count()
        _announce(event, lambda: "🎅 " + ngettext(
            "All %(count)s Santa has their recipient. Happy gifting!",
            "All %(count)s Santas have their recipient. Happy gifting!", count) % {"count": i18n.number(count)},
            dedupe_key=f"ratmas:{event.pk}:all-notified")


def _failure_reason(message: OutboxMessage) -> str:
    """Why Discord refused, short enough to quote in a report (Discord's text can be long), in
    the active language (Discord's own text stays as Discord wrote it). ``Pairing.last_error``
    keeps it in the language active when the delivery was recorded (the outbox worker's:
    English); the announcement and the bounce DM render it again in their reader's."""
    if message.last_error_code == 50007:
        return _("DMs closed (Discord 50007: cannot send messages to this user)")
    reason = " ".join((message.last_error or _("Discord refused the DM")).split())
    return reason if len(reason) <= ERROR_SHOWN_CHARS else reason[: ERROR_SHOWN_CHARS - 1] + "…"


def record_delivery(message: OutboxMessage, accepted: bool) -> None:
    """Outcome of a Ratmas DM (called from the outbox signals, inside the delivery's
    transaction): mark the Santa notified, or record why not and tell the organisers."""
    with transaction.atomic():
        if message.topic == TOPIC_SANTA_DM:
            _record_santa_dm(message, accepted)
        elif message.topic == TOPIC_RELAY:
            _record_relay(message, accepted)


def _record_santa_dm(message: OutboxMessage, accepted: bool) -> None:
    event_id = Pairing.objects.filter(notify_message=message).values_list("event_id", flat=True).first()
    if event_id is None:
        return
    event = _lock(event_id)  # serialises "is everyone notified now?" between workers
    pairing = Pairing.objects.select_related("santa").get(notify_message=message)
    if accepted:
        pairing.notified_at = message.sent_at or _now()
        pairing.last_error = ""
        pairing.save(update_fields=["notified_at", "last_error"])
        _maybe_all_notified(event)
        return
    pairing.last_error = _failure_reason(message)
    pairing.save(update_fields=["last_error"])
    if event.is_finished:
        return  # nothing left to organise: no report
    _announce(event, lambda: "⚠️ " + _(
        "I could not DM Santa **%(name)s** (%(mention)s): %(reason)s. Ask them to allow DMs from server members, "
        "then run `/ratmas notify` again.") % {"name": md(pairing.santa.display_name),
                                              "mention": f"<@{pairing.santa.user_id}>",
                                              "reason": _failure_reason(message)},
              dedupe_key=f"ratmas:{event.pk}:dm-failed:{pairing.pk}:r{pairing.notify_round}")


def _record_relay(message: OutboxMessage, accepted: bool) -> None:
    relay = RelayMessage.objects.select_related("pairing__santa", "pairing__recipient").filter(
        outbox_message=message).first()
    if relay is None:
        return
    if accepted:
        RelayMessage.objects.filter(pk=relay.pk).update(delivered=True)
        return
    to_recipient = relay.direction == RelayMessage.Direction.TO_RECIPIENT
    sender = relay.pairing.santa if to_recipient else relay.pairing.recipient
    with i18n.for_member(sender.user_id):
        outbox.send_dm(sender.user_id, topic=TOPIC_RELAY_BOUNCE, dedupe_key=f"ratmas:relay-bounce:{relay.pk}",
                       content="📭 " + _("Your anonymous message could not be delivered: %(reason)s.")
                       % {"reason": _failure_reason(message)})
