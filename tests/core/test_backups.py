"""Backups and restores (core/backups.py, ``manage.py backup`` / ``restore``), the restore drill
on PostgreSQL, and a fresh checkout's commands on the embedded defaults.

The commands run as processes, as an operator (or the compose ``backup`` service) runs them.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection, transaction

from bot import outbox
from bot.models import OutboxMessage
from core import backups
from core.tasks import backup_task
from economy import services as economy
from guildsync.services.reference import load_reference_data

ROOT = Path(__file__).resolve().parents[2]
UTC = dt.UTC


def manage(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    """``manage.py ARGS`` in a process of its own, with ``env`` over a clean environment."""
    base = {k: v for k, v in os.environ.items()
            if k not in ("DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL", "REDIS_URL",
                         "GUILDOPS_VAR_DIR")}
    base.update(DEBUG="1", SECRET_KEY="backup-tests-secret", DJANGO_SETTINGS_MODULE="config.settings", **env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=base, capture_output=True, text=True,
                          timeout=timeout)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- Rotation -----------------------------------------------------------------------------------


def test_rotation_keeps_the_newest_of_each_recent_day_and_week():
    # two backups a day for 60 days, newest 2026-12-06 (a Sunday) 15:00
    stamps = [at("2026-12-06T15:00") - dt.timedelta(hours=12 * i) for i in range(120)]
    keep = backups.backups_to_keep(stamps, keep_daily=7, keep_weekly=4)
    days = sorted({s.date() for s in keep}, reverse=True)
    # the last 7 days: one each, the newest of that day
    assert sorted(keep, reverse=True)[:7] == [at(f"2026-12-0{d}T15:00") for d in (6, 5, 4, 3, 2, 1)] + [
        at("2026-11-30T15:00")]
    # the 4 most recent ISO weeks: the newest of each (the current week's is already among the days)
    weeks = {s.isocalendar()[:2] for s in keep}
    assert weeks == {(2026, 49), (2026, 48), (2026, 47), (2026, 46)}
    assert at("2026-11-29T15:00") in keep and at("2026-11-22T15:00") in keep and at("2026-11-15T15:00") in keep
    assert len(keep) == 7 + 3 and len(days) == 10
    assert max(stamps) in keep


def test_rotation_keeps_the_newest_even_with_nothing_else_asked():
    stamps = [at("2026-12-06T03:15"), at("2026-12-06T02:15"), at("2026-12-05T03:15")]
    assert backups.backups_to_keep(stamps, keep_daily=1, keep_weekly=0) == {at("2026-12-06T03:15")}
    assert backups.backups_to_keep([], keep_daily=7, keep_weekly=4) == set()


def test_rotate_deletes_only_our_old_backups(tmp_path):
    names = [f"guildops-202612{d:02d}T031500Z.dump" for d in range(1, 7)] + [
        "guildops-20261206T021500Z.sqlite3", "my-notes.txt", "guildops-manual.dump", ".guildops-x.dump.partial"]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    kept, deleted = backups.rotate(tmp_path, keep_daily=3, keep_weekly=0)
    assert deleted == [f"guildops-202612{d:02d}T031500Z.dump" for d in (1, 2, 3)] + [
        "guildops-20261206T021500Z.sqlite3"]  # the same day's earlier backup
    assert kept == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [".guildops-x.dump.partial", "guildops-manual.dump", "my-notes.txt"]
        + [f"guildops-202612{d:02d}T031500Z.dump" for d in (4, 5, 6)])


# --- A fresh checkout on the embedded defaults (SQLite, filesystem broker) ------------------------


@pytest.mark.slow
def test_fresh_checkout_seeds_backs_up_and_restores_on_sqlite(tmp_path):
    """No run command, no var/ folder: migrate and seed_demo work (the broker's folders are made by
    the project; a queued task lands in them), then a backup of the live SQLite file restores
    into another fresh setup with every table equal; restore refuses a database holding data."""
    var = tmp_path / "var"
    env = {"GUILDOPS_VAR_DIR": str(var)}
    for command in (["migrate", "--noinput", "-v0"], ["seed_demo"]):
        result = manage(*command, env=env)
        assert result.returncode == 0, result.stderr[-3000:]
        assert "FileNotFoundError" not in result.stderr
    assert (var / "broker" / "control").is_dir()
    assert list((var / "broker" / "queue").glob("*.msg")), "seed_demo queues delivery kicks into the broker"

    result = manage("backup", "--output", str(tmp_path / "backups"), env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    [made] = list((tmp_path / "backups").iterdir())
    assert re.fullmatch(r"guildops-\d{8}T\d{6}Z\.sqlite3", made.name) and made.stat().st_mode & 0o077 == 0

    refused = manage("restore", str(made), env=env)
    assert refused.returncode != 0 and "already holds data" in refused.stderr

    other = {"GUILDOPS_VAR_DIR": str(tmp_path / "other")}
    restored = manage("restore", str(made), env=other)
    assert restored.returncode == 0, restored.stderr[-3000:]
    assert sqlite_snapshot(var / "guildops.sqlite3") == sqlite_snapshot(tmp_path / "other" / "guildops.sqlite3")


def sqlite_snapshot(path: Path) -> dict[str, tuple[int, int]]:
    db = sqlite3.connect(path)
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
        return {t: (db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0],
                    hash(tuple(sorted(map(repr, db.execute(f'SELECT * FROM "{t}"').fetchall()))))) for t in tables}
    finally:
        db.close()


# --- Refusals -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_restore_refuses_what_is_not_a_backup(tmp_path):
    junk = tmp_path / "guildops-20261206T031500Z.dump"
    junk.write_text("SELECT 1;")
    with pytest.raises(backups.BackupError, match="not a Guild Ops backup"):
        backups.restore_backup(junk)
    with pytest.raises(backups.BackupError, match="does not exist"):
        backups.restore_backup(tmp_path / "missing.dump")
    other_kind = tmp_path / "guildops-20261206T031500Z.sqlite3"
    sqlite3.connect(other_kind).execute("CREATE TABLE django_migrations (id integer)")
    with pytest.raises(backups.BackupError, match="is a sqlite backup; this Guild Ops uses postgresql"):
        backups.restore_backup(other_kind)


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_pg_dump_older_than_the_server_is_refused_with_what_to_install(tmp_path, settings):
    old = tmp_path / "pg_dump"
    old.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 13.16'\n")
    old.chmod(0o755)
    settings.BACKUP_PG_BIN_DIR = str(tmp_path)
    major = connection.pg_version // 10000
    with pytest.raises(backups.BackupError, match=rf"PostgreSQL {major} .*version 13.*postgresql-client-{major}"):
        backups.create_backup(tmp_path / "out")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())  # nothing half-written


@pytest.mark.django_db
def test_the_beat_task_backs_up_unless_another_process_does(tmp_path, settings):
    settings.BACKUP_DIR = tmp_path
    settings.BACKUP_BY_BEAT = False
    assert backup_task().startswith("skipped") and not list(tmp_path.iterdir())
    settings.BACKUP_BY_BEAT = True
    assert "rotation kept 1" in backup_task()
    assert len(backups.backup_files(tmp_path)) == 1
    assert settings.CELERY_BEAT_SCHEDULE["core: database backup"]["task"] == "core.tasks.backup_task"


# --- The restore drill on PostgreSQL ---------------------------------------------------------------

DM_USER = 777_000_000_000_000_123


def pg_snapshot(cursor) -> dict[str, tuple[int, str]]:
    """Every table's row count and a checksum of all its rows (order-independent)."""
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")
    tables = [row[0] for row in cursor.fetchall()]
    snapshot = {}
    for table in tables:
        cursor.execute(f'SELECT count(*), md5(coalesce(string_agg(md5(t::text), \'\' ORDER BY md5(t::text)), \'\')) '
                       f'FROM "{table}" t')
        snapshot[table] = tuple(cursor.fetchone())
    return snapshot


