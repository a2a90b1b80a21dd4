"""``manage.py ratmas_import FILE``: restore an event written by ``ratmas_export``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ratmas import backup, services


class Command(BaseCommand):
    help = "Restore a Ratmas event from a ratmas_export JSON file (as a new event; '-' reads standard input)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="JSON file written by ratmas_export, or '-'.")

    def handle(self, *args, **options) -> None:
        try:
            raw = sys.stdin.read() if options["file"] == "-" else Path(options["file"]).read_text(encoding="utf-8")
            data = json.loads(raw)
        except (OSError, ValueError) as exc:
            raise CommandError(f"Cannot read {options['file']}: {exc}") from None
        try:
            event = backup.import_event(data)
        except services.RatmasError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(
            f"ratmas_import: event {event.pk} restored ({event.participants.count()} participants, "
            f"{event.pairings.count()} pairings)"))
