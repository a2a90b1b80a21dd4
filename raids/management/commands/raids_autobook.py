import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from raids import services


class Command(BaseCommand):
    help = "Run one auto-booking poll now (as the 5-minute beat task does); --now replays a given moment."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--now", help="ISO 8601 moment to poll as, e.g. 2026-03-03T20:12:00Z (default: now).")

    def handle(self, *args, now: str | None = None, **options) -> None:
        moment = None
        if now:
            moment = parse_datetime(now)
            if moment is None:
                raise CommandError(f"--now {now!r} is not an ISO 8601 date and time.")
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=dt.UTC)
        run = services.check_and_auto_book(moment)
        if not run.configured:
            self.stdout.write("Raid-Helper is not configured (RAID_HELPER_API_KEY and server id): nothing to do.")
            return
        for error in run.errors:
            self.stderr.write(error)
        self.stdout.write(run.summary())
