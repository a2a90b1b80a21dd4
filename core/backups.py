"""Backups of the whole database, and putting one back (``manage.py backup`` / ``restore``).

The database is Guild Ops' only state: balances, rosters, pairings, sent reminders and the
outbox (what was sent, what is still to send) are rows. So one consistent copy of the database
is a complete backup, and restoring it never re-sends what had been sent before the copy was
taken: those outbox rows come back ``sent``.

- **PostgreSQL**: ``pg_dump --format=custom`` (one consistent snapshot while everything keeps
  running; compressed). ``pg_dump`` refuses a server of a newer major version, so the client
  is chosen to match the server: ``BACKUP_PG_BIN_DIR`` when set, else Debian's
  ``/usr/lib/postgresql/<server major>/bin``, else the ``PATH``; a client too old is refused
  with the package to install. The password reaches the client through the environment
  (``PGPASSWORD``), never on a command line other users can read.
- **SQLite** (the embedded default): SQLite's online backup API, a consistent copy taken while
  the web server and the worker keep writing.

Files are named ``guildops-YYYYMMDDTHHMMSSZ.dump`` / ``.sqlite3`` (UTC) in ``BACKUP_DIR``,
written under a temporary name and renamed when complete, so a crash never leaves a
half-written file that looks like a backup. After each backup the folder is rotated: the newest
backup of each of the last ``BACKUP_KEEP_DAILY`` days that have one, and of each of the last
``BACKUP_KEEP_WEEKLY`` ISO weeks, are kept; older ones are deleted. Files not named like ours
are never touched.

Restoring replaces the whole database in one transaction (PostgreSQL: ``pg_restore`` turns the
dump into SQL that ``psql --single-transaction`` runs after dropping the current tables; SQLite:
the backup API copies the file back over the live database), so a failed restore leaves the
database as it was. It refuses a database that holds data unless ``force`` is given.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from core.errors import DomainError
from core.reports import RunReport

NAME_RE = re.compile(r"^guildops-(?P<stamp>\d{8}T\d{6}Z)\.(?P<ext>dump|sqlite3)$")
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
EXTENSIONS = {"postgresql": "dump", "sqlite": "sqlite3"}
PG_MAGIC = b"PGDMP"
SQLITE_MAGIC = b"SQLite format 3\x00"
# Our apps' tables (and the logins) decide whether a database "holds data": a freshly migrated
# database already has rows in Django's own tables (migrations, content types, permissions,
# the officer groups, Celery beat's schedule) and in the reference tables the migrations fill
# (guildsync/reference_data.py), and still counts as empty. The restore drill restores into a
# freshly migrated database, so it fails when a new migration fills a table not listed here.
DATA_APPS = ("core", "bot", "guildsync", "raids", "ark", "ratmas", "economy", "auth")
DATA_MODELS_SKIPPED = {
    "auth.group", "auth.permission", "auth.group_permissions",
    "guildsync.role", "guildsync.wowclass", "guildsync.specialization", "guildsync.guildrank",
    "guildsync.guildrankrole", "guildsync.notepattern", "guildsync.synclock",
}
TOOL_TIMEOUT = 6 * 3600


class BackupError(DomainError):
    """A backup or restore could not be made; the message says why and what to do."""


@dataclasses.dataclass
class BackupReport(RunReport):
    path: str = ""
    engine: str = ""
    size_bytes: int = 0  # the new backup file's size
    seconds: float = 0.0
    deleted: list[str] = dataclasses.field(default_factory=list)  # older backups the rotation removed
    kept: int = 0  # backups left in the folder, the new one included

    def __str__(self) -> str:
        mb = self.size_bytes / 1_000_000
        return (f"backup {self.path} ({self.engine}, {mb:.1f} MB, {self.seconds:.1f} s); "
                f"rotation kept {self.kept}, deleted {len(self.deleted)}")


# --- Where and what ---------------------------------------------------------------------------


def backup_dir(output: str | os.PathLike | None = None) -> Path:
    return Path(output) if output else Path(settings.BACKUP_DIR)


def engine(alias: str = DEFAULT_DB_ALIAS) -> str:
    vendor = connections[alias].vendor
    if vendor not in EXTENSIONS:
        raise BackupError(f"Backups support PostgreSQL and SQLite, not {vendor}.")
    return vendor


def backup_files(directory: Path) -> list[tuple[dt.datetime, Path]]:
    """Our backups in ``directory`` with their times (from their names), newest first."""
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        match = NAME_RE.match(path.name)
        if match and path.is_file():
            stamp = dt.datetime.strptime(match["stamp"], STAMP_FORMAT).replace(tzinfo=dt.UTC)
            found.append((stamp, path))
    return sorted(found, key=lambda item: (item[0], item[1].name), reverse=True)


def backups_to_keep(stamps: list[dt.datetime], keep_daily: int, keep_weekly: int) -> set[dt.datetime]:
    """Grandfather-father rotation: the newest backup of each of the ``keep_daily`` most recent
    days that have one, and of each of the ``keep_weekly`` most recent ISO weeks. The newest
    backup is always kept."""
    newest_first = sorted(stamps, reverse=True)
    keep: set[dt.datetime] = set(newest_first[:1])
    days: set[dt.date] = set()
    weeks: set[tuple[int, int]] = set()
    for stamp in newest_first:
        day, week = stamp.date(), stamp.isocalendar()[:2]
        if day not in days and len(days) < keep_daily:
            days.add(day)
            keep.add(stamp)
        if week not in weeks and len(weeks) < keep_weekly:
            weeks.add(week)
            keep.add(stamp)
    return keep


def rotate(directory: Path, keep_daily: int | None = None, keep_weekly: int | None = None) -> tuple[int, list[str]]:
    """Delete the backups the rotation no longer keeps; returns (kept, deleted names)."""
    daily = settings.BACKUP_KEEP_DAILY if keep_daily is None else keep_daily
    weekly = settings.BACKUP_KEEP_WEEKLY if keep_weekly is None else keep_weekly
    files = backup_files(directory)
    keep = backups_to_keep([stamp for stamp, _ in files], daily, weekly)
    deleted = []
    for stamp, path in files:
        if stamp not in keep:
            path.unlink(missing_ok=True)
            deleted.append(path.name)
    return len(files) - len(deleted), sorted(deleted)


# --- PostgreSQL clients -----------------------------------------------------------------------


def _pg_env(alias: str = DEFAULT_DB_ALIAS) -> dict[str, str]:
    """libpq's environment for the database ``alias`` (the password never on a command line)."""
    conf = connections[alias].settings_dict
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    values = {"PGDATABASE": conf.get("NAME"), "PGUSER": conf.get("USER"), "PGPASSWORD": conf.get("PASSWORD"),
              "PGHOST": conf.get("HOST"), "PGPORT": conf.get("PORT")}
    options = conf.get("OPTIONS") or {}
    for option, variable in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT"),
                             ("sslcert", "PGSSLCERT"), ("sslkey", "PGSSLKEY"), ("options", "PGOPTIONS")):
        values[variable] = options.get(option)
    env.update({k: str(v) for k, v in values.items() if v not in (None, "")})
    env["PGAPPNAME"] = "guildops-backup"
    return env


