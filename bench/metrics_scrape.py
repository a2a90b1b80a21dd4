"""A ``/metrics`` scrape at scale: ≤ 200 ms with 1,000,000 outbox rows and 1,000,000 bytes
transactions, beside a plain indexed ``SELECT 1`` round trip on the same server.

Data (PostgreSQL, inserted with ``generate_series``, then ``VACUUM ANALYZE`` as autovacuum
would): the outbox topped up to 1,000,000 rows, like a community's after a few years: 5,000
waiting (one row in 200, the oldest two hours old), 15,000 given up (three in 200, spread over
a year, so a few in the last hour), the rest sent; the bytes ledger topped up to 1,000,000
transactions. Plus what a running service has: every periodic job of the schedule, 40 task
counters, the four heartbeats, Discord answers counted by the guard.

Figure: the scrape through Django's full request path (middleware, Bearer check, every
series rendered), median and slowest of 30 after 3 warm-ups. Anchor: ``SELECT 1 FROM the
outbox WHERE id = …`` (primary-key index), median of 300 round trips. The scrape's cost is
that of a few index reads of the small sets it reports, so the ratio tells how many round
trips' worth of work a scrape is.

    bench/run.sh metrics_scrape
"""

from __future__ import annotations

import statistics
import time

from bench._setup import setup_django

ROWS = 1_000_000
TOPIC = "bench.metrics_scrape"
GUILD = 990_000_000_000_000_001
TOKEN = "bench-metrics-token"
GOAL_MS = 200.0


def populate() -> tuple[int, int]:
    from django.db import connection

    from bot.models import OutboxMessage
    from economy.models import BytesTransaction

    outbox = OutboxMessage._meta.db_table
    ledger = BytesTransaction._meta.db_table
    missing_outbox = max(0, ROWS - OutboxMessage.objects.count())
    missing_ledger = max(0, ROWS - BytesTransaction.objects.count())
    # Every column of the model: these computed, the others at the field's default (so a field
    # added later needs no change here).
    computed = {
        "kind": "CASE WHEN g %% 2 = 0 THEN 'dm' ELSE 'channel_message' END",
        "channel_id": "1000 + g %% 500", "user_id": "2000 + g", "topic": "%s",
        "status": "CASE WHEN g %% 200 = 0 THEN 'pending' WHEN g %% 200 <= 3 THEN 'failed' ELSE 'sent' END",
        "attempts": "CASE WHEN g %% 200 BETWEEN 1 AND 3 THEN 8 ELSE 1 END",
        "next_attempt_at": "now()",
        "last_error": "CASE WHEN g %% 200 BETWEEN 1 AND 3 THEN '50007: Cannot send messages to this user' ELSE '' END",
        "sent_at": "CASE WHEN g %% 200 > 3 THEN now() - g * interval '30 seconds' END",
        "failed_at": "CASE WHEN g %% 200 BETWEEN 1 AND 3 THEN now() - g * interval '31.5 seconds' END",
        "created_at": "CASE WHEN g %% 200 = 0 THEN now() - (g %% 7200) * interval '1 second' "
                      "ELSE now() - g * interval '31.5 seconds' END",
        "updated_at": "now()",
    }
    columns, values, params = [], [], []
    for field in OutboxMessage._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(field.column)
        if field.column in computed:
            values.append(computed[field.column])
            if field.column == "topic":
                params.append(TOPIC)
        else:
            values.append("%s")
            params.append(field.get_db_prep_save(field.get_default(), connection))
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {outbox} ({', '.join(columns)}) SELECT {', '.join(values)} "  # noqa: S608
                       "FROM generate_series(1, %s) AS g", [*params, missing_outbox])
        cursor.execute(f"""
            INSERT INTO {ledger} (id, guild_id, kind, giver_id, giver_username, receiver_id, receiver_username,
                                  amount, reason, created_at)
            SELECT gen_random_uuid(), %s, 'transfer', 3000 + g %% 5000, 'giver', 9000 + g %% 5000, 'receiver',
                   1 + g %% 100, 'bench', now() - g * interval '30 seconds'
            FROM generate_series(1, %s) AS g""", [GUILD, missing_ledger])  # noqa: S608
        cursor.execute(f"VACUUM ANALYZE {outbox}")
        cursor.execute(f"VACUUM ANALYZE {ledger}")
    return missing_outbox, missing_ledger


