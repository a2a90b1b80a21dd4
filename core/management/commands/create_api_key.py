from django.core.management.base import BaseCommand, CommandError
from rest_framework_api_key.models import APIKey


class Command(BaseCommand):
    help = "Create an API key for a machine client. The key is printed once and stored hashed."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="Who uses the key, e.g. 'addon companion (Thrall's PC)'.")

    def handle(self, *args, name: str, **options) -> None:
        name = name.strip()
        if not name:
            raise CommandError("Give the key a name that says who uses it.")
        if len(name) > 50:
            raise CommandError("The name is limited to 50 characters.")
        api_key, key = APIKey.objects.create_key(name=name)
        self.stdout.write(f"API key '{api_key.name}' (prefix {api_key.prefix}) created. Store it now, it is not shown again:")
        self.stdout.write(key)