def _server_major(alias: str = DEFAULT_DB_ALIAS) -> int:
    connection = connections[alias]
    connection.ensure_connection()
    return connection.pg_version // 10000


def _client_major(binary: str) -> int | None:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30).stdout
    except OSError:
        return None
    match = re.search(r"\(PostgreSQL\)\s+(\d+)", out)
    return int(match[1]) if match else None


def pg_tool(name: str, server_major: int) -> str:
    """The ``pg_dump`` / ``pg_restore`` / ``psql`` able to talk to a server of ``server_major``:
    ``BACKUP_PG_BIN_DIR``, else Debian's versioned folder, else the PATH; never an older major
    (``pg_dump`` refuses a newer server, and an old ``pg_restore`` cannot read a newer dump)."""
    candidates = []
    if settings.BACKUP_PG_BIN_DIR:
        candidates.append(str(Path(settings.BACKUP_PG_BIN_DIR) / name))
    else:
        candidates.append(f"/usr/lib/postgresql/{server_major}/bin/{name}")
        if found := shutil.which(name):
            candidates.append(found)
    seen = []
    for candidate in candidates:
        if not os.access(candidate, os.X_OK):
            continue
        major = _client_major(candidate)
        seen.append(f"{candidate} is version {major}")
        if major is not None and major >= server_major:
            return candidate
    where = "; ".join(seen) if seen else f"no {name} found" + (
        f" in BACKUP_PG_BIN_DIR={settings.BACKUP_PG_BIN_DIR}" if settings.BACKUP_PG_BIN_DIR else " on this machine")
    raise BackupError(
        f"The database is PostgreSQL {server_major} and {name} must be version {server_major} or newer ({where}). "
        f"Install the PostgreSQL {server_major} client (Debian: postgresql-client-{server_major}) "
        f"or point BACKUP_PG_BIN_DIR at its bin folder.")


