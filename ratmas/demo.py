"""Demo data: a Ratmas with 12 participants and one exclusion, sign-ups locked so the
organisers can try the draw (idempotent)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from core.demo import DEMO_SERVER_ID, name_demo_ids
from ratmas import services

DEMO_GUILD_ID = DEMO_SERVER_ID
DEMO_CHANNEL_ID = 100_000_000_000_000_043
DEMO_USER_BASE = 100_000_000_000_100_000
NAMES = ["Aelindra", "Borin Ironfist", "Cassia", "Drogath", "Elowen", "Fizzlebang", "Grimtooth", "Hestia",
         "Ilyra Dawnmoon", "Jorik", "Kaelthas Jr", "Lunara"]


def seed_demo(stdout) -> None:
    name_demo_ids(members={DEMO_USER_BASE + i: name for i, name in enumerate(NAMES)},
                  channels={DEMO_CHANNEL_ID: "announcements"})
    guild_id = settings.DISCORD_GUILD_ID or DEMO_GUILD_ID
    event = services.get_active_event(guild_id)
    if event is None:
        now = timezone.now().replace(minute=0, second=0, microsecond=0)
        event = services.create_event(
            guild_id, now + dt.timedelta(days=10), now + dt.timedelta(days=24), now + dt.timedelta(days=28),
            announcement_channel_id=DEMO_CHANNEL_ID, timezone="Europe/Berlin", budget="20 EUR")
    if event.status != event.Status.OPEN:
        stdout.write(f"  ratmas: event {event.pk} is {event.get_status_display().lower()}; left as it is")
        return
    present = set(event.participants.values_list("user_id", flat=True))
    for i, name in enumerate(NAMES):
        user_id = DEMO_USER_BASE + i
        if user_id not in present:
            wishlist = f"https://wishlist.example/{name.split()[0].lower()}" if i % 3 else None
            services.join(event, user_id, name, wishlist)
    # Borin and Hestia are partners: they should not draw each other
    services.add_exclusion(event, DEMO_USER_BASE + 1, DEMO_USER_BASE + 7, both_ways=True)
    event = services.set_status(event, event.Status.LOCKED)  # ready to draw
    stdout.write(f"  ratmas: event {event.pk} ready to draw with {event.participants.count()} participants, "
                 f"{event.exclusions.count()} exclusion")
