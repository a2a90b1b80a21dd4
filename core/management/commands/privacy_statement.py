"""``manage.py privacy_statement [--write]``: the registry's part of docs/PRIVACY.md."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core import i18n
from core.errors import DomainError
from core.privacy import statement


class Command(BaseCommand):
    help = "Print (or --write into docs/PRIVACY.md) what the privacy registry says each app stores and keeps."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--write", action="store_true", help="Rewrite the generated part of docs/PRIVACY.md.")
        parser.add_argument("--language", default="en",
                            help="Print it in this language (en, de, fr, es, pt-br) for a member who reads it; "
                                 "docs/PRIVACY.md stays English.")

    def handle(self, *args, write: bool = False, language: str = "en", **options) -> None:
        if write:
            statement.write()
            self.stdout.write(f"updated {statement.DOCUMENT}")
        else:
            try:
                code = i18n.check_language(language)
            except DomainError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(statement.render(code))