def service_state() -> None:
    from django.conf import settings
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from bot import guard
    from core import heartbeats, metrics

    every = IntervalSchedule.objects.get_or_create(every=60, period=IntervalSchedule.SECONDS)[0]
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        PeriodicTask.objects.get_or_create(name=name, defaults={"task": entry["task"], "interval": every})
    for entry in list(settings.CELERY_BEAT_SCHEDULE.values())[:20]:
        metrics.record_task_run(entry["task"], "success", 0.2)
        metrics.record_task_run(entry["task"], "failure", 1.5)
    for component in heartbeats.COMPONENTS:
        heartbeats.record(component)
    for status in (200, 200, 204, 403, 429):
        guard.record_answer(status)


def cleanup() -> None:
    """Remove the benchmark's rows with one plain DELETE each (no ORM collector: 1,000,000 objects)."""
    from django.db import connection

    from bot.models import OutboxMessage
    from economy.models import BytesTransaction

    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {OutboxMessage._meta.db_table} WHERE topic = %s", [TOPIC])  # noqa: S608
        cursor.execute(f"DELETE FROM {BytesTransaction._meta.db_table} WHERE guild_id = %s", [GUILD])  # noqa: S608


def main() -> None:
    setup_django()
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from bot.models import OutboxMessage
    from economy.models import BytesTransaction

    assert connection.vendor == "postgresql", "run through bench/run.sh (PostgreSQL)"
    began = time.perf_counter()
    added = populate()
    service_state()
    print(f"metrics_scrape: {OutboxMessage.objects.count():,} outbox rows "
          f"({OutboxMessage.objects.filter(status='pending').count():,} pending, "
          f"{OutboxMessage.objects.filter(status='failed').count():,} failed), "
          f"{BytesTransaction.objects.count():,} transactions (added {added[0]:,} + {added[1]:,} "
          f"in {time.perf_counter() - began:.0f} s)", flush=True)
    try:
        settings.METRICS_TOKEN = TOKEN
        client = Client()
        scrapes = []
        for i in range(33):
            start = time.perf_counter()
            response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
            elapsed = (time.perf_counter() - start) * 1000
            assert response.status_code == 200 and b"guildops_outbox_pending" in response.content
            if i >= 3:
                scrapes.append(elapsed)
        last_id = OutboxMessage.objects.order_by("-pk").values_list("pk", flat=True).first()
        anchors = []
        with connection.cursor() as cursor:
            for i in range(300):
                start = time.perf_counter()
                cursor.execute(f"SELECT 1 FROM {OutboxMessage._meta.db_table} WHERE id = %s",  # noqa: S608
                               [last_id - (i * 3331) % 900_000])
                cursor.fetchone()
                anchors.append((time.perf_counter() - start) * 1000)
        scrape_ms, slowest_ms, anchor_ms = statistics.median(scrapes), max(scrapes), statistics.median(anchors)
        verdict = "MET" if slowest_ms <= GOAL_MS else "NOT MET"
        print(f"metrics_scrape: project /metrics scrape median {scrape_ms:.1f} ms, slowest {slowest_ms:.1f} ms "
              f"(of {len(scrapes)}) | anchor indexed SELECT 1 round trip {anchor_ms:.3f} ms | "
              f"ratio {scrape_ms / anchor_ms:,.0f} round trips per scrape | goal slowest ≤ {GOAL_MS:.0f} ms: {verdict}",
              flush=True)
    finally:
        cleanup()


if __name__ == "__main__":
    main()
