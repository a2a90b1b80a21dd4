"""Ark matches mirrored as the server's Discord scheduled events (issue 26), when an officer
switched it on (``ArkSettings.discord_events``, the Ark cadence page in the admin).

Called by the match services inside their transaction: the create, edit and cancel are queued
in the outbox with the match's change (``bot.outbox.mirror_event`` / ``cancel_event``; the
delivery is ``bot.scheduled_events``). The event is EXTERNAL (Discord's "somewhere else"):
location "Rise of Kingdoms · Ark of Osiris", one hour long (an Ark of Osiris battle lasts
60 minutes), visible to the server's members only."""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from bot import outbox

from ..models import ArkSettings, Match

TOPIC = "ark.scheduled_event"
LOCATION = "Rise of Kingdoms · Ark of Osiris"
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
    description = (
        f"Ark of Osiris for {alliance.name}. Sign up with the buttons of the registration message"
        + (f" in <#{alliance.registration_channel_id}>" if alliance.registration_channel_id else "")
        + f" before {outbox.discord_timestamp(match.signup_close_utc, 'f')}."
        + (f"\n\n{match.notes}" if match.notes else "")
    )
    outbox.mirror_event(
        source_of(match), guild_id=settings.DISCORD_GUILD_ID,
        name=f"Ark of Osiris · {alliance.name} ({match.get_match_day_display()})",
        description=description, location=LOCATION, start=match.match_time_utc,
        end=match.match_time_utc + MATCH_LENGTH, topic=TOPIC, now=now,
    )


def cancel_match_event(match: Match, reason: str = "") -> None:
    """The match was cancelled: so is its scheduled event, if it was mirrored (even if an
    officer switched mirroring off since: a ghost event would mislead members)."""
    outbox.cancel_event(source_of(match), topic=TOPIC, reason=f"Ark match cancelled: {reason}"[:400])
