"""Ark matches mirrored as the server's Discord scheduled events (issue 26), when an officer
switched it on (``ArkSettings.discord_events``, the Ark cadence page in the admin).

Called by the match services inside their transaction: the create, edit and cancel are queued
in the outbox with the match's change (``bot.outbox.mirror_event`` / ``cancel_event``; the
delivery is ``bot.scheduled_events``). The event is EXTERNAL (Discord's "somewhere else"):
location "Rise of Kingdoms · Ark of Osiris", one hour long (an Ark of Osiris battle lasts
60 minutes), visible to the server's members only. Name and description are in the server language
(``core.i18n.public``), like the bot's public posts."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils.translation import gettext as _

from bot import outbox
from core import i18n

from ..models import ArkSettings, Match

TOPIC = "ark.scheduled_event"
MATCH_LENGTH = dt.timedelta(hours=1)


def source_of(match: Match) -> str:
    return f"ark.match:{match.pk}"


def mirror_match(match: Match, now: dt.datetime | None = None) -> None:
    """Create or bring in step the match's scheduled event (nothing when switched off, without
    DISCORD_GUILD_ID, or once the match started)."""
    config = ArkSettings.objects.filter(pk=1).first()
    if config is None or not config.discord_events or not settings.DISCORD_GUILD_ID:
        return
    alliance = match.alliance
    with i18n.public():
        close = outbox.discord_timestamp(match.signup_close_utc, "f")
        if alliance.registration_channel_id:
            how = _("Ark of Osiris for {alliance}. Sign up with the buttons of the registration message in "
                    "{channel} before {close}.").format(alliance=alliance.name, close=close,
                                                        channel=f"<#{alliance.registration_channel_id}>")
        else:
            how = _("Ark of Osiris for {alliance}. Sign up before {close}.").format(alliance=alliance.name,
                                                                                   close=close)
        name = _("Ark of Osiris · {alliance} ({day})").format(alliance=alliance.name,
                                                             day=match.get_match_day_display())
        location = _("Rise of Kingdoms · Ark of Osiris")
        outbox.mirror_event(
            source_of(match), guild_id=settings.DISCORD_GUILD_ID, name=name,
            description=how + (f"\n\n{match.notes}" if match.notes else ""), location=location,
            start=match.match_time_utc, end=match.match_time_utc + MATCH_LENGTH, topic=TOPIC, now=now,
        )


def cancel_match_event(match: Match, reason: str = "") -> None:
    """The match was cancelled: so is its scheduled event, if it was mirrored (even if an
    officer switched mirroring off since: a ghost event would mislead members)."""
    outbox.cancel_event(source_of(match), topic=TOPIC, reason=f"Ark match cancelled: {reason}"[:400])  # the server's audit log
