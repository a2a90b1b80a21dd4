"""Ark of Osiris' part of the privacy registry (core/privacy): governors' links to a Discord
account, signups, bans, reminder preferences and audit rows of one member."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q

from ark.models import AuditLog, Ban, Governor, Match, ReminderPrefs, SentReminder, Signup
from ark.services.signups import withdraw
from core.privacy import ANONYMISED, ERASED, KEPT, AppPart, ForgetContext, Holds

NO_ACCOUNT = 0  # a governor or past signup whose Discord account was forgotten


def export(member: int) -> dict[str, Any]:
    prefs = ReminderPrefs.objects.filter(discord_user_id=member).first()
    return {
        "governors": [{"governor_id": str(g.governor_id), "name": g.name, "power": g.power,
                       "kill_points": g.kill_points, "city_hall": g.city_hall}
                      for g in Governor.objects.filter(discord_user_id=member)],
        "signups": [{"match": str(s.match), "governor": s.governor.name, "slot": s.slot, "status": s.status,
                     "attendance": s.attendance, "signed_up_at": s.created_at.isoformat()}
                    for s in Signup.objects.filter(discord_user_id=member).select_related("match__alliance",
                                                                                          "governor")],
        "bans": [{"from": b.starts_weekend.isoformat(), "until": b.ends_on.isoformat(), "reason": b.reason,
                  "revoked": bool(b.revoked_at)} for b in Ban.objects.filter(discord_user_id=member)],
        "reminder_preferences": {"dm_enabled": prefs.dm_enabled, "disabled_types": prefs.disabled_types}
        if prefs else None,
    }


def forget(member: int, ctx: ForgetContext) -> dict[str, Any]:
    # Future matches: withdrawn the normal way (the first Sub promoted and told, the
    # confirmation post updated), before the links that path needs are removed.
    withdrawn = 0
    upcoming = Signup.objects.filter(discord_user_id=member, status=Signup.Status.ACTIVE,
                                     match__status__in=Match.OPEN_STATUSES, match__match_time_utc__gt=ctx.now)
    for signup in list(upcoming.values("match_id", "governor__governor_id")):
        withdraw(match_id=signup["match_id"], discord_user_id=member, governor_id=signup["governor__governor_id"],
                 now=ctx.now)
        withdrawn += 1
    prefs, _ = ReminderPrefs.objects.filter(discord_user_id=member).delete()
    reminders, _ = SentReminder.objects.filter(target_id=member, is_channel=False).delete()
    governors = Governor.objects.filter(discord_user_id=member).update(discord_user_id=NO_ACCOUNT)
    signups = Signup.objects.filter(discord_user_id=member).update(discord_user_id=NO_ACCOUNT)
    audit = 0
    for row in AuditLog.objects.filter(Q(actor_discord_id=member) | Q(details__icontains=str(member))) \
            .select_for_update(of=("self",)):
        row.actor_discord_id = None if row.actor_discord_id == member else row.actor_discord_id
        row.details = ctx.needles.json(row.details)
        row.save(update_fields=["actor_discord_id", "details"])
        audit += 1
    officers = 0
    for field in ("created_by_discord_id", "revoked_by_discord_id"):
        officers += Ban.objects.filter(**{field: member}).update(**{field: None})
    officers += Match.objects.filter(created_by_discord_id=member).update(created_by_discord_id=None)
    bans = Ban.objects.filter(discord_user_id=member).count()
    return {ERASED: {"reminder_preferences": prefs, "dm_reminder_records": reminders},
            ANONYMISED: {"future_signups_withdrawn": withdrawn, "governor_links": governors,
                         "past_signups": signups, "audit_rows": audit, "officer_references": officers},
            KEPT: {"bans": bans}}


def retention(now: dt.datetime, dry_run: bool) -> dict[str, int]:
    """Ark's own retention (ARK_RETENTION_DAYS: old signups, audit rows and reminders; the
    per-governor totals kept), run with the rest of the policy."""
    from ark.services.retention import purge_old_records

    report = purge_old_records(now=now, dry_run=dry_run)
    return report.counters()


PART = AppPart(
    app="ark",
    retention=retention,
    retention_rules=("Ark signups, audit rows and reminder records are deleted after ARK_RETENTION_DAYS days "
                     "(each governor's totals are kept).",),
    holds=(
        Holds("ark.Governor", ("discord_user_id",), ANONYMISED,
              "A governor is a game account: its link to their Discord account is removed and its past results "
              "stay with it (an officer may delete the governor as well)."),
        Holds("ark.Signup", ("discord_user_id",), ANONYMISED,
              "Signups for matches still to come are withdrawn the normal way (the first Sub moves up, the "
              "confirmation post is updated); past signups stay with the governor without the Discord id."),
        Holds("ark.ReminderPrefs", ("discord_user_id",), ERASED, "Reminder preferences are deleted."),
        Holds("ark.SentReminder", ("target_id",), ERASED, "Records of reminder DMs sent to them are deleted."),
        Holds("ark.AuditLog", ("actor_discord_id", "details"), ANONYMISED,
              "Their id is removed from the Ark audit trail; the actions stay."),
        Holds("ark.Match", ("created_by_discord_id",), ANONYMISED, "An officer's id as a match's creator is removed."),
        Holds("ark.Ban", ("discord_user_id", "reason", "created_by_discord_id", "revoked_by_discord_id"), KEPT,
              "Ark bans of their account are kept, as a record that the account was actioned (officers' ids on "
              "them are removed)."),
    ),
    export=export,
    forget=forget,
)
