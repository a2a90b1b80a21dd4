"""Real Celery workers, in their own processes, against the real Redis, executing real tasks:
delivery on its own queue, a Discord outage, a worker killed between Discord's answer and
its record, and a re-claim after Discord's nonce window. (Leases, renewal and shutdown:
test_worker_leases.py.)"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone

from ark.tasks import ark_lifecycle_task
from bot import outbox
from bot.delivery import deliver_due
from bot.models import OutboxMessage
from bot.tasks import deliver_outbox_task
from tests.bot.celery_workers import celery_worker, kill, own_queue, wait_for

CHANNEL = 123456789
USER = 777_000_000_000_000_042
Status = OutboxMessage.Status
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def queue(fn, *args, **kwargs) -> OutboxMessage:
    with transaction.atomic():
        return fn(*args, **kwargs)


def statuses(rows: list[OutboxMessage]) -> list[str]:
    return list(OutboxMessage.objects.filter(pk__in=[r.pk for r in rows]).order_by("pk").values_list("status", flat=True))


def test_real_worker_delivers_the_outbox_from_its_own_queue(fake_discord, tmp_path):
    # Routed to the "discord" queue (CELERY_TASK_ROUTES); the test's worker reads a queue of its
    # own instead, so another test's worker on "discord" (tests run in parallel) never takes it.
    assert deliver_outbox_task.app.amqp.router.route({}, deliver_outbox_task.name)["queue"].name == "discord"
    row = queue(outbox.post_message, CHANNEL, content="sent by a real worker")
    discord = own_queue()
    with celery_worker(fake_discord, tmp_path, discord) as worker:
        deliver_outbox_task.apply_async(queue=discord)  # the only queue this worker reads
        wait_for(lambda: OutboxMessage.objects.get(pk=row.pk).status == Status.SENT, 60, "delivery", worker)
    assert [m["content"] for m in fake_discord.posted(CHANNEL)] == ["sent by a real worker"]
    assert "Task bot.tasks.deliver_outbox_task[" in worker.log_path.read_text()


def test_discord_outage_holds_neither_other_queues_nor_rows(fake_discord, tmp_path):
    """Discord stalls every post. Delivery records each timeout as it happens, gives back what
    it could not start before its budget ran out, leaves nothing in ``sending``, and the
    lifecycle runs meanwhile on the other queue. Once Discord is back, one message per row."""
    rows = [queue(outbox.post_message, CHANNEL, content=f"during the outage {i}") for i in range(5)]
    fake_discord.stall_next("POST", r"/channels/\d+/messages", 5.0, times=5, then_handle=False)
    discord = own_queue()
    with celery_worker(fake_discord, tmp_path, discord, DISCORD_HTTP_TIMEOUT="2", OUTBOX_RUN_SECONDS="7") as d, \
            celery_worker(fake_discord, tmp_path, "celery") as c:
        deliver_outbox_task.apply_async(queue=discord)
        # the first failure is on record while later rows of the same run are still in flight
        wait_for(lambda: OutboxMessage.objects.filter(pk__in=[r.pk for r in rows]).exclude(last_error="").exists(),
                 30, "the first recorded failure", d)
        assert Status.SENDING in statuses(rows)
        lifecycle = ark_lifecycle_task.delay()
        assert lifecycle.get(timeout=30) is not None
        assert Status.SENDING in statuses(rows)  # ... done while delivery was still struggling
        wait_for(lambda: Status.SENDING not in statuses(rows), 30, "the delivery run to end", d)
        wait_for(lambda: "Task bot.tasks.deliver_outbox_task[" in d.log_path.read_text()
                 and "succeeded" in d.log_path.read_text(),
                 30, "the delivery task to finish", d)
        assert "Task ark.tasks.ark_lifecycle_task[" in c.log_path.read_text()
        assert "Task ark.tasks.ark_lifecycle_task[" not in d.log_path.read_text()
    settled = list(OutboxMessage.objects.filter(pk__in=[r.pk for r in rows]).order_by("pk"))
    failed = [r for r in settled if r.last_error]
    assert all(r.status == Status.PENDING for r in settled)
    assert failed and all("timed out" in r.last_error and r.attempts == 1 for r in failed)
    assert all(r.attempts == 0 for r in settled if not r.last_error)  # never started: given back, no attempt
    assert fake_discord.posted(CHANNEL) == []
    # Discord is back
    with fake_discord.lock:
        fake_discord.scripted.clear()
    OutboxMessage.objects.filter(pk__in=[r.pk for r in rows]).update(next_attempt_at=timezone.now())
    assert deliver_due().sent == 5
    assert sorted(m["content"] for m in fake_discord.posted(CHANNEL)) == [f"during the outage {i}" for i in range(5)]


def kill_after_discord_answered(fake_discord, tmp_path, row: OutboxMessage, channel: Callable[[], int | None]):
    """A real worker sends ``row``; Discord carries it out and its answer is on the way when
    the worker is killed with SIGKILL, so the row stays ``sending`` with its short lease."""
    fake_discord.hold_answer_next("POST", r"/channels/\d+/messages", 20)
    queue_name = own_queue()
    with celery_worker(fake_discord, tmp_path, queue_name) as worker:
        deliver_outbox_task.apply_async(queue=queue_name)
        wait_for(lambda: channel() and fake_discord.posted(channel()), 60, "Discord to post", worker)
        kill(worker)
        killed = timezone.now()
    row.refresh_from_db()
    assert row.status == Status.SENDING and row.attempts == 1
    # nobody re-claims it while its lease runs; the lease ends within OUTBOX_LEASE_SECONDS of the kill
    assert timezone.now() < row.next_attempt_at <= killed + dt.timedelta(seconds=django_settings.OUTBOX_LEASE_SECONDS)
    assert deliver_due().claimed == 0
    return row


@pytest.mark.parametrize("kind", ["channel", "dm"])
def test_worker_killed_between_discords_answer_and_the_record(kind, fake_discord, tmp_path):
    if kind == "channel":
        row = queue(outbox.post_message, CHANNEL, content="exactly once")
        channel = lambda: CHANNEL  # noqa: E731
    else:
        row = queue(outbox.send_dm, USER, content="exactly once")
        channel = lambda: fake_discord.dm_channels.get(USER)  # noqa: E731
    row = kill_after_discord_answered(fake_discord, tmp_path, row, channel)
    OutboxMessage.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())  # the lease lapses
    assert deliver_due().sent == 1
    row.refresh_from_db()
    [message] = fake_discord.posted(channel())
    assert row.status == Status.SENT and row.sent_message_id == int(message["id"]) and row.attempts == 2
    assert row.uncertain_since is not None  # the re-claim knew the lost attempt may have posted


@pytest.mark.parametrize("kind, history_has_nonce", [("channel", False), ("channel", True), ("dm", False)])
def test_reclaim_after_the_nonce_window_adopts_the_posted_message(kind, history_has_nonce, fake_discord, tmp_path):
    """As above, but the row comes back after Discord forgot the nonce: the retry finds the
    message in the channel's history (by nonce if Discord shows it, else by author and body)
    and records it instead of posting a second one."""
    if kind == "channel":
        row = queue(outbox.post_message, CHANNEL, content="exactly once", embeds=[{"title": "Raid", "description": "8pm"}])
        channel = lambda: CHANNEL  # noqa: E731
    else:
        row = queue(outbox.send_dm, USER, content="exactly once")
        channel = lambda: fake_discord.dm_channels.get(USER)  # noqa: E731
    row = kill_after_discord_answered(fake_discord, tmp_path, row, channel)
    fake_discord.nonce_window = 0  # Discord no longer dedupes this nonce
    fake_discord.history_has_nonce = history_has_nonce
    # ten minutes later: the lease lapsed long ago
    earlier = timezone.now() - dt.timedelta(minutes=10)
    OutboxMessage.objects.filter(pk=row.pk).update(claimed_at=earlier, next_attempt_at=earlier)
    report = deliver_due()
    assert (report.sent, report.adopted) == (1, 1)
    row.refresh_from_db()
    [message] = fake_discord.posted(channel())
    assert row.status == Status.SENT and row.sent_message_id == int(message["id"])
    assert fake_discord.calls("GET", rf"/channels/{channel()}/messages")
    assert len(fake_discord.calls("POST", rf"/channels/{channel()}/messages")) == 1
