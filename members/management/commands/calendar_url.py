"""``manage.py calendar_url DISCORD_USER_ID``: print a member's private calendar URL for an officer
to hand over. Only a hash of each token is stored, so this makes a new token (the member's previous
URL, if any, stops working) — say so before running it for someone who already subscribed."""

from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from members import services


class Command(BaseCommand):
    help = "Print a member's private calendar feed URL (makes a new token; an older URL stops working)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("discord_user_id")

    def handle(self, *args, **options) -> None:
        try:
            had = services.token_info(options["discord_user_id"]) is not None
            issued = services.issue_token(options["discord_user_id"], rotate=True)
        except DomainError as exc:
            raise CommandError(str(exc)) from None
        if had:
            self.stderr.write("The member's previous calendar URL no longer works; give them this one.")
        self.stdout.write(issued.url)
