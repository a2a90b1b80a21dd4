"""``manage.py restore FILE [--force]``: put a backup made by ``manage.py backup`` back."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core import backups


class Command(BaseCommand):
    help = (
        "Replace the whole database by a backup made with `manage.py backup` (one transaction: a failed restore "
        "changes nothing). Refuses a database that already holds data unless --force. Stop the web, worker, "
        "beat and bot processes first."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="A guildops-….dump (PostgreSQL) or guildops-….sqlite3 (SQLite) backup.")
        parser.add_argument("--force", action="store_true",
                            help="Replace a database that holds data (everything in it is lost).")

    def handle(self, *args, file: str, force: bool = False, **options) -> None:
        try:
            summary = backups.restore_backup(file, force=force)
        except backups.BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(summary))
        if pending := backups.pending_migrations():
            self.stdout.write(f"The backup predates {pending} migration(s) of this version: run `manage.py migrate` "
                              "before starting the other processes.")