def _run_tool(args: list[str], env: dict[str, str], *, what: str) -> None:
    try:
        result = subprocess.run(args, env=env, capture_output=True, timeout=TOOL_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise BackupError(f"{what} took longer than {TOOL_TIMEOUT // 3600} hours and was stopped.") from None
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip()[-2000:]
        raise BackupError(f"{what} failed: {message or f'exit code {result.returncode}'}")


# --- Backup -----------------------------------------------------------------------------------


def _target(directory: Path, kind: str, now: dt.datetime) -> Path:
    """A name no other backup has: two runs in the same second take the next free second."""
    stamp = now.astimezone(dt.UTC).replace(microsecond=0)
    while True:
        path = directory / f"guildops-{stamp.strftime(STAMP_FORMAT)}.{EXTENSIONS[kind]}"
        try:
            with open(path, "xb"):  # claims the name atomically; the finished backup replaces it
                return path
        except FileExistsError:
            stamp += dt.timedelta(seconds=1)


def create_backup(output: str | os.PathLike | None = None, *, now: dt.datetime | None = None,
                  rotate_after: bool = True, alias: str = DEFAULT_DB_ALIAS) -> BackupReport:
    """Back the database up into ``output`` (default ``BACKUP_DIR``) and rotate that folder."""
    started = timezone.now()
    kind = engine(alias)
    directory = backup_dir(output)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"Cannot create the backup folder {directory}: {exc.strerror}.") from None
    path = _target(directory, kind, now or started)
    partial = path.with_name(f".{path.name}.partial")
    try:
        if kind == "postgresql":
            tool = pg_tool("pg_dump", _server_major(alias))
            _run_tool([tool, "--format=custom", "--no-password", f"--file={partial}"], _pg_env(alias),
                      what="pg_dump")
        else:
            _sqlite_copy_out(alias, partial)
        os.chmod(partial, 0o600)  # member data: readable by the owner only
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        path.unlink(missing_ok=True)
        raise
    report = BackupReport(path=str(path), engine=kind, size_bytes=path.stat().st_size,
                          seconds=round((timezone.now() - started).total_seconds(), 2))
    if rotate_after:
        report.kept, report.deleted = rotate(directory)
    return report


def _sqlite_copy_out(alias: str, destination: Path) -> None:
    connection = connections[alias]
    connection.ensure_connection()
    target = sqlite3.connect(destination)
    try:
        connection.connection.backup(target)
    finally:
        target.close()


# --- Restore ----------------------------------------------------------------------------------


