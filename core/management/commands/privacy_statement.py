"""``manage.py privacy_statement [--write]``: the registry's part of docs/PRIVACY.md."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from core.privacy import statement


class Command(BaseCommand):
    help = "Print (or --write into docs/PRIVACY.md) what the privacy registry says each app stores and keeps."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--write", action="store_true", help="Rewrite the generated part of docs/PRIVACY.md.")

    def handle(self, *args, write: bool = False, **options) -> None:
        if write:
            statement.write()
            self.stdout.write(f"updated {statement.DOCUMENT}")
        else:
            self.stdout.write(statement.render())
