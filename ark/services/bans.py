"""Bans (counted in Ark weekends) and members' reminder preferences."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from .. import conf
from ..models import (
    Ban,
    ReminderPrefs,
    Signup,
)
from .calendar import get_cadence, next_ark_weekend
from .common import OPEN, SignupStatus, _audit, _bounded_text, _now
from .errors import ArkError, NotFoundError

# --- bans ------------------------------------------------------------------------------------


def ark_weekend_of(day: dt.date) -> dt.date:
    """The Saturday of the Ark weekend a day belongs to: a Sunday belongs to the day before;
    Monday–Friday to the coming weekend."""
    if day.weekday() == 6:
        return day - dt.timedelta(days=1)
    return day + dt.timedelta(days=(5 - day.weekday()) % 7)


def _ban_terms(
    *, reason: str, discord_user_id: int | None, governor_id: int | None, weekends: int | None,
    until_date: dt.date | None, now: dt.datetime | None,
) -> tuple[str, dt.date, dt.date]:
    """The checked reason and the weekends a ban covers: what ``add_ban`` writes and what
    ``preview_ban`` shows the officer before (one rule for both, so a preview never lies)."""
    if discord_user_id is None and governor_id is None:
        raise ArkError(_("A ban needs a Discord user, a governor id or both."))
    if (weekends is None) == (until_date is None):
        raise ArkError(_("Give either a number of weekends or an end date."))
    if not (reason or "").strip():
        raise ArkError(_("A ban needs a reason."))
    reason = _bounded_text(reason, Ban, "reason", "A ban's reason")
    start = ark_weekend_of(_now(now).date())
    if weekends is not None:
        if weekends < 1 or weekends > 104:
            raise ArkError(_("A ban lasts 1 to 104 weekends."))
        cadence = get_cadence()
        start = next_ark_weekend(start, cadence)
        ends = start + dt.timedelta(days=7 * cadence.cadence_weekends * (weekends - 1) + 1)
    else:
        if until_date < start:
            raise ArkError(_("The end date %(until_date)s is before the next Ark weekend (%(start)s).") % {"until_date": until_date, "start": start})
        ends = until_date
    return reason.strip(), start, ends


def preview_ban(
    *,
    reason: str,
    discord_user_id: int | None = None,
    governor_id: int | None = None,
    weekends: int | None = None,
    until_date: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Ban:
    """The ban ``add_ban`` would write, unsaved (nothing is written): for the officer's
    confirmation page, with ``signups_covered_by`` naming who is still on a roster."""
    reason, start, ends = _ban_terms(reason=reason, discord_user_id=discord_user_id, governor_id=governor_id,
                                     weekends=weekends, until_date=until_date, now=now)
    return Ban(discord_user_id=discord_user_id, governor_id=governor_id, reason=reason, starts_weekend=start,
               ends_on=ends)


def add_ban(
    *,
    reason: str,
    discord_user_id: int | None = None,
    governor_id: int | None = None,
    weekends: int | None = None,
    until_date: dt.date | None = None,
    actor_discord_id: int | None = None,
    now: dt.datetime | None = None,
) -> Ban:
    """Ban a user and/or a governor for the next ``weekends`` Ark weekends of the installation's
    cadence (the current one counts when it is an Ark Saturday or Sunday; with the game's
    fortnightly cadence 3 weekends from 2026-03-07 end after 2026-04-04) or until ``until_date``.
    Nobody is messaged and no signup is cancelled: new signups are refused."""
    reason, start, ends = _ban_terms(reason=reason, discord_user_id=discord_user_id, governor_id=governor_id,
                                     weekends=weekends, until_date=until_date, now=now)
    with transaction.atomic():
        ban = Ban.objects.create(
            discord_user_id=discord_user_id,
            governor_id=governor_id,
            reason=reason,
            starts_weekend=start,
            ends_on=ends,
            created_by_discord_id=actor_discord_id,
        )
        _audit(
            "ban_added",
            actor_discord_id,
            ban_id=ban.pk,
            discord_user_id=discord_user_id,
            governor_id=governor_id,
            starts=start,
            ends=ends,
            reason=ban.reason,
        )
        return ban


def revoke_ban(*, ban_id: int, actor_discord_id: int | None = None, now: dt.datetime | None = None) -> Ban:
    """Lift a ban; the row stays (revoked) so the audit trail keeps who was banned and why."""
    with transaction.atomic():
        ban = Ban.objects.select_for_update().filter(pk=ban_id).first()
        if ban is None:
            raise NotFoundError(_("Ban #%(ban_id)s does not exist.") % {"ban_id": ban_id})
        if ban.revoked_at:
            raise ArkError(_("Ban #%(ban_id)s was already revoked.") % {"ban_id": ban_id})
        ban.revoked_at, ban.revoked_by_discord_id = _now(now), actor_discord_id
        ban.save(update_fields=["revoked_at", "revoked_by_discord_id"])
        _audit("ban_revoked", actor_discord_id, ban_id=ban.pk)
        return ban


def _active_bans(on_weekend: dt.date):
    return Ban.objects.filter(
        revoked_at__isnull=True, starts_weekend__lte=on_weekend, ends_on__gte=on_weekend
    )


def signups_covered_by(ban: Ban) -> list[Signup]:
    """Active signups in open matches that a (new) ban covers: a ban refuses new signups but
    does not silently pull anyone out of a roster, so the officer is shown these to decide."""
    who = Q(pk__in=[])
    if ban.discord_user_id is not None:
        who |= Q(discord_user_id=ban.discord_user_id)
    if ban.governor_id is not None:
        who |= Q(governor__governor_id=ban.governor_id)
    return list(
        Signup.objects.filter(who, status=SignupStatus.ACTIVE, match__status__in=OPEN)
        .filter(ark_weekend_date__gte=ban.starts_weekend, ark_weekend_date__lte=ban.ends_on)
        .select_related("governor", "match__alliance")
        .order_by("ark_weekend_date", "id")
    )


def ban_coverage_note(ban: Ban) -> str:
    """The sentence an officer sees after adding a ban (admin and ``/ark ban add`` alike): who
    is still signed up for matches it covers, or an empty string."""
    still_in = signups_covered_by(ban)
    if not still_in:
        return ""
    where = ", ".join(f"{s.governor.name} in {s.match}" for s in still_in[:10])
    return (_("Still signed up: %(where)s. A ban refuses new signups; remove these from the roster (admin, Signups) if they should not play.") % {"where": where})


def list_bans(active_only: bool = True, now: dt.datetime | None = None) -> list[Ban]:
    """Active = not revoked and covering the current or a later Ark weekend."""
    qs = Ban.objects.all()
    if active_only:
        qs = qs.filter(revoked_at__isnull=True, ends_on__gte=ark_weekend_of(_now(now).date()))
    return list(qs.order_by("-created_at", "-id"))


def get_active_ban_for(
    *, ark_weekend_date: dt.date, discord_user_id: int | None = None, governor_id: int | None = None
) -> Ban | None:
    """The ban covering that weekend for the user or the governor (a user ban follows all their
    governors; a governor ban follows the account to a new owner). The longest-running one."""
    who = Q(pk__in=[])
    if discord_user_id is not None:
        who |= Q(discord_user_id=discord_user_id)
    if governor_id is not None:
        who |= Q(governor_id=governor_id)
    return _active_bans(ark_weekend_date).filter(who).order_by("-ends_on").first()


# --- reminder preferences --------------------------------------------------------------------


def get_reminder_prefs(discord_user_id: int) -> ReminderPrefs | None:
    """None means the defaults: every reminder type by DM."""
    return ReminderPrefs.objects.filter(discord_user_id=discord_user_id).first()


def change_reminder_prefs(
    *,
    discord_user_id: int,
    dm_enabled: bool | None = None,
    disable: Iterable[str] = (),
    enable: Iterable[str] = (),
) -> ReminderPrefs:
    """``/ark prefs``: turn reminder types off or back on relative to what the member has now.
    The change is applied to the locked row, so two changes made at once both hold."""
    disable, enable = set(disable), set(enable)
    if dm_enabled is None and not disable and not enable:
        raise ArkError(_("Nothing to change."))
    with transaction.atomic():
        current = ReminderPrefs.objects.select_for_update().filter(discord_user_id=discord_user_id).first()
        disabled = (set(current.disabled_types) if current else set()) | disable
        return upsert_reminder_prefs(discord_user_id=discord_user_id, dm_enabled=dm_enabled,
                                     disabled_types=disabled - enable)


def upsert_reminder_prefs(
    *,
    discord_user_id: int,
    dm_enabled: bool | None = None,
    disabled_types: Iterable[str] | None = None,
    actor_discord_id: int | None = None,
) -> ReminderPrefs:
    """Reminder types a user turns off must be known types (see ``ark.conf``)."""
    if disabled_types is not None:
        disabled_types = sorted(set(disabled_types))
        unknown = [t for t in disabled_types if t not in conf.AVAILABLE_REMINDERS]
        if unknown:
            raise ArkError(
                _("Unknown reminder type(s) %(types)s; known: %(known)s.") % {"types": ", ".join(unknown),
                                                                    "known": ", ".join(conf.AVAILABLE_REMINDERS)}
            )
    with transaction.atomic():
        prefs, _created = ReminderPrefs.objects.select_for_update().get_or_create(discord_user_id=discord_user_id)
        if dm_enabled is not None:
            prefs.dm_enabled = dm_enabled
        if disabled_types is not None:
            prefs.disabled_types = disabled_types
        prefs.save()
        _audit(
            "reminder_prefs",
            actor_discord_id or discord_user_id,
            discord_user_id=discord_user_id,
            dm_enabled=prefs.dm_enabled,
            disabled_types=prefs.disabled_types,
        )
        return prefs
