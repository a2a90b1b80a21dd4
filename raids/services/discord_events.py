"""Raid events mirrored as the server's Discord scheduled events (issue 26), when an officer
switched it on (``RaidHelperSettings.discord_events``, the Raid-Helper settings page).

Called by the booking and officer services inside their transaction: the create, edit and
cancel are queued in the outbox with the raid event's change (``bot.outbox.mirror_event`` /
``cancel_event``; the delivery is ``bot.scheduled_events``). A raid event has no "cancelled"
state here: deleting it cancels its scheduled event (CANCELED, so members who were interested
see it called off; deleted instead if it already started). The event is EXTERNAL: its
location is the Raid-Helper sign-up link when there is one, else "World of Warcraft". The
description (and location) are in the server language (``core.i18n.public``), like the
bot's public posts; the name is the raid's title as officers wrote it."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils.translation import gettext as _

from bot import outbox
from core import i18n
from raids.models import RaidEvent, RaidHelperSettings

TOPIC = "raids.scheduled_event"


def source_of(event_id: int) -> str:
    return f"raids.raidevent:{event_id}"


def _guild(config: RaidHelperSettings) -> int | None:
    if config.server_id and config.server_id.isdigit():
        return int(config.server_id)
    return settings.DISCORD_GUILD_ID or None


def mirror_raid_event(event: RaidEvent, now: dt.datetime | None = None) -> None:
    """Create or bring in step the raid event's scheduled event (nothing when switched off,
    without a server id, or once the raid started)."""
    config = RaidHelperSettings.load()
    guild = _guild(config)
    if not config.discord_events or guild is None:
        return
    link = event.raid_helper_url
    with i18n.public():
        times = _("{title}: raid night from {start} to {end}.").format(
            title=event.title, start=outbox.discord_timestamp(event.start_time_utc, "t"),
            end=outbox.discord_timestamp(event.end_time_utc, "t"))
        signups = (_("Sign up on Raid-Helper: {link}").format(link=link) if link
                   else _("See the raid channel for sign-ups."))
        roster = _("/raid roster shows who is coming.")
        outbox.mirror_event(source_of(event.pk), guild_id=guild, name=event.title,
                            description=f"{times} {signups} {roster}", location=link or _("World of Warcraft"),
                            start=event.start_time_utc, end=event.end_time_utc, topic=TOPIC, now=now)


def cancel_raid_events(event_ids: list[int]) -> None:
    """The raid events were deleted: cancel their scheduled events (those that were mirrored)."""
    for event_id in event_ids:
        outbox.cancel_event(source_of(event_id), topic=TOPIC, reason="raid event deleted")
