"""``manage.py backup [--output DIR]``: one backup of the database now, then the rotation."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core import backups


class Command(BaseCommand):
    help = (
        "Back the database up (PostgreSQL: pg_dump custom format; SQLite: the online backup API) into a "
        "timestamped file in --output (default BACKUP_DIR), then delete the backups the rotation no longer keeps "
        "(BACKUP_KEEP_DAILY days, BACKUP_KEEP_WEEKLY weeks)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--output", metavar="DIR", help="Folder for the backup (default: BACKUP_DIR).")
        parser.add_argument("--no-rotate", action="store_true", help="Keep every older backup in the folder.")

    def handle(self, *args, output: str | None = None, no_rotate: bool = False, **options) -> None:
        try:
            report = backups.create_backup(output, rotate_after=not no_rotate)
        except backups.BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(str(report))
        for name in report.deleted:
            self.stdout.write(f"  rotated out: {name}")
