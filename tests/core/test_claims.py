"""``core.claims``: of two workers claiming the same row at once, exactly one gets it.

Each scenario runs on two real PostgreSQL connections and is ordered by events, not by
clocks: worker A claims and keeps its transaction open until worker B has tried. Each
scenario is also run against a check-then-update claim (read "still free", then write), to
show it catches exactly the race the helpers exist to prevent."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connection, transaction
from django.utils import timezone

from core.claims import claim_lease, claim_row, claim_rows
from guildsync.models import SyncLock

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

GUARD = 30  # seconds a worker waits for the other before giving up (a hang, never a pass)


def naive_claim_row(queryset, pk, **still):
    """Check-then-update: reads the row without locking it."""
    return queryset.filter(pk=pk, **still).first()


def naive_claim_lease(queryset, *, until, now, field="locked_until", **values):
    """Check-then-update: asks whether the lease is free, then takes it unconditionally."""
    free = queryset.filter(**{f"{field}__isnull": True}) | queryset.filter(**{f"{field}__lte": now})
    if not free.exists():
        return 0
    return queryset.update(**{field: until}, **values)


def _row_race(run_in_parallel, claim) -> tuple[list, list[str], str]:
    """A claims the free row and holds it until B has tried; both write their name as holder."""
    row = SyncLock.objects.create(name="claim-test")
    a_claimed, b_tried = threading.Event(), threading.Event()
    events: list[str] = []

    def worker(i: int):
        if i == 1:
            assert a_claimed.wait(GUARD)
        with transaction.atomic():
            got = claim(SyncLock.objects.all(), row.pk, holder="")
            events.append(f"{'AB'[i]} {'claimed' if got else 'skipped'}")
            if i == 0:
                a_claimed.set()
                b_tried.wait(GUARD)  # hold the row while B tries (B never waits for A's row)
            else:
                b_tried.set()
            if got is not None:
                got.holder = "AB"[i]
                got.save(update_fields=["holder"])
            events.append(f"{'AB'[i]} commits")
        return got

    results = run_in_parallel(worker, 2, timeout=GUARD * 2)
    row.refresh_from_db()
    return results, events, row.holder


def test_claim_row_gives_a_held_row_to_one_worker_and_the_other_skips_without_waiting(run_in_parallel):
    results, events, holder = _row_race(run_in_parallel, claim_row)
    assert isinstance(results[0], SyncLock) and results[1] is None, results
    # B skipped while A still held the row: it did not block until A committed
    assert events.index("B skipped") < events.index("A commits"), events
    assert holder == "A"


def test_the_row_race_catches_a_check_then_update_claim(run_in_parallel):
    results, events, _ = _row_race(run_in_parallel, naive_claim_row)
    assert all(isinstance(r, SyncLock) for r in results), results  # both "claimed" the row
    assert "A claimed" in events and "B claimed" in events  # the same row's work done twice


def _batch_race(run_in_parallel, claim) -> list[list[int]]:
    """A claims a batch of four of ten rows and holds them while B claims its batch."""
    SyncLock.objects.bulk_create([SyncLock(name=f"batch-{n}") for n in range(10)])
    a_claimed, b_tried = threading.Event(), threading.Event()

    def worker(i: int) -> list[int]:
        if i == 1:
            assert a_claimed.wait(GUARD)
        with transaction.atomic():
            batch = list(claim(SyncLock.objects.filter(name__startswith="batch-")).order_by("name")
                         .values_list("pk", flat=True)[:4])
            (a_claimed if i == 0 else b_tried).set()
            if i == 0:
                b_tried.wait(GUARD)
        return batch

    return run_in_parallel(worker, 2, timeout=GUARD * 2)


def test_claim_rows_gives_two_workers_different_batches(run_in_parallel):
    a, b = _batch_race(run_in_parallel, claim_rows)
    assert len(a) == len(b) == 4 and not set(a) & set(b), (a, b)


def test_the_batch_race_catches_a_claim_without_skip_locked(run_in_parallel):
    a, b = _batch_race(run_in_parallel, lambda qs: qs)  # a plain read: both get the same rows
    assert a == b


def _waiting_on_a_lock() -> bool:
    with connection.cursor() as cur:
        cur.execute("SELECT pg_stat_clear_snapshot()")  # else a transaction sees its first snapshot only
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'")
        return cur.fetchone()[0] > 0


def _lease_race(run_in_parallel, claim) -> tuple[list, str]:
    """A takes the free lease and keeps its transaction open until B's claim is seen waiting
    on A's row lock; then A commits and B's claim finishes."""
    SyncLock.objects.create(name="lease-test")
    now = timezone.now()
    a_claimed = threading.Event()

    def worker(i: int):
        queryset = SyncLock.objects.filter(name="lease-test")
        until = now + dt.timedelta(minutes=5)
        if i == 1:
            assert a_claimed.wait(GUARD)
            return claim(queryset, now=now, until=until, holder="B")
        with transaction.atomic():
            taken = claim(queryset, now=now, until=until, holder="A")
            a_claimed.set()
            for _ in range(GUARD * 20):  # until B's UPDATE waits for this transaction's row lock
                if _waiting_on_a_lock():
                    break
                time.sleep(0.05)
            else:
                raise AssertionError("B never waited for A's row lock")
        return taken

    results = run_in_parallel(worker, 2, timeout=GUARD * 2)
    return results, SyncLock.objects.get(name="lease-test").holder


def test_claim_lease_gives_a_free_lease_to_one_worker(run_in_parallel):
    results, holder = _lease_race(run_in_parallel, claim_lease)
    assert results == [1, 0]
    assert holder == "A"


def test_the_lease_race_catches_a_check_then_update_claim(run_in_parallel):
    results, holder = _lease_race(run_in_parallel, naive_claim_lease)
    assert results == [1, 1]  # B saw the lease free before A committed, then overwrote it
    assert holder == "B"


@pytest.mark.parametrize("locked_until, taken", [(None, 1), (-1, 1), (0, 1), (+1, 0)])
def test_claim_lease_takes_a_free_or_lapsed_lease_only(locked_until, taken):
    now = timezone.now()
    until = None if locked_until is None else now + dt.timedelta(seconds=locked_until)
    SyncLock.objects.create(name="lapse-test", locked_until=until, holder="old")
    assert claim_lease(SyncLock.objects.filter(name="lapse-test"), now=now, until=now + dt.timedelta(minutes=1),
                       holder="new") == taken
    assert SyncLock.objects.get(name="lapse-test").holder == ("new" if taken else "old")


def test_claim_row_passes_over_a_row_that_moved_on():
    row = SyncLock.objects.create(name="moved-test", holder="someone")
    with transaction.atomic():
        assert claim_row(SyncLock.objects.all(), row.pk, holder="") is None
        assert claim_row(SyncLock.objects.all(), row.pk, holder="someone") == row
