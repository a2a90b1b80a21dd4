"""Ark knobs, read from Django settings (parsed from the environment in config/settings.py)
and validated here against the reminder types the app knows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class ReminderType:
    """A reminder: ``offset`` before its anchor (the signup close or the match start)."""

    name: str
    offset: dt.timedelta
    anchor: str  # "close" or "start"
    to_channel: bool  # posted in the registration channel instead of DMs
    text: str | Promise  # the default texts are lazy: rendered in the reader's language when sent


AVAILABLE_REMINDERS: dict[str, ReminderType] = {
    r.name: r
    for r in (
        ReminderType(
            "registration_close_1h",
            dt.timedelta(hours=1),
            "close",
            True,
            _("Registration for the Ark match closes {close_rel}. Join now!"),
        ),
        ReminderType(
            "24h", dt.timedelta(hours=24), "start", False, _("Your Ark of Osiris match starts {start_rel}.")
        ),
        ReminderType(
            "checkin_12h",
            dt.timedelta(hours=12),
            "start",
            False,
            _("Check-in is open: your Ark match starts {start_rel}. Press **Check in** or use `/ark checkin`."),
        ),
        ReminderType("4h", dt.timedelta(hours=4), "start", False, _("Your Ark match starts {start_rel}.")),
        ReminderType(
            "1h", dt.timedelta(hours=1), "start", False, _("Your Ark match starts {start_rel}. Get ready!")
        ),
        ReminderType("start", dt.timedelta(0), "start", False, _("Your Ark match is starting now!")),
    )
}
DEFAULT_REMINDERS = "registration_close_1h,checkin_12h,4h,1h,start"


def _raw(name: str, default: str) -> str:
    value = getattr(settings, name, None)
    if value is None:
        return default
    return str(value) if not isinstance(value, list | tuple) else ",".join(value)


def reminder_types() -> list[ReminderType]:
    """ARK_REMINDER_TYPES: comma-separated names among AVAILABLE_REMINDERS."""
    names = [n.strip() for n in _raw("ARK_REMINDER_TYPES", DEFAULT_REMINDERS).split(",") if n.strip()]
    unknown = [n for n in names if n not in AVAILABLE_REMINDERS]
    if unknown:
        raise ImproperlyConfigured(
            f"ARK_REMINDER_TYPES: unknown {unknown}; choose from {list(AVAILABLE_REMINDERS)}."
        )
    return [AVAILABLE_REMINDERS[n] for n in names]


def reminder_grace() -> dt.timedelta:
    """ARK_REMINDER_GRACE_MINUTES (20): a reminder later than this is skipped, never sent late."""
    return dt.timedelta(minutes=float(_raw("ARK_REMINDER_GRACE_MINUTES", "20")))


def result_reminder_delay() -> dt.timedelta:
    """ARK_RESULT_REMINDER_HOURS (2): after the start, officers are asked to record the result."""
    return dt.timedelta(hours=float(_raw("ARK_RESULT_REMINDER_HOURS", "2")))


def retention_period() -> dt.timedelta:
    """ARK_RETENTION_DAYS (730): signups, audit rows and reminders older than this are deleted
    by the monthly retention task (per-governor totals are kept)."""
    days = int(float(_raw("ARK_RETENTION_DAYS", "730")))
    if days < 30:
        raise ImproperlyConfigured(f"ARK_RETENTION_DAYS={days}: keep at least 30 days.")
    return dt.timedelta(days=days)


def officer_role_id() -> int | None:
    """ARK_OFFICER_ROLE_ID: Discord role whose members may use the officer commands
    (members with the Manage Server permission always may)."""
    raw = _raw("ARK_OFFICER_ROLE_ID", "").strip()
    if raw and not raw.isdigit():
        raise ImproperlyConfigured(f"ARK_OFFICER_ROLE_ID={raw!r} is not a Discord id.")
    return int(raw) if raw else None


CHECKIN_WINDOW = dt.timedelta(hours=12)
