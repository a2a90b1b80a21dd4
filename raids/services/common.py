"""What every raids service shares: the domain error, the attendance value aliases, whether
Raid-Helper is configured (and its client), and the two Raid-Helper event helpers both booking
and the later push use (find an event a lost create made; announce a posted one)."""

from __future__ import annotations

import datetime as dt
import logging

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from bot import outbox
from core import i18n
from core.deferred_text import Message, render_message
from core.errors import DomainError
from core.secrets import get_secret
from raids.clients import EVENT_URL, CreatedEvent, RaidHelperClient
from raids.models import RaidAttendance, RaidHelperSettings, RaidSeason

log = logging.getLogger(__name__)


MAX_SIGNUP_ATTEMPTS = 5
# Public texts: rendered in the server language where they are used (``core.i18n.public``).
ANNOUNCEMENT = gettext_lazy("📅 Next week's raid has been posted! Sign up here: {url}")
EVENT_DESCRIPTION = gettext_lazy("Auto-scheduled raid. Sign up below!")  # the Raid-Helper post's description
FALLBACK_TEMPLATE = "wowretail2"
# Stored on the sign-ups held back and matched again when the event is pushed later: a marker
# that must never change with the language (the admin shows it as written).
NOT_CONFIGURED_SKIP = "Raid-Helper not configured when booked"
NOT_CONFIGURED_SKIP_SHOWN = gettext_noop("Raid-Helper not configured when booked")  # its words in the catalogues
Status = RaidAttendance.Status
Source = RaidAttendance.Source
Push = RaidAttendance.SignupPush
AttendedSource = RaidAttendance.AttendedSource


def said(msgid: str, **args: str | int) -> Message:
    """A reason of an import report (``msgid`` marked with ``gettext_noop`` where it is written):
    its English text, remembering its source and values so a reader is shown it in their
    language later (:func:`shown`)."""
    return Message(msgid, **args)


def stored(reason: str, key: str = "reason") -> dict:
    """The fields an import report stores for ``reason``: the text, and its source when known
    (``<key>_id``/``<key>_args``, what :func:`shown` reads)."""
    if isinstance(reason, Message):
        return {key: str(reason), f"{key}_id": reason.template, f"{key}_args": reason.params}
    return {key: str(reason)}


def shown_text(text: str) -> str:
    """A stored sentence of ours (a sign-up push's reason, written by the periodic job) in the
    reader's language when the catalogues know it; anything else (Raid-Helper's own words) as stored."""
    return _(text) if text else ""


def shown(item: dict, key: str = "reason") -> str:
    """A stored reason in the reader's language (its source translated now), else as stored
    (a report written before the source was kept, or a text from Raid-Helper/Warcraft Logs)."""
    msgid = item.get(f"{key}_id")
    if msgid:
        return render_message({"template": msgid, "params": item.get(f"{key}_args") or {}}, _)
    return str(item.get(key) or "")


class RaidsError(DomainError):
    """A raids rule was broken; the message is shown to the officer as is (written with
    ``gettext``: in the officer's or member's language, English in a Celery job)."""


# -- configuration -------------------------------------------------------------------------
def is_configured(config: RaidHelperSettings | None = None) -> bool:
    """"Configured" = an API key (environment, else the admin's encrypted setting, read now)
    and a server id in the settings."""
    config = config or RaidHelperSettings.load()
    return bool(get_secret("RAID_HELPER_API_KEY") and config.server_id)


def get_client(config: RaidHelperSettings | None = None) -> RaidHelperClient:
    config = config or RaidHelperSettings.load()
    return RaidHelperClient(server_id=config.server_id, timezone=config.timezone)


def event_description() -> str:
    """The description of a Raid-Helper event we create: members read it in the channel, so it
    is in the server language."""
    with i18n.public():
        return str(EVENT_DESCRIPTION)


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
        with i18n.public():  # a channel post: the server language
            content = str(ANNOUNCEMENT).format(url=created.url)
            outbox.post_message(config.raid_channel_id, content=content,
                                dedupe_key=f"raids.announce:{created.id}", topic="raids.announcement")
    else:
        log.warning("Auto-booking: no raid channel configured, announcement skipped")
