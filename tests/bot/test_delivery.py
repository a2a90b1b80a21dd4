"""Delivery within Discord's limits (the fake enforcing them), the order of a message's edits,
and the bookkeeping of a run: budget, fencing, "retry now"."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from bot import outbox
from bot.clients import DiscordFailureError
from bot.delivery import DeliveryReport, LeaseKeeper, claim_due, deliver_due, record_failure, retry_now
from bot.models import OutboxMessage

Status = OutboxMessage.Status
CHANNELS = [555_000_000_000_000_100 + i for i in range(8)]
pytestmark = pytest.mark.django_db


def queue(fn, *args, **kwargs) -> OutboxMessage:
    with transaction.atomic():
        return fn(*args, **kwargs)


def test_drains_within_discords_limits_without_a_single_429(fake_discord, settings):
    """12 messages to one channel and 2 to each of 7 others, against a fake allowing 5 requests/s
    and 5 posts per channel per second: everything goes out, in queue order per channel, and
    Discord never has to refuse a request (the route buckets and the global pace hold)."""
    fake_discord.enforce_limits(global_per_second=5, route_limit=5, route_period=1.0, latency=0.02)
    settings.DISCORD_GLOBAL_RATE = 4.5
    rows = [queue(outbox.post_message, CHANNELS[0], content=f"busy {i}") for i in range(12)]
    rows += [queue(outbox.post_message, c, content=f"quiet {c} {i}") for c in CHANNELS[1:] for i in range(2)]
    report = deliver_due()
    assert (report.sent, report.retrying, report.failed) == (len(rows), 0, 0)
    assert fake_discord.refused == {}
    assert [m["content"] for m in sorted(fake_discord.posted(CHANNELS[0]), key=lambda m: int(m["id"]))] == [
        f"busy {i}" for i in range(12)]
    assert OutboxMessage.objects.filter(status=Status.SENT).values("sent_message_id").distinct().count() == len(rows)


def test_route_429_from_discord_is_waited_out_in_the_lane(fake_discord):
    """Another process used the channel's bucket: Discord answers 429 with the bucket headers;
    the lane waits ``retry_after`` and the message still goes out once."""
    fake_discord.enforce_limits(route_limit=5, route_period=1.0, latency=0.0)
    fake_discord.exhaust_bucket(CHANNELS[0], 0.5)
    first = queue(outbox.post_message, CHANNELS[0], content="first")
    queue(outbox.post_message, CHANNELS[0], content="second")
    assert deliver_due().sent == 2
    first.refresh_from_db()
    assert first.status == Status.SENT and first.attempts == 1
    assert fake_discord.refused == {"route": 1}
    assert [m["content"] for m in sorted(fake_discord.posted(CHANNELS[0]), key=lambda m: int(m["id"]))] == [
        "first", "second"]


def test_edits_of_one_message_are_applied_in_queue_order(fake_discord, deliver_outbox):
    post = queue(outbox.post_message, CHANNELS[0], content="roster v0")
    deliver_outbox()
    post.refresh_from_db()
    fake_discord.fail_next("PATCH", r"/channels/\d+/messages/\d+", 503, {"message": "upstream", "code": 0})
    edits = [queue(outbox.edit_message, CHANNELS[0], post.sent_message_id, content=f"roster v{i}") for i in (1, 2, 3)]
    report = deliver_outbox()
    # v1 failed and waits for its retry: v2 and v3 may not overtake it
    assert (report.claimed, report.retrying) == (1, 1)
    assert [OutboxMessage.objects.get(pk=e.pk).status for e in edits] == [Status.PENDING] * 3
    OutboxMessage.objects.filter(pk=edits[0].pk).update(next_attempt_at=timezone.now())
    deliver_outbox()
    deliver_outbox()
    deliver_outbox()
    bodies = [c.json["content"] for c in fake_discord.calls("PATCH", r"/messages/\d+")]
    assert bodies == ["roster v1", "roster v1", "roster v2", "roster v3"]
    assert fake_discord.posted(CHANNELS[0])[0]["content"] == "roster v3"


def test_a_run_out_of_time_gives_rows_back_unsent(fake_discord):
    rows = [queue(outbox.post_message, CHANNELS[0], content=f"m{i}") for i in range(3)]
    report = deliver_due(budget=0.0)  # no time to start anything: nothing is claimed
    assert report.claimed == 0
    assert all(OutboxMessage.objects.get(pk=r.pk).status == Status.PENDING for r in rows)


def test_a_stale_attempt_cannot_overwrite_a_newer_claim(fake_discord):
    row = queue(outbox.post_message, CHANNELS[0], content="x")
    [first] = claim_due()
    OutboxMessage.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())  # lease lapsed
    [second] = claim_due()
    assert second.attempts == 2 and second.uncertain_since is not None
    record_failure(first, DiscordFailureError("timed out waiting for Discord", maybe_delivered=True), DeliveryReport())
    row.refresh_from_db()
    assert row.status == Status.SENDING and row.attempts == 2 and row.last_error == ""


def test_a_claim_is_a_short_lease_named_after_its_run(fake_discord, settings):
    settings.OUTBOX_LEASE_SECONDS = 15
    queue(outbox.post_message, CHANNELS[0], content="x")
    before = timezone.now()
    [row] = claim_due(owner="host:1:run")
    assert before + dt.timedelta(seconds=15) <= row.next_attempt_at <= timezone.now() + dt.timedelta(seconds=15)
    assert row.claimed_by == "host:1:run"


def test_the_lease_keeper_renews_only_its_own_rows(fake_discord, settings):
    """Renewal moves the lease of the run's own ``sending`` rows, not another run's, and tells
    the run whether it may still send."""
    settings.OUTBOX_LEASE_SECONDS = 15
    queue(outbox.post_message, CHANNELS[0], content="ours")
    queue(outbox.post_message, CHANNELS[1], content="theirs")
    ours = LeaseKeeper("host:1:ours")
    [mine] = claim_due(limit=1, owner=ours.owner)
    [theirs] = claim_due(limit=1, owner="host:2:theirs")
    assert not ours.holds()  # nothing claimed yet as far as the keeper knows
    OutboxMessage.objects.filter(pk__in=[mine.pk, theirs.pk]).update(next_attempt_at=timezone.now())
    assert ours.renew() == 1
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.next_attempt_at > timezone.now() + dt.timedelta(seconds=14)
    assert theirs.next_attempt_at <= timezone.now()
    assert ours.holds()
    ours.valid_from -= 15  # the last renewal is a lease old: the run must not send any more
    assert not ours.holds()


def test_retry_now_leaves_rows_in_flight_alone(fake_discord):
    queue(outbox.post_message, CHANNELS[0], content="x")
    [row] = claim_due()
    assert retry_now(OutboxMessage.objects.all()) == 0
    assert OutboxMessage.objects.get(pk=row.pk).status == Status.SENDING


def test_channels_held_by_another_worker_are_skipped(fake_discord):
    queue(outbox.post_message, CHANNELS[0], content="a")
    queue(outbox.post_message, CHANNELS[0], content="b")
    queue(outbox.post_message, CHANNELS[1], content="c")
    [held] = claim_due(limit=1)  # another worker holds channel 0
    assert held.channel_id == CHANNELS[0]
    assert [r.channel_id for r in claim_due()] == [CHANNELS[1]]
    assert [r.channel_id for r in claim_due(own_channels=[CHANNELS[0]])] == [CHANNELS[0]]