def backup_kind(path: Path) -> str:
    """"postgresql" or "sqlite" from the file's first bytes; a clear error for anything else."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        raise BackupError(f"{path} does not exist.") from None
    except OSError as exc:
        raise BackupError(f"Cannot read {path}: {exc.strerror}.") from None
    if head.startswith(PG_MAGIC):
        return "postgresql"
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    raise BackupError(f"{path} is not a Guild Ops backup (neither a pg_dump custom-format file nor an SQLite database).")


def rows_held(alias: str = DEFAULT_DB_ALIAS) -> dict[str, int]:
    """Tables of our apps (and the logins) that hold rows: what ``restore`` would overwrite.
    An unmigrated database, or one just migrated, holds none."""
    from django.apps import apps

    connection = connections[alias]
    existing = set(connection.introspection.table_names())
    held = {}
    with connection.cursor() as cursor:
        for model in apps.get_models(include_auto_created=True):
            if model._meta.app_label not in DATA_APPS or model._meta.label_lower in DATA_MODELS_SKIPPED:
                continue
            table = model._meta.db_table
            if table not in existing or not model._meta.managed:
                continue
            cursor.execute(f"SELECT 1 FROM {connection.ops.quote_name(table)} LIMIT 1")  # noqa: S608 (a model table)
            if cursor.fetchone():
                held[table] = 1
    return held


def restore_backup(path: str | os.PathLike, *, force: bool = False, alias: str = DEFAULT_DB_ALIAS) -> str:
    """Replace the database by the backup at ``path``; refuses a database holding data unless
    ``force``. Returns a sentence saying what was restored."""
    source = Path(path)
    kind = backup_kind(source)
    target = engine(alias)
    if kind != target:
        raise BackupError(f"{source.name} is a {kind} backup; this Guild Ops uses {target}. "
                          "Restore it into the kind of database it was taken from.")
    held = rows_held(alias)
    if held and not force:
        tables = ", ".join(sorted(held)[:5]) + (" …" if len(held) > 5 else "")
        raise BackupError(f"The database already holds data ({tables}). Restoring replaces all of it: "
                          "stop the other processes, then run restore again with --force.")
    if kind == "postgresql":
        _restore_postgresql(source, alias)
    else:
        _restore_sqlite(source, alias)
    return f"restored {source.name} ({kind}) into {connections[alias].settings_dict.get('NAME')}"


# The statements that empty the current schema before the dump is loaded: its views, tables,
# sequences and functions (the economy's transfer function, triggers' functions), not those an
# extension owns. Objects a newer migration made would otherwise survive beside the restored ones.
DROP_EVERYTHING_SQL = """
WITH schema AS (SELECT oid, nspname FROM pg_namespace WHERE nspname = current_schema()),
extension_owned AS (SELECT objid FROM pg_depend WHERE deptype = 'e')
SELECT format('DROP VIEW IF EXISTS %I.%I CASCADE;', s.nspname, c.relname) FROM pg_class c JOIN schema s
  ON c.relnamespace = s.oid WHERE c.relkind IN ('v', 'm') AND c.oid NOT IN (SELECT objid FROM extension_owned)
UNION ALL
SELECT format('DROP TABLE IF EXISTS %I.%I CASCADE;', s.nspname, c.relname) FROM pg_class c JOIN schema s
  ON c.relnamespace = s.oid WHERE c.relkind IN ('r', 'p') AND c.oid NOT IN (SELECT objid FROM extension_owned)
UNION ALL
SELECT format('DROP SEQUENCE IF EXISTS %I.%I CASCADE;', s.nspname, c.relname) FROM pg_class c JOIN schema s
  ON c.relnamespace = s.oid WHERE c.relkind = 'S' AND c.oid NOT IN (SELECT objid FROM extension_owned)
UNION ALL
SELECT format('DROP ROUTINE IF EXISTS %I.%I(%s) CASCADE;', s.nspname, p.proname, pg_get_function_identity_arguments(p.oid))
  FROM pg_proc p JOIN schema s ON p.pronamespace = s.oid WHERE p.oid NOT IN (SELECT objid FROM extension_owned)
