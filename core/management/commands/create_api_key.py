from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from core.models import Scope
from core.services import create_api_key


class Command(BaseCommand):
    help = ("Create an API key for a machine client with its scopes (--scope read/write/upload, "
            "repeatable). The key is printed once and stored hashed.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="Who uses the key, e.g. 'addon companion (Thrall's PC)'.")
        parser.add_argument("--scope", action="append", dest="scopes", choices=Scope.values, default=[],
                            help="read: GET the API; write: link/unlink, run matching, trigger syncs; "
                                 "upload: upload addon files. Repeat for several; at least one.")

    def handle(self, *args, name: str, scopes: list[str], **options) -> None:
        try:
            api_key, key = create_api_key(name, scopes)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"API key '{api_key.name}' (prefix {api_key.prefix}, scopes {', '.join(api_key.scopes.names())}) "
                          "created. Store it now, it is not shown again:")
        self.stdout.write(key)
