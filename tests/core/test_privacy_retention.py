"""The retention policy (core/privacy/retention.py): dry run and real run with ``now=`` in the
future, a report stored per run, members who left forgotten by the same path as a request."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from bot.models import OutboxMessage
from core.models import PrivacyRequest, RetentionRun
from core.privacy import retention
from core.privacy.requests import target_hash
from economy.models import ModerationCase
from guildsync.models import DiscordUser
from ratmas import services as ratmas
from ratmas.models import Participant, RelayMessage
from tests import factories as f

pytestmark = pytest.mark.django_db

LEFT = 555_000_000_000_000_901
BACK = 555_000_000_000_000_902
SPAMMER = 555_000_000_000_000_903


def build():
    now = timezone.now()
    f.outbox_message(status="sent", sent_at=now)
    f.outbox_message(status="pending")
    f.moderation_case(SPAMMER, reason="posted 'buy gold here'")
    rat = f.ratmas_event(0)
    for i in range(1, 4):
        ratmas.join(rat, f.ratmas_uid(i), f"Player {i}", f"https://wish.example/{i}")
    ratmas.set_status(rat, "locked")
    ratmas.generate_pairings(rat, seed=1)
    ratmas.message_recipient(rat, f.ratmas_uid(1), "hello from your Santa")
    ratmas.set_status(rat, "cancelled")
    f.discord_user("gone_member", discord_id=LEFT, is_present=False, removed_at=now)
    f.discord_user("came_back", discord_id=BACK, is_present=True, removed_at=None)
    return rat


def test_nothing_is_due_before_its_time():
    build()
    record = retention.run(now=timezone.now() + dt.timedelta(days=10))
    assert all(rows == 0 for app in record.report.values() for rows in app.values()), record.report


def test_dry_run_then_real_run_in_the_future():
    rat = build()
    later = max(timezone.now(), rat.reveal_date) + dt.timedelta(days=200)
    out = io.StringIO()
    call_command("privacy_retention", "--dry-run", "--now", later.isoformat(), stdout=out)
    dry = RetentionRun.objects.get()
    assert dry.dry_run and "would delete" in out.getvalue()
    settled = OutboxMessage.objects.exclude(status__in=["pending", "sending"]).count()
    assert settled >= 2 and dry.report["bot"]["settled_messages"] == settled and dry.report["ratmas"] == {"relay_messages": 1, "wishlists": 3}
    assert dry.report["economy"]["moderation_texts"] == 1 and dry.report["guildsync"]["members_who_left"] == 1
    # a dry run changes nothing
    assert OutboxMessage.objects.exclude(status__in=["pending", "sending"]).count() == settled
    assert RelayMessage.objects.count() == 1
    assert DiscordUser.objects.filter(discord_id=LEFT).exists()

    real = retention.run(now=later, triggered_by="test")
    assert real.report == dry.report and not real.dry_run and real.finished_at
    assert not OutboxMessage.objects.exclude(status__in=["pending", "sending"]).exists()
    assert OutboxMessage.objects.filter(status="pending").exists()  # never a message still to send
    assert not RelayMessage.objects.exists() and not Participant.objects.exclude(wishlist_url="").exists()
    case = ModerationCase.objects.get(user_id=SPAMMER)
    assert "gold" not in case.reason  # the case stays, its text goes
    assert not DiscordUser.objects.filter(discord_id=LEFT).exists()
    assert DiscordUser.objects.filter(discord_id=BACK).exists()  # came back: the clock stopped
    request = PrivacyRequest.objects.get(source="retention")
    assert request.target_hash == target_hash(LEFT) and request.status == "done" and request.kind == "forget"
    assert str(LEFT) not in str(request.counts)
    # the next run finds nothing more
    again = retention.run(now=later)
    assert all(rows == 0 for app in again.report.values() for rows in app.values()), again.report


def test_batches_are_small_transactions(settings):
    settings.RETENTION_BATCH_SIZE = 7
    for _ in range(30):
        f.outbox_message(status="sent", sent_at=timezone.now())
    record = retention.run(now=timezone.now() + dt.timedelta(days=31))
    assert record.report["bot"]["settled_messages"] == 30 and not OutboxMessage.objects.exists()


def test_the_purge_clears_references_and_runs_few_statements_per_batch(settings):
    """The outbox purge (retention.purge) deletes by id: what pointed at a purged message (a Santa
    DM, a relayed text) now points at nothing, the pairing stays, other rows stay; on PostgreSQL
    a batch is one statement (lock, one UPDATE per referencing table, DELETE)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ratmas.models import Pairing

    rat = f.ratmas_event(3, status="matched")
    ratmas.notify_santas(rat)
    ratmas.message_recipient(rat, f.ratmas_uid(1), "hello from your Santa")
    sent = OutboxMessage.objects.update(status="sent", sent_at=timezone.now())
    assert Pairing.objects.filter(event=rat, notify_message__isnull=False).count() == 3
    settings.RETENTION_BATCH_SIZE = 2
    references = 6  # guildsync RoleChange, ark MessageRef ×2, ark SentReminder, ratmas Pairing, RelayMessage
    with CaptureQueriesContext(connection) as queries:
        deleted = retention.purge(OutboxMessage.objects.filter(status="sent"), dry_run=False)
    assert deleted == sent and not OutboxMessage.objects.exists()
    assert RelayMessage.objects.count() == 1 and Participant.objects.filter(event=rat).count() == 3
    assert Pairing.objects.filter(event=rat).count() == 3
    assert not Pairing.objects.filter(event=rat, notify_message__isnull=False).exists()
    assert RelayMessage.objects.get().outbox_message is None and RelayMessage.objects.get().text
    statements = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    batches = -(-sent // 2) + 1  # full batches of 2 and the empty look that ends it
    if connection.vendor == "postgresql":  # one WITH statement per batch: lock, clear references, delete
        assert len(statements) == batches and all(s.count("= NULL") == references and "SKIP LOCKED" in s for s in statements), statements
    else:
        assert len(statements) == (batches - 1) * (1 + references + 1) + 1, statements


@pytest.mark.django_db(transaction=True)
def test_the_purge_skips_a_row_a_worker_holds_and_takes_it_next_time():
    """A settled row locked by another session (a worker re-reading it) is skipped, not waited
    for: the purge never queues behind a lock; the next run deletes it."""
    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    rows = [f.outbox_message(status="sent", sent_at=timezone.now()) for _ in range(5)]
    worker = connections.create_connection("default")
    try:
        worker.set_autocommit(False)
        with worker.cursor() as cursor:
            cursor.execute("SELECT id FROM bot_outboxmessage WHERE id = %s FOR UPDATE", [rows[2].pk])
        deleted = retention.purge(OutboxMessage.objects.filter(status="sent"), dry_run=False, batch=2)
        assert deleted == 4 and list(OutboxMessage.objects.values_list("pk", flat=True)) == [rows[2].pk]
        worker.rollback()
    finally:
        worker.close()
    assert retention.purge(OutboxMessage.objects.filter(status="sent"), dry_run=False) == 1
    assert not OutboxMessage.objects.exists()
