"""The invalid-request guard (bot/guard.py): counts shared through Redis, the window, the
pause and its reason, and delivery held back while paused, against the fake Discord."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings as django_settings
from django.db import transaction

from bot import guard, outbox
from bot.delivery import deliver_due
from bot.models import OutboxMessage

CHANNEL = 555_000_000_000_000_900
Status = OutboxMessage.Status


@pytest.fixture(params=["redis", "process"])
def fresh_guard(request, monkeypatch, settings):
    """The guard on keys of its own (other tests, in other processes, count into the shared
    keys meanwhile), through Redis or, without ``REDIS_URL``, in this process."""
    if request.param == "redis":
        assert django_settings.REDIS_URL, "the test command provides REDIS_URL"
        monkeypatch.setattr(guard, "PREFIX", f"test:guard:{uuid.uuid4().hex}")
    else:
        settings.REDIS_URL = ""
    guard.reset()
    yield request.param
    guard.reset()


def test_counts_every_answer_and_the_invalid_ones_in_the_window(fresh_guard, settings):
    settings.DISCORD_INVALID_REQUEST_LIMIT = 5
    for status in (200, 200, 204, 401, 403, 403, 429, 500):
        guard.record_answer(status)
    guard.record_answer(429, shared_scope=True)  # Discord does not count a shared resource's 429
    assert guard.answers_by_status() == {200: 2, 204: 1, 401: 1, 403: 2, 429: 2, 500: 1}
    assert guard.invalid_in_window() == 4
    state = guard.state()
    assert (state.invalid, state.limit, state.paused, state.reason) == (4, 5, False, "")
    guard.record_answer(401)
    state = guard.state()
    assert state.paused and state.invalid == 5 and state.by_status == {401: 2, 403: 2, 429: 1}
    assert "paused" in state.reason and "5 invalid requests" in state.reason and "2 × 401" in state.reason
    assert 0 < state.resumes_in <= guard.WINDOW_SECONDS


def test_the_window_slides(fresh_guard, settings, monkeypatch):
    """Entries older than the window stop counting, and the pause lifts with them."""
    settings.DISCORD_INVALID_REQUEST_LIMIT = 2
    monkeypatch.setattr(guard, "WINDOW_SECONDS", 1)
    guard.record_answer(429)
    guard.record_answer(429)
    assert guard.state().paused
    import time

    time.sleep(1.2)
    guard.record_answer(403)
    assert guard.invalid_in_window() == 1
    assert not guard.state().paused
    assert guard.answers_by_status() == {429: 2, 403: 1}


def test_counts_are_shared_between_processes_through_redis(settings, monkeypatch):
    """Another process (a second delivery worker) sees the same window."""
    import subprocess
    import sys

    prefix = f"test:guard:{uuid.uuid4().hex}"
    monkeypatch.setattr(guard, "PREFIX", prefix)
    guard.reset()
    code = ("import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); django.setup(); "
            f"from bot import guard; guard.PREFIX = {prefix!r}; [guard.record_answer(403) for _ in range(3)]")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=django_settings.BASE_DIR)
    assert guard.invalid_in_window() == 3
    assert guard.answers_by_status() == {403: 3}
    guard.reset()


def test_a_dead_redis_falls_back_to_this_process(settings, caplog):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    guard.reset()
    guard.record_answer(401)
    assert guard.invalid_in_window() == 1
    assert "Redis unavailable" in caplog.text
    guard.GUARD.redis_failed_at = 0.0
    guard.reset()


@pytest.mark.django_db
def test_client_counts_discords_answers(fresh_guard, fake_discord, settings):
    """Every answer the delivery client receives is counted: the login, a 403 DM refusal."""
    fake_discord.closed_dms.add(42)
    with transaction.atomic():
        outbox.post_message(CHANNEL, content="hello")
        outbox.send_dm(42, content="closed")
    report = deliver_due()
    assert (report.sent, report.failed) == (1, 1)
    assert guard.answers_by_status() == {200: 3, 403: 1}  # /users/@me, the post, opening the DM; the DM post refused
    assert guard.invalid_in_window() == 1


@pytest.mark.django_db
def test_delivery_pauses_at_the_limit_and_resumes_when_the_window_clears(fresh_guard, fake_discord, settings,
                                                                         monkeypatch, caplog, admin_client):
    """Discord answers a channel's posts 429 until the window holds the limit: delivery stops
    sending at once (the request that would have been next is held back), gives its rows back
    with no attempt counted, claims nothing while paused, says why in the log and on the
    dashboard, and once the window has cleared delivers every message exactly once, in order."""
    settings.DISCORD_INVALID_REQUEST_LIMIT = 3
    busy, quiet = CHANNEL, CHANNEL + 1
    with transaction.atomic():
        rows = [outbox.post_message(busy, content=f"busy {i}") for i in range(3)]
        rows += [outbox.post_message(quiet, content=f"quiet {i}") for i in range(2)]
        rows.append(outbox.send_dm(42, content="a DM"))
    fake_discord.rate_limit_next("POST", rf"/channels/{busy}/messages", retry_after=0.05, times=3)

    report = deliver_due()
    assert (report.failed, report.retrying) == (0, 0)
    assert guard.state().paused and guard.invalid_in_window() == 3
    settled = list(OutboxMessage.objects.filter(pk__in=[r.pk for r in rows]))
    assert {r.status for r in settled} <= {Status.SENT, Status.PENDING}
    assert all(r.attempts == 0 for r in settled if r.status == Status.PENDING)  # given back, not an attempt
    assert any(r.status == Status.PENDING for r in settled if r.channel_id == busy)
    assert "Delivery to Discord is paused: 3 invalid requests (3 × 429)" in caplog.text

    posts_before = len(fake_discord.calls("POST"))
    again = deliver_due()  # while paused: nothing claimed, nothing sent
    assert again.claimed == 0 and "paused" in again.errors[0]
    assert len(fake_discord.calls("POST")) == posts_before
    html = admin_client.get("/admin/").content.decode()
    assert "Delivery to Discord is paused" in html and "reached the guard&#x27;s limit of 3" in html

    monkeypatch.setattr(guard, "WINDOW_SECONDS", 1)  # ... ten minutes later: the window has cleared
    import time

    time.sleep(1.2)
    assert deliver_due().failed == 0
    assert all(r.status == Status.SENT for r in OutboxMessage.objects.filter(pk__in=[r.pk for r in rows]))
    contents = [m["content"] for m in fake_discord.posted()]
    assert sorted(contents) == sorted(r.payload["content"] for r in rows)  # none lost, none twice
    assert [m["content"] for m in sorted(fake_discord.posted(busy), key=lambda m: int(m["id"]))] == [
        "busy 0", "busy 1", "busy 2"]
    assert "Delivery to Discord resumes" in caplog.text
    assert "Delivery to Discord is paused" not in admin_client.get("/admin/").content.decode()