"""


def _restore_postgresql(source: Path, alias: str) -> None:
    connection = connections[alias]
    major = _server_major(alias)
    pg_restore, psql = pg_tool("pg_restore", major), pg_tool("psql", major)
    env = _pg_env(alias)
    listing = subprocess.run([pg_restore, "--list", str(source)], capture_output=True, text=True, env=env,
                             timeout=600)
    if listing.returncode != 0:
        raise BackupError(f"pg_restore cannot read {source.name}, nothing was changed: {listing.stderr.strip()[-500:]}")
    if " TABLE " not in listing.stdout or "django_migrations" not in listing.stdout:
        raise BackupError(f"{source.name} is a PostgreSQL dump but not of a Guild Ops database (no django_migrations).")
    connection.close()  # our own session must not hold locks on the tables being dropped
    with connection.cursor() as cursor:
        cursor.execute(DROP_EVERYTHING_SQL)
        drops = [row[0] for row in cursor.fetchall()]
    connection.close()
    # One transaction for the drops and the whole dump (pg_restore's SQL streamed into
    # ``psql --single-transaction``): if anything fails, nothing changed. psql commits only when
    # its input ends normally, so a pg_restore that fails midway is answered by killing psql
    # before the end of its input, which rolls everything back. A lock wait means another
    # process still uses the database: give up after 30 s with a message.
    prologue = ("SET lock_timeout = '30s';\nSET client_min_messages = warning;\n" + "\n".join(drops) + "\n").encode()
    with tempfile.TemporaryFile() as restore_errors, tempfile.TemporaryFile() as psql_errors:
        psql_proc = subprocess.Popen(
            [psql, "--no-psqlrc", "--quiet", "--single-transaction", "--set=ON_ERROR_STOP=1", "--no-password",
             "--file=-"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=psql_errors, env=env)
        restore_proc = subprocess.Popen([pg_restore, "--no-owner", "--no-privileges", "--clean", "--if-exists",
                                         "--file=-", str(source)],
                                        stdout=subprocess.PIPE, stderr=restore_errors, env=env)
        psql_stopped = False
        try:
            psql_proc.stdin.write(prologue)
            shutil.copyfileobj(restore_proc.stdout, psql_proc.stdin, 1 << 20)
        except BrokenPipeError:
            psql_stopped = True  # psql stopped on an error: its message follows
        finally:
            restore_proc.stdout.close()
            restore_code = restore_proc.wait(timeout=TOOL_TIMEOUT)
        if restore_code != 0 and not psql_stopped:
            psql_proc.kill()
            psql_proc.wait()
            restore_errors.seek(0)
            message = restore_errors.read().decode(errors="replace").strip()[-2000:]
            raise BackupError(f"pg_restore failed, nothing was changed: {message}")
        with contextlib.suppress(BrokenPipeError):  # psql already stopped on an error
            psql_proc.stdin.close()
        psql_code = psql_proc.wait(timeout=TOOL_TIMEOUT)
        psql_errors.seek(0)
        message = psql_errors.read().decode(errors="replace").strip()[-2000:]
    connection.close()
    if psql_code != 0:
        if "lock timeout" in message:
            message = ("another process is using the database (waited 30 s for its locks): stop the web, "
                       "worker, beat and bot processes, then restore again")
        raise BackupError(f"Restoring into PostgreSQL failed, nothing was changed: {message}")


def _restore_sqlite(source: Path, alias: str) -> None:
    check = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        tables = {row[0] for row in check.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "django_migrations" not in tables:
            raise BackupError(f"{source.name} is an SQLite database but not of Guild Ops (no django_migrations).")
        connection = connections[alias]
        connection.close()
        connection.ensure_connection()
        check.backup(connection.connection)  # replaces every page of the live database atomically
    except sqlite3.Error as exc:
        raise BackupError(f"Restoring {source.name} failed: {exc}.") from None
    finally:
        check.close()
        connections[alias].close()


def pending_migrations(alias: str = DEFAULT_DB_ALIAS) -> int:
    """Migrations of this code the restored database has not had (an older backup): run migrate."""
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connections[alias])
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))
