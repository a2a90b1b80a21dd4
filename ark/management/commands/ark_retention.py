"""``manage.py ark_retention [--dry-run] [--days N]``: the monthly retention job by hand."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand

from ark import services


class Command(BaseCommand):
    help = (
        "Delete Ark signups, audit rows and reminders older than ARK_RETENTION_DAYS (per-governor "
        "totals are kept). --dry-run prints what would be deleted and changes nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Only print what would be deleted.")
        parser.add_argument("--days", type=int, default=None, help="Override ARK_RETENTION_DAYS for this run.")

    def handle(self, *args, dry_run: bool = False, days: int | None = None, **options) -> None:
        older = dt.timedelta(days=days) if days else None
        if days is not None and days < 30:
            self.stderr.write("Keep at least 30 days.")
            raise SystemExit(2)
        report = services.purge_old_records(older_than=older, dry_run=dry_run)
        self.stdout.write(str(report))
