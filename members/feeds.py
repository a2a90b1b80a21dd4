"""What a calendar feed shows, and its iCalendar text (built with the ``icalendar`` library).

Each source row becomes an ``Item`` with a UID that never changes (``raid-<id>@guildops``,
``ark-<id>@guildops``, ``ratmas-<id>-<deadline>@guildops``); its ``fingerprint`` covers what a
calendar displays, so the services can grow the SEQUENCE when, and only when, it changes.
All times are UTC (``DTSTART:…Z``). Reads are a fixed number of queries whatever the feed's size.

The titles and descriptions are rendered in the language active when the items are built: the
services build a member's feed in that member's language (``core.i18n.for_member``: the calendar
app that reads it sends no language of its own) and the public feeds in the server language
(``core.i18n.public``). A change of language changes the fingerprints, so calendars see the new
words as a new version of each event.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from icalendar import Calendar, Event

DOMAIN = "guildops"
ARK_MATCH_MINUTES = 60  # Ark of Osiris matches last about an hour; the model stores the start only
DEADLINE_MINUTES = 30  # Ratmas deadlines are instants; calendars show them as a short event


@dataclass(frozen=True)
class Item:
    uid: str
    start: dt.datetime
    end: dt.datetime
    summary: str
    description: str = ""
    status: str = "CONFIRMED"  # CONFIRMED, TENTATIVE or CANCELLED (RFC 5545 §3.8.1.11)

    @property
    def fingerprint(self) -> str:
        text = "\x1f".join([self.start.isoformat(), self.end.isoformat(), self.summary, self.description,
                            self.status])
        return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _cutoff() -> dt.datetime:
    return timezone.now() - dt.timedelta(days=settings.CALENDAR_FEED_PAST_DAYS)


# A member's raid sign-up status → the event's status in their calendar.
RAID_STATUS = {"accepted": "CONFIRMED", "tentative": "TENTATIVE", "bench": "TENTATIVE", "absence": "CANCELLED"}


@lru_cache(maxsize=16)
def _words_in(language: str | None) -> dict[str, str]:
    """The feed's words in one language, looked up once per process: a feed of 1,000 events would
    otherwise ask the catalogue thousands of times (about 10 ms of its 50 ms budget)."""
    return {
        "raid": _("Raid night: %(title)s."), "signup": _("Your sign-up: %(status)s."),
        "bench_title": _("%(title)s (bench)"),
        "accepted": pgettext("raid sign-up status", "accepted"),
        "tentative": pgettext("raid sign-up status", "tentative"),
        "bench": pgettext("raid sign-up status", "bench"),
        "absence": pgettext("raid sign-up status", "absence"),
        "ark": _("Ark of Osiris: %(alliance)s"), "weekend": _("Ark weekend of %(date)s, %(day)s match."),
        "play_as": _("You play as %(governor)s (%(slot)s)."),
        "Player": pgettext("ark slot", "Player"), "Sub": pgettext("ark slot", "Sub"),
        "deadline_signup": _("signups close"), "deadline_purchase": _("buy your gift by now"),
        "deadline_reveal": _("gifts are opened"), "ratmas_title": _("%(title)s: %(words)s"),
        "ratmas": _("Secret Santa %(title)s: %(words)s."),
    }


def _words() -> dict[str, str]:
    return _words_in(translation.get_language())


def _raid_item(event, signup_status: str | None = None, words: dict[str, str] | None = None) -> Item:
    words = words or _words()
    description = words["raid"] % {"title": event.title}
    summary = event.title
    status = "CONFIRMED"
    if signup_status is not None:
        shown = words[signup_status] if signup_status in RAID_STATUS else signup_status
        description += " " + words["signup"] % {"status": shown}
        status = RAID_STATUS.get(signup_status, "CONFIRMED")
        if signup_status == "bench":
            summary = words["bench_title"] % {"title": event.title}
    return Item(uid=f"raid-{event.pk}@{DOMAIN}", start=event.start_time_utc, end=event.end_time_utc,
                summary=summary, description=description, status=status)


def _ark_item(match, governor_name: str | None = None, slot: str | None = None,
              words: dict[str, str] | None = None) -> Item:
    words = words or _words()
    summary = words["ark"] % {"alliance": match.alliance.name}
    description = words["weekend"] % {"date": f"{match.ark_weekend_date:%Y-%m-%d}",
                                      "day": match.get_match_day_display()}
    if governor_name:
        shown = words[slot] if slot in ("Player", "Sub") else slot
        description += " " + words["play_as"] % {"governor": governor_name, "slot": shown}
    return Item(uid=f"ark-{match.pk}@{DOMAIN}", start=match.match_time_utc,
                end=match.match_time_utc + dt.timedelta(minutes=ARK_MATCH_MINUTES), summary=summary,
                description=description, status="CANCELLED" if match.status == "Cancelled" else "CONFIRMED")


RATMAS_DEADLINES = (("signup", "signup_deadline"), ("purchase", "purchase_deadline"), ("reveal", "reveal_date"))


def _ratmas_items(event) -> list[Item]:
    status = "CANCELLED" if event.status == "cancelled" else "CONFIRMED"
    words = _words()
    items = []
    for name, field in RATMAS_DEADLINES:
        values = {"title": event.title, "words": words[f"deadline_{name}"]}
        items.append(Item(uid=f"ratmas-{event.pk}-{name}@{DOMAIN}", start=getattr(event, field),
                          end=getattr(event, field) + dt.timedelta(minutes=DEADLINE_MINUTES),
                          summary=words["ratmas_title"] % values, description=words["ratmas"] % values,
                          status=status))
    return items


def member_items(discord_user_id: int) -> list[Item]:
    """The member's raids (with their sign-up status), Ark matches they are in (active sign-ups) and
    Ratmas deadlines of the rounds they joined, from ``CALENDAR_FEED_PAST_DAYS`` ago on. Three queries."""
    from ark.models import Signup
    from raids.models import RaidAttendance
    from ratmas.models import Event as RatmasEvent

    cutoff = _cutoff()
    words = _words()
    items = [_raid_item(a.event, a.status, words) for a in RaidAttendance.objects.filter(
        player__discord_user__discord_id=discord_user_id, event__end_time_utc__gte=cutoff)
        .select_related("event").only("status", "event__title", "event__start_time_utc", "event__end_time_utc")
        .order_by("event__start_time_utc", "event_id")]
    items += [_ark_item(s.match, s.governor.name, s.slot, words) for s in Signup.objects.filter(
        discord_user_id=discord_user_id, status="Active", match__match_time_utc__gte=cutoff)
        .select_related("match__alliance", "governor").order_by("match__match_time_utc", "match_id")]
    for event in RatmasEvent.objects.filter(participants__user_id=discord_user_id,
                                            reveal_date__gte=cutoff).order_by("reveal_date", "pk"):
        items += _ratmas_items(event)
    return items


def public_raid_items() -> list[Item]:
    from raids.models import RaidEvent

    words = _words()
    return [_raid_item(e, None, words) for e in RaidEvent.objects.filter(end_time_utc__gte=_cutoff())
            .only("title", "start_time_utc", "end_time_utc").order_by("start_time_utc", "pk")]


def public_ark_items(alliance_id: int) -> list[Item]:
    from ark.models import Match

    words = _words()
    return [_ark_item(m, None, None, words)
            for m in Match.objects.filter(alliance_id=alliance_id, match_time_utc__gte=_cutoff())
            .select_related("alliance").order_by("match_time_utc", "pk")]


def render(name: str, items: list[Item], versions: dict[str, tuple[int, dt.datetime]]) -> bytes:
    """The VCALENDAR text. ``versions``: uid → (SEQUENCE, when that version appeared, the DTSTAMP),
    so the same content always renders to the same bytes (and the same ETag)."""
    cal = Calendar()
    cal.add("prodid", "-//Guild Ops//Calendar feed//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    for item in items:
        sequence, stamp = versions[item.uid]
        event = Event()
        event.add("uid", item.uid)
        event.add("dtstamp", stamp.astimezone(dt.UTC))
        event.add("dtstart", item.start.astimezone(dt.UTC))
        event.add("dtend", item.end.astimezone(dt.UTC))
        event.add("summary", item.summary)
        if item.description:
            event.add("description", item.description)
        event.add("status", item.status)
        event.add("sequence", sequence)
        cal.add_component(event)
    return cal.to_ical()
