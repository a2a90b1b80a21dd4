"""Santa DMs through the real outbox delivery against the fake Discord: open and closed
DMs, the organisers' report, retries for the failed Santas only, the race on "all notified"."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.models import OutboxMessage
from ratmas import services
from ratmas.models import Event, Pairing
from ratmas.services import RatmasError
from tests.ratmas.conftest import CHANNEL, uid

pytestmark = pytest.mark.django_db


def santa_dms() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(topic=services.TOPIC_SANTA_DM).order_by("pk"))


def test_dm_content(make_event, fake_discord, deliver_outbox):
    event = make_event(3, status="matched")
    services.notify_santas(event)
    deliver_outbox()
    pairing = Pairing.objects.select_related("santa", "recipient").get(event=event, santa__user_id=uid(1))
    [dm] = fake_discord.dms_to(uid(1))
    content = dm["content"]
    assert pairing.recipient.display_name in content and pairing.recipient.wishlist_url in content
    assert "20 EUR" in content
    assert f"<t:{int(event.purchase_deadline.timestamp())}:F>" in content
    assert f"<t:{int(event.reveal_date.timestamp())}:F>" in content
    assert santa_dms()[0].dedupe_key.startswith(f"ratmas:{event.pk}:santa:")


def test_mix_of_open_and_closed_dms_then_retry(make_event, fake_discord, deliver_outbox):
    event = make_event(5, status="matched")
    fake_discord.closed_dms.update({uid(2), uid(4)})
    report = services.notify_santas(event)
    assert report.queued == 5
    # calling again before delivery queues nothing new
    again = services.notify_santas(event)
    assert (again.queued, again.waiting) == (0, 5)
    assert len(santa_dms()) == 5
    deliver_outbox()
    deliver_outbox()  # the reports to organisers queued by the first run

    event.refresh_from_db()
    assert event.status == "matched"  # two Santas are unreachable
    pairings = {p.santa.user_id: p for p in Pairing.objects.filter(event=event).select_related("santa")}
    for user in (uid(1), uid(3), uid(5)):
        assert pairings[user].notified_at and pairings[user].last_error == ""
        assert len(fake_discord.dms_to(user)) == 1
    for user in (uid(2), uid(4)):
        assert pairings[user].notified_at is None
        assert "DMs closed" in pairings[user].last_error and "50007" in pairings[user].last_error
    reports = [m["content"] for m in fake_discord.posted(CHANNEL) if "could not DM" in m["content"]]
    assert len(reports) == 2 and any("Player 2" in r for r in reports) and any("Player 4" in r for r in reports)
    # no recipient is named in the organisers' report
    assert not any(pairings[u].recipient.display_name in r for u in (uid(2), uid(4)) for r in reports
                   if pairings[u].santa.display_name in r)

    # Player 2 opens DMs; the retry sends new DMs to the failed Santas only
    fake_discord.closed_dms.discard(uid(2))
    retry = services.retry_failed_notifications(event)
    assert (retry.queued, retry.notified) == (2, 3)
    deliver_outbox()
    assert len(santa_dms()) == 7
    assert len(fake_discord.dms_to(uid(1))) == 1  # never re-sent to a notified Santa
    assert len(fake_discord.dms_to(uid(2))) == 1
    pairings[uid(4)].refresh_from_db()
    assert pairings[uid(4)].notify_round == 1 and "DMs closed" in pairings[uid(4)].last_error
    event.refresh_from_db()
    assert event.status == "matched"

    # notify again (the organisers' command) also re-sends to the still failed one
    fake_discord.closed_dms.clear()
    assert services.notify_santas(event).queued == 1
    deliver_outbox()
    deliver_outbox()
    event.refresh_from_db()
    assert event.status == "notified"
    assert Pairing.objects.filter(event=event, notified_at__isnull=True).count() == 0
    assert any("All 5 Santas" in m["content"] for m in fake_discord.posted(CHANNEL))
    with pytest.raises(RatmasError, match="already has their DM"):
        services.notify_santas(event)


def test_notify_requires_matched(make_event):
    event = make_event(3, status="locked")
    with pytest.raises(RatmasError, match="Cannot notify Santas: signups are locked and the pairings not drawn yet"):
        services.notify_santas(event)


def test_other_topics_are_ignored(make_event, fake_discord, deliver_outbox):
    from django.db import transaction

    from bot import outbox

    event = make_event(3, status="matched")
    with transaction.atomic():
        outbox.send_dm(uid(1), content="unrelated", topic="economy.reward")
    deliver_outbox()
    assert not Pairing.objects.filter(event=event, notified_at__isnull=False).exists()


@pytest.mark.django_db(transaction=True)
def test_two_workers_delivering_in_parallel_still_flip_to_notified(make_event, fake_discord, run_in_parallel):
    from bot.delivery import deliver_due

    event = make_event(12, status="matched")
    services.notify_santas(event)
    results = run_in_parallel(lambda i: deliver_due(limit=3), 4)
    assert not [r for r in results if isinstance(r, BaseException)], results
    while deliver_due().claimed:
        pass
    assert Pairing.objects.filter(event=event, notified_at__isnull=True).count() == 0
    assert Event.objects.get(pk=event.pk).status == "notified"


@pytest.mark.django_db(transaction=True)
def test_parallel_notify_calls_queue_each_dm_once(make_event, run_in_parallel):
    event = make_event(6, status="matched")
    results = run_in_parallel(lambda i: services.notify_santas(event).queued, 3)
    assert sorted(results) == [0, 0, 6]
    assert OutboxMessage.objects.filter(topic=services.TOPIC_SANTA_DM).count() == 6


def test_cancelling_withdraws_queued_dms(make_event, fake_discord, deliver_outbox):
    event = make_event(4, status="matched")
    deliver_outbox()  # the announcements so far
    services.notify_santas(event)
    services.run_schedule(now=event.purchase_deadline - dt.timedelta(hours=23))
    queued = OutboxMessage.objects.filter(status="pending", topic__startswith="ratmas.")
    assert queued.filter(topic=services.TOPIC_SANTA_DM).count() == 4 and queued.filter(
        topic=services.TOPIC_REMINDER).count() == 4
    services.set_status(event, "cancelled")
    assert OutboxMessage.objects.filter(status="cancelled", topic__startswith="ratmas.").count() == 9
    deliver_outbox()
    assert not any(fake_discord.dms_to(uid(i)) for i in range(1, 5))
    [post] = [m for m in fake_discord.posted(CHANNEL) if "cancelled" in m["content"]]
    assert Pairing.objects.filter(event=event, notified_at__isnull=False).count() == 0


def test_dm_failing_in_flight_after_cancel_is_recorded_without_a_report(make_event, fake_discord, deliver_outbox):
    """A worker had already claimed the Santa DMs when the organisers cancelled: the refusal
    is still recorded on the pairing, but nobody is told to fix an event that is over."""
    from bot.clients import run_async
    from bot.delivery import DeliveryReport, _deliver_rows, claim_due, record_failure, record_sent

    event = make_event(3, status="matched")
    deliver_outbox()
    fake_discord.closed_dms.add(uid(1))
    services.notify_santas(event)
    rows = claim_due()
    assert len(rows) == 3
    services.set_status(event, "cancelled")  # the claimed rows are in flight: not withdrawn
    report = DeliveryReport()
    for row, response, failure in run_async(lambda: _deliver_rows(rows)):
        record_sent(row, response) if failure is None else record_failure(row, failure, report)
    deliver_outbox()
    assert "DMs closed" in Pairing.objects.get(event=event, santa__user_id=uid(1)).last_error
    assert not [m for m in fake_discord.posted(CHANNEL) if "could not DM" in m["content"]]
    assert Event.objects.get(pk=event.pk).status == "cancelled"
