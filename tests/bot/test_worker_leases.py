"""Leases that live as long as their worker (issue 22), with real Celery workers on Redis:
a worker killed -9 mid-send, a worker stopped with SIGTERM mid-send, and a worker that is
alive but waiting on Discord longer than its lease."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import time

import pytest
from django.db import transaction
from django.utils import timezone

from bot import outbox
from bot.models import OutboxMessage
from tests.bot.celery_workers import Feeder, celery_worker, kill, own_queue, wait_for

Status = OutboxMessage.Status
CHANNELS = [666_000_000_000_000_000 + i for i in range(4)]
LEASE = 5
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def queue_posts(per_channel: int) -> list[OutboxMessage]:
    with transaction.atomic():
        return [outbox.post_message(c, content=f"channel {c} message {i}") for i in range(per_channel)
                for c in CHANNELS]


def rows_of(rows: list[OutboxMessage]) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(pk__in=[r.pk for r in rows]).order_by("pk"))


def held_by(worker) -> str:
    """The ``claimed_by`` prefix of runs in ``worker``'s processes (solo pool: the worker itself)."""
    return f"{socket.gethostname()[:60]}:{worker.pid}:"


def assert_each_posted_once(fake_discord, rows: list[OutboxMessage]) -> None:
    contents = sorted(m["content"] for m in fake_discord.posted())
    assert contents == sorted(r.payload["content"] for r in rows)  # every message, none twice
    settled = rows_of(rows)
    assert all(r.status == Status.SENT for r in settled)
    assert len({r.sent_message_id for r in settled}) == len(rows)


def test_a_killed_workers_rows_are_delivered_by_another_within_the_lease(fake_discord, tmp_path):
    """Worker A is killed -9 while Discord holds the answers of posts it carried out. Worker B
    (running, fed like beat feeds it) takes A's rows as soon as their short lease lapses, and
    every message is in the channel exactly once (the nonce dedupes the re-sent posts)."""
    rows = queue_posts(3)
    fake_discord.hold_answer_next("POST", r"/channels/\d+/messages", 12, times=len(CHANNELS))
    q = own_queue()
    env = {"OUTBOX_LEASE_SECONDS": str(LEASE)}
    with celery_worker(fake_discord, tmp_path, q, **env) as a:
        Feeder(q).tick()
        wait_for(lambda: len(fake_discord.posted()) == len(CHANNELS), 60, "A's first posts", a)
        with celery_worker(fake_discord, tmp_path, q, **env) as b:
            held = OutboxMessage.objects.filter(claimed_by__startswith=held_by(a), status=Status.SENDING)
            assert held.count() == len(rows)  # A holds every row: 4 posts in flight, 8 behind them
            kill(a)
            killed = timezone.now()
            feeder = Feeder(q)
            feeder.until(lambda: all(r.status == Status.SENT for r in rows_of(rows)), 60, "B to deliver", b)
    assert_each_posted_once(fake_discord, rows)
    settled = rows_of(rows)
    assert all(r.claimed_by.startswith(held_by(b)) and r.attempts == 2 for r in settled)
    first_reclaim = min(r.claimed_at for r in settled)
    # claimable within one lease of the kill (A renewed every LEASE/3 s), taken at once by B
    # (a few seconds of slack: B's next task on a loaded machine)
    assert first_reclaim - killed <= dt.timedelta(seconds=LEASE + 3)
    assert all(r.uncertain_since is not None for r in settled)  # the re-claim knew A may have posted


def test_sigterm_stops_within_seconds_and_gives_back_what_it_did_not_send(fake_discord, tmp_path):
    """A prefork worker (2 processes, as the delivery service runs) gets SIGTERM while the
    first post of each channel waits for Discord's answer and the rest wait behind them. It
    exits within a few seconds; the rows it never started come back with no attempt counted,
    the abandoned posts come back uncertain, and the next worker delivers all of them at once,
    each exactly once."""
    rows = queue_posts(4)
    fake_discord.hold_answer_next("POST", r"/channels/\d+/messages", 15, times=len(CHANNELS))
    q = own_queue()
    # a long lease: what B takes right after A exits was given back, not left to lapse
    env = {"OUTBOX_LEASE_SECONDS": "30", "OUTBOX_STOP_GRACE_SECONDS": "2"}
    with celery_worker(fake_discord, tmp_path, q, pool="prefork", concurrency=2, **env) as a:
        Feeder(q).tick()
        wait_for(lambda: len(fake_discord.posted()) == len(CHANNELS), 60, "A's first posts", a)
        with celery_worker(fake_discord, tmp_path, q, **env) as b:
            os.kill(a.pid, signal.SIGTERM)
            signalled = time.monotonic()
            a.wait(timeout=30)
            exit_seconds = time.monotonic() - signalled
            exited = timezone.now()
            back = rows_of(rows)
            in_flight = [r for r in back if r.uncertain_since is not None]
            never_left = [r for r in back if r.uncertain_since is None]
            assert all(r.status == Status.PENDING for r in back), [r.status for r in back]
            assert len(in_flight) == len(CHANNELS) and all(r.attempts == 1 for r in in_flight)
            assert len(never_left) == len(rows) - len(CHANNELS) and all(r.attempts == 0 for r in never_left)
            assert all(r.next_attempt_at <= exited for r in back)  # due at once
            Feeder(q).until(lambda: all(r.status == Status.SENT for r in rows_of(rows)), 60, "B to deliver", b)
    assert exit_seconds < 10, a.log_path.read_text()[-3000:]  # type: ignore[attr-defined]
    assert "Warm shutdown" in a.log_path.read_text()  # type: ignore[attr-defined]
    assert_each_posted_once(fake_discord, rows)
    settled = rows_of(rows)
    assert all(r.claimed_by.startswith(held_by(b)) for r in settled)
    assert min(r.claimed_at for r in settled) - exited <= dt.timedelta(seconds=5)


def test_a_slow_but_alive_worker_keeps_its_rows(fake_discord, tmp_path):
    """Discord holds A's answer three leases long; A renews its lease meanwhile, so B, asking
    for work all along, never takes the row, and Discord gets exactly one request for it."""
    with transaction.atomic():
        row = outbox.post_message(CHANNELS[0], content="slow but mine")
    fake_discord.hold_answer_next("POST", r"/channels/\d+/messages", 3 * LEASE)
    q = own_queue()
    env = {"OUTBOX_LEASE_SECONDS": str(LEASE), "DISCORD_HTTP_TIMEOUT": str(5 * LEASE)}
    with celery_worker(fake_discord, tmp_path, q, **env) as a:
        Feeder(q).tick()
        wait_for(lambda: fake_discord.posted(CHANNELS[0]), 60, "A's post", a)
        with celery_worker(fake_discord, tmp_path, q, **env) as b:
            feeder = Feeder(q)
            feeder.until(lambda: OutboxMessage.objects.get(pk=row.pk).status == Status.SENT, 6 * LEASE,
                         "A's answer", a, b)
            assert "Task bot.tasks.deliver_outbox_task[" in b.log_path.read_text()  # type: ignore[attr-defined]
    row.refresh_from_db()
    assert row.claimed_by.startswith(held_by(a)) and row.attempts == 1 and row.uncertain_since is None
    assert len(fake_discord.calls("POST", rf"/channels/{CHANNELS[0]}/messages")) == 1
    assert len(fake_discord.posted(CHANNELS[0])) == 1
