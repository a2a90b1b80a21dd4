"""``manage.py privacy_seal [--reverse]``: encrypt the member texts written before a key was set."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core.privacy import sealed


class Command(BaseCommand):
    help = ("Encrypt at rest (FIELD_ENCRYPTION_KEY) the Secret Santa wishlists, relay texts and secret DM payloads "
            "that are still stored as plain text, e.g. after setting the key on a server that ran without one. "
            "--reverse decrypts them all again (before removing the key). Safe to run again: it only touches rows "
            "that need it.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--reverse", action="store_true", help="Decrypt instead of encrypting.")

    def handle(self, *args, reverse: bool = False, **options) -> None:
        if not sealed.enabled():
            raise CommandError("FIELD_ENCRYPTION_KEY is not set: nothing can be encrypted, and member texts are "
                               "stored as plain text. Set it (README, 'Settings') and run this again.")
        verb = "decrypted" if reverse else "encrypted"
        for column, rows in sealed.seal_everything(reverse=reverse).items():
            self.stdout.write(f"{column}: {rows} row(s) {verb}")
