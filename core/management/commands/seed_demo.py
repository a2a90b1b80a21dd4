from django.core.management.base import BaseCommand

from core.demo import demo_seeders


class Command(BaseCommand):
    help = "Load the demo data of every app (idempotent: running it twice changes nothing)."

    def handle(self, *args, **options) -> None:
        for label, seeder in demo_seeders():
            self.stdout.write(f"seed_demo: {label} ...")
            seeder(self.stdout)
        self.stdout.write(self.style.SUCCESS("seed_demo: done"))
