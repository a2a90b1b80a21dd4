"""Officers' saves and deletes: seasons, raid nights, raid events and the Raid-Helper settings."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from core.reports import RunReport
from core.services import save_row
from raids.models import RaidEvent, RaidHelperSettings, RaidSeason, RecurringEvent

from .common import RaidsError, current_season
from .discord_events import cancel_raid_events, mirror_raid_event

# -- officers' edits: seasons, raid nights, raid events, settings -----------------------------
SEASON_FIELDS = ("name", "start_date", "end_date", "is_active")
RECURRING_FIELDS = ("label", "event_type", "day_of_week", "default_start_time", "timezone",
                    "default_duration_minutes", "discord_channel_id", "raid_helper_template_id", "is_active",
                    "wanted_tanks", "wanted_healers", "wanted_melee", "wanted_ranged")
EVENT_FIELDS = ("title", "event_date", "start_time_utc", "end_time_utc", "season", "recurring_event",
                "raid_helper_event_id", "discord_channel_id")
SETTINGS_FIELDS = ("server_id", "raid_channel_id", "leader_discord_id", "default_template_id", "timezone",
                   "wcl_guild_id", "wcl_guild_name", "wcl_guild_server_slug", "wcl_guild_server_region",
                   "discord_events")


def _only(fields: dict, allowed: tuple[str, ...]) -> dict:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise RaidsError(_("Cannot set %(fields)s here.") % {"fields": ", ".join(sorted(unknown))})
    return fields


def save_season(season_id: int | None, **fields) -> RaidSeason:
    """Create or change a raid season (name, start_date, end_date, is_active). Several active
    seasons may overlap: the current one is the latest that has started."""
    return save_row(RaidSeason, season_id, _only(fields, SEASON_FIELDS), error=RaidsError)


def save_recurring_event(recurring_event_id: int | None, **fields) -> RecurringEvent:
    """Create or change a weekly raid night. Events already booked keep their time; the change
    applies from the next booking on."""

    def check(night: RecurringEvent) -> None:
        if night.discord_channel_id is not None and night.discord_channel_id <= 0:
            raise RaidsError(_("The Discord channel id is a positive number (right-click the channel, Copy ID)."))

    return save_row(RecurringEvent, recurring_event_id, _only(fields, RECURRING_FIELDS), error=RaidsError, check=check)


def save_raid_event(event_id: int | None, **fields) -> RaidEvent:
    """Create or change a raid event by hand (a one-off, or a night booked outside
    auto-booking). An empty season means the season current on the event's date. The
    Raid-Helper event itself is not changed: edit it there too."""

    def check(event: RaidEvent) -> None:
        if event.raid_helper_event_id and not event.raid_helper_event_id.isdigit():
            raise RaidsError(_("The Raid-Helper event id is the number at the end of the event's link (digits only)."))
        if event.raid_helper_event_id:
            event.raid_helper_pending = False  # linked by hand: nothing left to push
        if event.recurring_event_id and event.event_date:
            clash = RaidEvent.objects.filter(recurring_event_id=event.recurring_event_id,
                                             event_date=event.event_date).exclude(pk=event.pk).first()
            if clash:
                raise RaidsError(_("%(night)s already has an event on %(date)s (“%(clash)s”): edit that one instead.")
                                 % {"night": event.recurring_event.label,
                                    "date": date_format(event.event_date, "D d M Y"), "clash": clash})
        if event.event_date and event.start_time_utc:
            zone = event.recurring_event.timezone if event.recurring_event_id else RaidHelperSettings.load().timezone
            local_start = event.start_time_utc.astimezone(zoneinfo.ZoneInfo(zone))
            if local_start.date() != event.event_date:
                raise RaidsError(_("The event date (%(date)s) must be the day the raid starts: the start is "
                                   "%(start)s (%(zone)s).") % {"date": date_format(event.event_date, "D d M Y"),
                                                              "start": date_format(local_start, "D d M Y H:i"),
                                                              "zone": zone})
        if event.season_id is None and event.event_date:
            event.season = current_season(event.event_date)

    with transaction.atomic():
        event = save_row(RaidEvent, event_id, _only(fields, EVENT_FIELDS), error=RaidsError, check=check)
        mirror_raid_event(event)
    return event


@dataclass
class DeleteReport(RunReport):
    deleted: int = 0  # events deleted (their attendance with them)
    unbooked_sources: int = 0  # events that had booked a deleted one as next week, unbooked again
    raid_helper_ids: list[str] = field(default_factory=list)  # to delete by hand in Raid-Helper


def delete_raid_events(event_ids: list[int]) -> DeleteReport:
    """Delete raid events with their attendance. Events from which a deleted one was booked
    become unbooked again, so their next week shows as "book manually" instead of a booking
    that no longer exists. Raid-Helper keeps its events: the ids are returned to delete there."""
    report = DeleteReport()
    with transaction.atomic():
        doomed = list(RaidEvent.objects.select_for_update().filter(pk__in=event_ids).order_by("pk"))
        ids = [e.pk for e in doomed]
        report.raid_helper_ids = [e.raid_helper_event_id for e in doomed if e.raid_helper_event_id]
        report.unbooked_sources = (RaidEvent.objects.filter(next_event_id__in=ids).exclude(pk__in=ids)
                                   .update(next_event=None, next_booked_at=None))
        report.deleted = RaidEvent.objects.filter(pk__in=ids).delete()[1].get(RaidEvent._meta.label, 0)
        cancel_raid_events(ids)
    return report


def delete_seasons(season_ids: list[int]) -> int:
    """Delete seasons; their events stay, without a season (out of every season report)."""
    with transaction.atomic():
        ids = list(RaidSeason.objects.select_for_update().filter(pk__in=season_ids).values_list("pk", flat=True))
        RaidEvent.objects.filter(season_id__in=ids).update(season=None)
        return RaidSeason.objects.filter(pk__in=ids).delete()[1].get(RaidSeason._meta.label, 0)


def delete_recurring_events(recurring_event_ids: list[int]) -> int:
    """Delete raid nights; their past and booked events stay as one-off events (no longer
    auto-booked). Deactivating keeps the link and is usually what officers want."""
    with transaction.atomic():
        ids = list(RecurringEvent.objects.select_for_update().filter(pk__in=recurring_event_ids)
                   .values_list("pk", flat=True))
        RaidEvent.objects.filter(recurring_event_id__in=ids).update(recurring_event=None)
        return RecurringEvent.objects.filter(pk__in=ids).delete()[1].get(RecurringEvent._meta.label, 0)


def save_settings(**fields) -> RaidHelperSettings:
    """Write the one row of Raid-Helper settings (created on first save). The API key is not
    one of them: it stays in the environment."""
    fields = _only(fields, SETTINGS_FIELDS)

    def check(config: RaidHelperSettings) -> None:
        for name in ("raid_channel_id", "leader_discord_id"):
            value = getattr(config, name)
            if value is not None and value <= 0:
                label = config._meta.get_field(name).verbose_name
                label = str(label)
                raise RaidsError(_("%(field)s is a Discord id: a positive number.")
                                 % {"field": label[:1].upper() + label[1:]})
        if not (config.default_template_id or "").strip():
            raise RaidsError(_("Set a default Raid-Helper template (e.g. wowretail2)."))

    with transaction.atomic():
        exists = RaidHelperSettings.objects.select_for_update().filter(pk=RaidHelperSettings.SINGLETON_PK).exists()
        return save_row(RaidHelperSettings, RaidHelperSettings.SINGLETON_PK if exists else None, fields,
                        error=RaidsError, check=check)