@pytest.fixture
def drill_database():
    """An empty database on the same PostgreSQL server (a fresh server's database), dropped after."""
    if connection.vendor != "postgresql":
        pytest.skip("the restore drill runs on PostgreSQL")
    conf = connection.settings_dict
    name = f"{conf['NAME']}_drill"
    conninfo = {"host": conf["HOST"] or None, "port": conf["PORT"] or None, "user": conf["USER"] or None,
                "password": conf["PASSWORD"] or None}
    with psycopg.connect(dbname="postgres", autocommit=True, **conninfo) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = (f"postgres://{conf['USER']}:{conf['PASSWORD'] or ''}@{conf['HOST'] or '127.0.0.1'}:{conf['PORT']}/{name}")
    yield url, lambda: psycopg.connect(dbname=name, **conninfo)
    with psycopg.connect(dbname="postgres", autocommit=True, **conninfo) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_restore_drill(tmp_path, fake_discord, deliver_outbox, drill_database):
    """Demo data plus activity → backup → an empty (freshly migrated) database → restore: every
    table's row count and checksum equal; delivery after the restore sends what was pending at
    the backup exactly once and nothing that had been sent before it."""
    url, connect_drill = drill_database
    load_reference_data()  # a transactional test before this one (same worker) flushed the migrations' reference data
    call_command("seed_demo", stdout=io.StringIO())
    guild = 900_000_000_000_000_001
    economy.transfer(guild, 900_100_000_000_000_001, "alice", 900_100_000_000_000_002, "bob", 5, "drill")
    with transaction.atomic():
        outbox.send_dm(DM_USER, content="sent before the backup", dedupe_key="drill:sent")
    deliver_outbox()
    with transaction.atomic():
        pending = outbox.send_dm(DM_USER, content="queued before the backup", dedupe_key="drill:pending")
    sent_before = set(OutboxMessage.objects.filter(status=OutboxMessage.Status.SENT).values_list("pk", flat=True))
    due_before = set(OutboxMessage.objects.filter(status__in=["pending", "sending"]).values_list("pk", flat=True))
    assert sent_before and pending.pk in due_before
    creates_before = len(fake_discord.calls("POST", r"/channels/\d+/messages"))

    made = backups.create_backup(tmp_path)
    with connection.cursor() as cursor:
        before = pg_snapshot(cursor)
    assert len(before) > 40 and before["economy_bytestransaction"][0] > 0

    env = {"DATABASE_URL": url, "GUILDOPS_VAR_DIR": str(tmp_path / "var"), "REDIS_URL": os.environ.get("REDIS_URL", "")}
    migrated = manage("migrate", "--noinput", "-v0", env=env)  # what the compose `migrate` service leaves
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    restored = manage("restore", made.path, env=env)
    assert restored.returncode == 0, restored.stderr[-3000:]
    assert "restored guildops-" in restored.stdout and "migrate" not in restored.stdout

    with connect_drill() as drill, drill.cursor() as cursor:
        after = pg_snapshot(cursor)
    assert after == before

    again = manage("restore", made.path, env=env)
    assert again.returncode != 0 and "already holds data" in again.stderr and "--force" in again.stderr
    # a damaged backup (cut short; garbled in the middle of its data, so that pg_restore fails
    # part-way through the load) changes nothing: the restore is one transaction
    data = Path(made.path).read_bytes()
    middle = len(data) // 2
    for damage in (data[: len(data) * 2 // 3], data[:middle] + bytes(4096) + data[middle + 4096:]):
        damaged = tmp_path / "guildops-20200101T000000Z.dump"
        damaged.write_bytes(damage)
        broken = manage("restore", "--force", str(damaged), env=env)
        assert broken.returncode != 0 and "nothing was changed" in broken.stderr, broken.stderr[-2000:]
        with connect_drill() as drill, drill.cursor() as cursor:
            assert pg_snapshot(cursor) == before

    # delivery against the restored database, as the delivery worker would run it
    deliver = ("import django; django.setup(); from bot.delivery import deliver_due; "
               "from economy import services as e; "
               f"e.transfer({guild}, 900100000000000002, 'bob', 900100000000000001, 'alice', 1, 'after restore'); "
               "print(deliver_due().sent, deliver_due().sent)")
    env.update(DISCORD_API_BASE=fake_discord.base_url, DISCORD_TOKEN=fake_discord.token)
    ran = subprocess.run([sys.executable, "-c", deliver], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={**{k: v for k, v in os.environ.items() if k != "DATABASE_URL"}, **env,
                              "DJANGO_SETTINGS_MODULE": "config.settings"})
    assert ran.returncode == 0, ran.stderr[-3000:]
    posted_after = fake_discord.calls("POST", r"/channels/\d+/messages")[creates_before:]
    nonces = [int(call.json["nonce"].removeprefix("gops-")) for call in posted_after]
    assert len(nonces) == len(set(nonces)), "a message was posted twice"
    assert not set(nonces) & sent_before, "a message sent before the backup was sent again"
    assert pending.pk in nonces and set(nonces) <= due_before
    first, second = ran.stdout.split()
    assert int(first) == len(nonces) and int(second) == 0
