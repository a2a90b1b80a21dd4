"""Make sure a superuser exists and print how to log in (the README's run command uses it).

The password is ``ADMIN_PASSWORD`` when set; otherwise one is generated on first run and
kept in ``var/admin-password.txt`` (readable by the owner only) so later runs print the same
login. Meant for the embedded single-machine setup, not for production.
"""

import secrets

from django.conf import settings
from django.core.management.base import BaseCommand

from core.services import ensure_superuser


class Command(BaseCommand):
    help = "Create (or reset) the local admin login and print it."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default=settings.ADMIN_USERNAME)

    def handle(self, *args, username: str, **options) -> None:
        password = settings.ADMIN_PASSWORD
        secret_file = settings.VAR_DIR / "admin-password.txt"
        if not password:
            if secret_file.exists():
                password = secret_file.read_text().strip()
            else:
                password = secrets.token_urlsafe(12)
                settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
                secret_file.write_text(password + "\n")
                secret_file.chmod(0o600)
        ensure_superuser(username, password)
        self.stdout.write(self.style.SUCCESS(f"Admin login: {username} / {password}"))
