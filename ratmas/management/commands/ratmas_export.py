"""``manage.py ratmas_export --event ID [--output FILE]``: one event as JSON (with pairings)."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ratmas import backup
from ratmas.models import Event


class Command(BaseCommand):
    help = "Export a Ratmas event (event, participants, exclusions, pairings) as JSON. The file is secret."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--event", type=int, required=True, help="Event id.")
        parser.add_argument("--output", help="File to write (default: standard output).")

    def handle(self, *args, **options) -> None:
        try:
            event = Event.objects.get(pk=options["event"])
        except Event.DoesNotExist:
            raise CommandError(f"No Ratmas event with id {options['event']}.") from None
        text = json.dumps(backup.export_event(event), indent=2, ensure_ascii=False)
        if options.get("output"):
            Path(options["output"]).write_text(text + "\n", encoding="utf-8")
            self.stderr.write(f"ratmas_export: event {event.pk} written to {options['output']}")
        else:
            self.stdout.write(text)
