"""The outbox through the real delivery code against the fake Discord API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from bot import outbox
from bot.delivery import backoff
from bot.models import OutboxMessage
from bot.signals import outbox_failed, outbox_sent

Status = OutboxMessage.Status
CHANNEL = 555_000_000_000_000_001
USER = 777_000_000_000_000_001


def queue(fn, *args, **kwargs) -> OutboxMessage:
    with transaction.atomic():
        return fn(*args, **kwargs)


def reload(row: OutboxMessage) -> OutboxMessage:
    row.refresh_from_db()
    return row


pytestmark = pytest.mark.django_db


def test_channel_message_is_sent_once_with_nonce(fake_discord, deliver_outbox):
    row = queue(outbox.post_message, CHANNEL, content="Raid tonight <t:1700000000:F>")
    report = deliver_outbox()
    assert (report.sent, report.failed) == (1, 0)
    row = reload(row)
    assert row.status == Status.SENT and row.sent_at and row.attempts == 1
    [message] = fake_discord.posted(CHANNEL)
    assert int(message["id"]) == row.sent_message_id
    [call] = fake_discord.calls("POST", rf"/channels/{CHANNEL}/messages")
    assert call.json["nonce"] == row.nonce and call.json["enforce_nonce"] is True
    assert call.headers["Authorization"] == "Bot fake-token"
    # a second run finds nothing to do: a sent row is never sent again
    assert deliver_outbox().claimed == 0
    assert len(fake_discord.posted(CHANNEL)) == 1


def test_rate_limited_then_sent(fake_discord, deliver_outbox):
    fake_discord.rate_limit_next("POST", r"/channels/\d+/messages", retry_after=0.3)
    row = queue(outbox.post_message, CHANNEL, content="hello")
    report = deliver_outbox()
    assert report.sent == 1
    assert reload(row).status == Status.SENT
    assert len(fake_discord.calls("POST", r"/channels/\d+/messages")) == 2  # the 429, then the retry
    assert len(fake_discord.posted(CHANNEL)) == 1


def test_global_rate_limit_is_honoured(fake_discord, deliver_outbox):
    fake_discord.rate_limit_next("POST", r"/channels/\d+/messages", retry_after=0.2, is_global=True)
    rows = [queue(outbox.post_message, CHANNEL, content=f"m{i}") for i in range(3)]
    assert deliver_outbox().sent == 3
    assert all(reload(r).status == Status.SENT for r in rows)


def test_closed_dms_fail_permanently_with_reason(fake_discord, deliver_outbox):
    fake_discord.closed_dms.add(USER)
    failures = []

    def on_failed(sender, message, **kwargs):
        failures.append((message.pk, message.last_error_code))

    outbox_failed.connect(on_failed)
    try:
        row = queue(outbox.send_dm, USER, content="You are a Santa!", topic="test.dm")
        report = deliver_outbox()
    finally:
        outbox_failed.disconnect(on_failed)
    row = reload(row)
    assert report.failed == 1
    assert row.status == Status.FAILED and row.last_error_code == 50007
    assert "Cannot send messages to this user" in row.last_error
    assert failures == [(row.pk, 50007)]
    # permanent: not retried
    assert deliver_outbox().claimed == 0
    assert len(fake_discord.calls("POST", r"/channels/\d+/messages")) == 1


def test_unknown_channel_is_permanent(fake_discord, deliver_outbox):
    fake_discord.unknown_channels.add(CHANNEL)
    row = queue(outbox.post_message, CHANNEL, content="x")
    deliver_outbox()
    row = reload(row)
    assert row.status == Status.FAILED and row.last_error_code == 10003


def test_server_error_is_retried_with_backoff_then_sent(fake_discord, deliver_outbox):
    fake_discord.fail_next("POST", r"/channels/\d+/messages", 503, {"message": "upstream", "code": 0})
    row = queue(outbox.post_message, CHANNEL, content="x")
    before = timezone.now()
    report = deliver_outbox()
    row = reload(row)
    assert report.retrying == 1
    assert row.status == Status.PENDING and row.attempts == 1 and "503" in row.last_error
    assert row.next_attempt_at >= before + backoff(1)  # 15 s after the failure, which came after ``before``
    assert deliver_outbox().claimed == 0  # not due yet
    OutboxMessage.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert deliver_outbox().sent == 1
    row = reload(row)
    assert row.status == Status.SENT and row.attempts == 2 and row.last_error == ""


def test_timeout_is_retried(fake_discord, deliver_outbox, settings):
    settings.DISCORD_HTTP_TIMEOUT = 0.5
    fake_discord.stall_next("POST", r"/channels/\d+/messages", 1.5)
    row = queue(outbox.post_message, CHANNEL, content="x")
    deliver_outbox()
    row = reload(row)
    assert row.status == Status.PENDING and "timed out" in row.last_error


def test_retry_after_lost_response_does_not_post_twice(fake_discord, deliver_outbox, settings):
    """Discord accepted the post but the answer was lost: the retry carries the same nonce."""
    settings.DISCORD_HTTP_TIMEOUT = 0.5
    fake_discord.stall_next("POST", r"/channels/\d+/messages", 1.0, then_handle=True)
    row = queue(outbox.post_message, CHANNEL, content="only once")
    deliver_outbox()
    assert reload(row).status == Status.PENDING
    OutboxMessage.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    deliver_outbox()
    assert reload(row).status == Status.SENT
    assert len(fake_discord.posted(CHANNEL)) == 1


def test_gives_up_after_max_attempts(fake_discord, deliver_outbox, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    fake_discord.fail_next("POST", r"/channels/\d+/messages", 503, {"message": "down", "code": 0}, times=5)
    row = queue(outbox.post_message, CHANNEL, content="x")
    deliver_outbox()
    OutboxMessage.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    deliver_outbox()
    row = reload(row)
    assert row.status == Status.FAILED and row.last_error.startswith("gave up after 2 attempts")


def test_bad_token_releases_rows(fake_discord, deliver_outbox, settings):
    settings.DISCORD_TOKEN = "wrong"
    row = queue(outbox.post_message, CHANNEL, content="x")
    report = deliver_outbox()
    row = reload(row)
    assert report.sent == 0 and row.status == Status.PENDING and row.attempts == 0
    assert "DISCORD_TOKEN" in row.last_error


def test_without_a_token_messages_wait_untouched(fake_discord, deliver_outbox, settings):
    settings.DISCORD_TOKEN = ""
    row = queue(outbox.post_message, CHANNEL, content="x")
    report = deliver_outbox()
    assert report.claimed == 0 and "DISCORD_TOKEN" in report.errors[0]
    assert reload(row).status == Status.PENDING and reload(row).attempts == 0
    assert fake_discord.calls() == []


def test_dm_roles_edit_and_moderation(fake_discord, deliver_outbox):
    sent = []
    outbox_sent.connect(lambda sender, message, **kw: sent.append(message.topic), weak=False, dispatch_uid="t")
    try:
        dm = queue(outbox.send_dm, USER, content="hi", topic="test.dm")
        queue(outbox.add_role, 1, USER, 42, reason="reward")
        deliver_outbox()
        dm = reload(dm)
        assert dm.sent_channel_id == fake_discord.dm_channels[USER]
        assert fake_discord.roles[(1, USER)] == {42}
        queue(outbox.edit_message, dm.sent_channel_id, dm.sent_message_id, content="edited")
        queue(outbox.remove_role, 1, USER, 42)
        queue(outbox.timeout_member, 1, USER, timezone.now() + dt.timedelta(hours=1), reason="spam")
        queue(outbox.ban_member, 1, USER + 1, reason="raid")
        queue(outbox.kick_member, 1, USER + 2)
        report = deliver_outbox()
    finally:
        outbox_sent.disconnect(dispatch_uid="t")
    assert report.sent == 5 and report.failed == 0
    assert fake_discord.dms_to(USER)[0]["content"] == "edited"
    assert fake_discord.roles[(1, USER)] == set()
    assert fake_discord.timeouts[(1, USER)] and (1, USER + 1) in fake_discord.bans
    assert "test.dm" in sent
    assert fake_discord.calls("PUT", r"/roles/42")[0].headers["X-Audit-Log-Reason"] == "reward"


def test_dedupe_key_queues_once():
    with transaction.atomic():
        a = outbox.post_message(CHANNEL, content="x", dedupe_key="k1")
        b = outbox.post_message(CHANNEL, content="y", dedupe_key="k1")
    assert a.pk == b.pk and OutboxMessage.objects.count() == 1
    assert outbox.find("k1").pk == a.pk


@pytest.mark.django_db(transaction=True)
def test_enqueue_outside_transaction_refused():
    with pytest.raises(outbox.OutboxError, match="inside the service's transaction"):
        outbox.post_message(CHANNEL, content="x")


def test_nothing_queued_when_transaction_rolls_back():
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.post_message(CHANNEL, content="x")
        raise RuntimeError("the state change failed")
    assert OutboxMessage.objects.count() == 0


@pytest.mark.parametrize("body, message", [
    ({"content": "x" * 2001}, "content is 2001"),
    ({"embeds": [{"title": "t"}] * 11}, "11 embeds"),
    ({"embeds": [{"description": "d" * 4097}]}, "description is over 4096"),
    ({"embeds": [{"description": "d" * 4000}, {"description": "d" * 2001}]}, "6001 characters"),
    ({"embeds": [{"fields": [{"name": "n", "value": "v"}] * 26}]}, "26 fields"),
    ({}, "needs content"),
])
def test_discord_limits_checked_at_queue_time(body, message):
    with pytest.raises(outbox.OutboxError, match=message), transaction.atomic():
        outbox.post_message(CHANNEL, **body)


def test_kick_on_commit_only_after_commit(settings, django_capture_on_commit_callbacks, monkeypatch):
    settings.OUTBOX_KICK_ON_COMMIT = True
    kicked = []
    monkeypatch.setattr("bot.outbox._kick_delivery", lambda: kicked.append(1))
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        outbox.post_message(CHANNEL, content="x")
        outbox.post_message(CHANNEL, content="y")
        assert kicked == []
    assert kicked == [1]  # one kick for the transaction, not one per message


def test_retry_now_never_resends_sent_rows(fake_discord, deliver_outbox):
    fake_discord.closed_dms.add(USER)
    failed = queue(outbox.send_dm, USER, content="x")
    ok = queue(outbox.post_message, CHANNEL, content="y")
    deliver_outbox()
    from bot.delivery import retry_now

    assert retry_now(OutboxMessage.objects.all()) == 1
    fake_discord.closed_dms.clear()
    deliver_outbox()
    assert reload(failed).status == Status.SENT
    assert len(fake_discord.posted(CHANNEL)) == 1 and reload(ok).attempts == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_send_each_row_once(fake_discord, run_in_parallel):
    from bot.delivery import deliver_due

    rows = [queue(outbox.post_message, CHANNEL, content=f"m{i}") for i in range(20)]
    reports = run_in_parallel(lambda i: deliver_due(limit=20), 2)
    assert not [r for r in reports if isinstance(r, BaseException)], reports
    assert sum(r.sent for r in reports) == 20
    assert len(fake_discord.calls("POST", rf"/channels/{CHANNEL}/messages")) == 20
    assert OutboxMessage.objects.filter(status=Status.SENT).count() == len(rows)


@pytest.mark.django_db(transaction=True)
def test_worker_that_died_mid_send_is_recovered_without_double_post(fake_discord, deliver_outbox):
    """A worker claimed the row and Discord accepted the message, then the worker died before
    recording it. Once the lease lapses the row is reclaimed; the nonce stops a second post."""
    from bot.clients import DiscordRest, run_async
    from bot.delivery import _send, claim_due

    row = queue(outbox.post_message, CHANNEL, content="once")
    [claimed] = claim_due()

    async def send_and_die():
        async with DiscordRest() as api:
            await _send(api, claimed)

    run_async(send_and_die)  # ... and the worker dies here
    assert deliver_outbox().claimed == 0  # lease still held
    OutboxMessage.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert deliver_outbox().sent == 1
    assert len(fake_discord.posted(CHANNEL)) == 1


def test_rewrite_pending_coalesces_until_claimed(fake_discord, deliver_outbox):
    row = queue(outbox.post_message, CHANNEL, content="roster v1")
    with transaction.atomic():
        assert outbox.rewrite_pending(row.pk, content="roster v2")
    deliver_outbox()
    with transaction.atomic():
        assert not outbox.rewrite_pending(row.pk, content="roster v3")  # already sent
    assert [m["content"] for m in fake_discord.posted(CHANNEL)] == ["roster v2"]


def test_withdraw_pending_leaves_sent_rows_alone(fake_discord, deliver_outbox):
    sent = queue(outbox.post_message, CHANNEL, content="a")
    deliver_outbox()
    waiting = queue(outbox.send_dm, USER, content="reminder")
    with transaction.atomic():
        assert outbox.withdraw_pending([sent.pk, waiting.pk], reason="match cancelled") == [waiting.pk]
    assert reload(waiting).status == Status.CANCELLED and "match cancelled" in reload(waiting).last_error
    assert deliver_outbox().claimed == 0
    from bot.delivery import retry_now

    assert retry_now(OutboxMessage.objects.all()) == 0
    assert fake_discord.dms_to(USER) == []
