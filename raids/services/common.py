"""What every raids service shares: the domain error, the attendance value aliases, whether
Raid-Helper is configured (and its client), and the two Raid-Helper event helpers both booking
and the later push use (find an event a lost create made; announce a posted one)."""

from __future__ import annotations

import datetime as dt
import logging

from bot import outbox
from core.errors import DomainError
from core.secrets import get_secret
from raids.clients import EVENT_URL, CreatedEvent, RaidHelperClient
from raids.models import RaidAttendance, RaidHelperSettings, RaidSeason

log = logging.getLogger(__name__)


MAX_SIGNUP_ATTEMPTS = 5
ANNOUNCEMENT = "📅 Next week's raid has been posted! Sign up here: {url}"
EVENT_DESCRIPTION = "Auto-scheduled raid. Sign up below!"
FALLBACK_TEMPLATE = "wowretail2"
NOT_CONFIGURED_SKIP = "Raid-Helper not configured when booked"
Status = RaidAttendance.Status
Source = RaidAttendance.Source
Push = RaidAttendance.SignupPush
AttendedSource = RaidAttendance.AttendedSource


class RaidsError(DomainError):
    """A raids rule was broken; the message is shown to the officer as is."""


# -- configuration -------------------------------------------------------------------------
def is_configured(config: RaidHelperSettings | None = None) -> bool:
    """"Configured" = an API key (environment, else the admin's encrypted setting, read now)
    and a server id in the settings."""
    config = config or RaidHelperSettings.load()
    return bool(get_secret("RAID_HELPER_API_KEY") and config.server_id)


def get_client(config: RaidHelperSettings | None = None) -> RaidHelperClient:
    config = config or RaidHelperSettings.load()
    return RaidHelperClient(server_id=config.server_id, timezone=config.timezone)


def current_season(today: dt.date) -> RaidSeason | None:
    return RaidSeason.objects.current(today)


def _find_posted_event(client: RaidHelperClient, title: str, start: dt.datetime) -> CreatedEvent | None:
    """An event with this title and start already on the server: a create whose answer was lost."""
    for posted in client.list_server_events(start_after=start - dt.timedelta(minutes=1)):
        try:
            same_start = int(posted.get("startTime")) == int(start.timestamp())
        except (TypeError, ValueError):
            continue
        if same_start and posted.get("title") == title and posted.get("id"):
            event_id = str(posted["id"])
            return CreatedEvent(id=event_id, url=EVENT_URL.format(id=event_id), payload=posted)
    return None

def _announce(config: RaidHelperSettings, created: CreatedEvent) -> None:
    """Queue "next week's raid has been posted" for a Raid-Helper event (caller's transaction)."""
    if config.raid_channel_id:
        outbox.post_message(config.raid_channel_id, content=ANNOUNCEMENT.format(url=created.url),
                            dedupe_key=f"raids.announce:{created.id}", topic="raids.announcement")
    else:
        log.warning("Auto-booking: no raid channel configured, announcement skipped")
