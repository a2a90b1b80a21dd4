"""The retention purge of 1,000,000 settled outbox rows: no statement and no transaction holds
its locks for more than 1 s (issue 25), against one plain ``DELETE`` of the same rows.

1,000,000 sent rows 60 days old (plus 1,000 pending rows, which must stay) are written with
``generate_series``; the bot's share of the retention policy (``bot/privacy.py``,
``core.privacy.retention.purge``: on PostgreSQL one statement per batch of ``RETENTION_BATCH_SIZE``
rows in autocommit, locked by a primary-key range, references set to NULL, deleted by id) deletes
them. Every statement of the purge is timed (``connection.execute_wrapper``), and an observer
connection samples ``pg_stat_activity`` every 20 ms for the purge session's open transaction
(``now() - xact_start``: how long its row locks have been held). The anchor writes the same rows
again and deletes them with one ``DELETE`` statement, holding the locks of all of them at once.

    bench/run.sh privacy_purge
    BENCH_ROWS=200000 bench/run.sh privacy_purge
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time

from bench._setup import report, setup_django

ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))
GOAL_SECONDS = 1.0


def fill(cursor, rows: int) -> None:
    cursor.execute(
        "INSERT INTO bot_outboxmessage (kind, channel_id, payload, topic, secret, status, attempts, next_attempt_at, "
        "last_error, claimed_by, language, sent_at, sent_message_id, created_at, updated_at) "
        "SELECT 'channel_message', 555, jsonb_build_object('content', 'message ' || g), 'bench', false, 'sent', 1, "
        "now() - interval '60 days', '', '', '', now() - interval '60 days', g, now() - interval '60 days', "
        "now() - interval '60 days' FROM generate_series(1, %s) g", [rows])
    cursor.execute(
        "INSERT INTO bot_outboxmessage (kind, channel_id, payload, topic, secret, status, attempts, next_attempt_at, "
        "last_error, claimed_by, language, created_at, updated_at) SELECT 'channel_message', 556, "
        "'{\"content\": \"later\"}', 'bench', false, 'pending', 0, now(), '', '', '', now(), now() "
        "FROM generate_series(1, 1000)")
    cursor.execute("ANALYZE bot_outboxmessage")


class Observer(threading.Thread):
    """Samples how long the purge session's transaction has been open (its locks held)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.longest, self.samples, self.stop = pid, 0.0, 0, threading.Event()
        self.seen: set = set()  # the transactions (by their start) sampled at all
        self.over: set = set()  # ... and those seen open longer than the goal

    def run(self) -> None:
        from django.db import connections

        conn = connections.create_connection("default")
        with conn.cursor() as cursor:
            while not self.stop.is_set():
                cursor.execute("SELECT extract(epoch FROM now() - xact_start), xact_start FROM pg_stat_activity "
                               "WHERE pid = %s AND xact_start IS NOT NULL", [self.pid])
                row = cursor.fetchone()
                if row and row[0] is not None:
                    self.longest = max(self.longest, float(row[0]))
                    self.seen.add(row[1])
                    if float(row[0]) > GOAL_SECONDS:
                        self.over.add(row[1])
                self.samples += 1
                time.sleep(0.02)
        conn.close()


def main() -> None:
    setup_django()
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from bot.models import OutboxMessage
    from core.privacy import retention

    print(f"privacy_purge: load average at start {os.getloadavg()[0]:.1f} (2 cores, shared machine), "
          f"RETENTION_BATCH_SIZE {settings.RETENTION_BATCH_SIZE}", flush=True)
    OutboxMessage.objects.filter(topic="bench").delete()
    with connection.cursor() as cursor:
        started = time.monotonic()
        fill(cursor, ROWS)
        print(f"privacy_purge: wrote {ROWS:,} settled rows in {time.monotonic() - started:.1f} s", flush=True)
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]

    statements: list[tuple[float, str]] = []

    def timed(execute, sql, params, many, context):
        began = time.monotonic()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.append((time.monotonic() - began, " ".join(sql.split()[:4])))

    observer = Observer(pid)
    observer.start()
    began = time.monotonic()
    with connection.execute_wrapper(timed):
        record = retention.run(now=timezone.now(), triggered_by="bench")
    purge_seconds = time.monotonic() - began
    load_after_purge = os.getloadavg()[0]
    observer.stop.set()
    observer.join()
    deleted = record.report["bot"]["settled_messages"]
    left = OutboxMessage.objects.filter(topic="bench", status="pending").count()
    assert deleted >= ROWS and left == 1000, (deleted, left)
    longest_statement = max(seconds for seconds, _sql in statements)
    print(f"privacy_purge: deleted {deleted:,} rows in {purge_seconds:.1f} s, {len(statements):,} statements, "
          f"longest statement {longest_statement:.3f} s, longest open transaction seen {observer.longest:.3f} s "
          f"({observer.samples:,} samples), 1,000 pending rows kept; load average {load_after_purge:.1f}", flush=True)
    slowest = sorted(statements, reverse=True)[:5]
    print("privacy_purge: slowest statements: " + "; ".join(f"{sec:.3f} s {sql}…" for sec, sql in slowest), flush=True)
    print(f"privacy_purge: transactions sampled open longer than {GOAL_SECONDS:g} s: {len(observer.over)} of "
          f"{len(observer.seen):,} sampled", flush=True)

    with connection.cursor() as cursor:
        fill(cursor, ROWS)
        cutoff = timezone.now() - dt.timedelta(days=30)
        began = time.monotonic()
        cursor.execute("DELETE FROM bot_outboxmessage WHERE status IN ('sent', 'failed', 'cancelled') "
                       "AND updated_at < %s", [cutoff])
        anchor = time.monotonic() - began
        cursor.execute("DELETE FROM bot_outboxmessage WHERE topic = 'bench'")
    print(f"privacy_purge: anchor one DELETE of {ROWS:,} rows: {anchor:.1f} s holding every row's lock "
          f"(load average {os.getloadavg()[0]:.1f})", flush=True)
    held = max(longest_statement, observer.longest)
    report("privacy_purge longest lock hold", held, anchor, "s", anchor_name="one DELETE statement",
           higher_is_better=False)
    print(f"privacy_purge: goal no statement or transaction holding locks > {GOAL_SECONDS:g} s: "
          f"{'MET' if held <= GOAL_SECONDS else 'NOT MET'} ({held:.3f} s)", flush=True)


if __name__ == "__main__":
    main()
