"""``manage.py privacy_retention [--dry-run] [--now ISO]``: the retention policy by hand."""

from __future__ import annotations

import datetime as dt
import getpass

from django.core.management.base import BaseCommand, CommandError

from core.privacy import retention


class Command(BaseCommand):
    help = ("Apply the retention policy of every app (docs/PRIVACY.md): settled outbox messages, Secret Santa "
            "texts, moderation texts, members who left, Ark history. --dry-run prints what it would delete and "
            "changes nothing. Each run's report is stored (admin: Retention runs).")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Only print what would be deleted.")
        parser.add_argument("--now", help="Compute the cut-offs from this UTC moment (ISO 8601) instead of now.")

    def handle(self, *args, dry_run: bool = False, now: str | None = None, **options) -> None:
        moment = None
        if now:
            try:
                moment = dt.datetime.fromisoformat(now)
            except ValueError:
                raise CommandError(f"--now {now!r} is not an ISO 8601 date and time.") from None
            moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
        try:
            user = getpass.getuser()
        except Exception:  # no user name in a container
            user = "command"
        record = retention.run(now=moment, dry_run=dry_run, triggered_by=f"manage.py ({user})")
        self.stdout.write(retention.describe(record))
