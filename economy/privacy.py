"""The economy's part of the privacy registry (core/privacy): balances, transactions, squads,
role rewards and moderation cases of one Discord member."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext_noop

from core.privacy import ANONYMISED, ERASED, FORGOTTEN, KEPT, TOMBSTONE_ID, AppPart, ForgetContext, Holds
from economy.models import BytesBalance, BytesTransaction, ModerationCase, RoleRewardGrant, SquadMembership

# Stored in place of a case's reason, in English (the erasure and retention queries compare them);
# the admin shows them translated (economy.admin.ModerationCaseAdmin.reason_shown).
CASE_REASON_REMOVED = gettext_noop("(reason removed at the member's request)")
CASE_REASON_EXPIRED = gettext_noop("(reason removed: older than the retention period)")
MARKERS = (CASE_REASON_REMOVED, CASE_REASON_EXPIRED)


def names(member: int) -> set[str]:
    found = set(BytesTransaction.objects.filter(giver_id=member).values_list("giver_username", flat=True)[:50])
    found |= set(BytesTransaction.objects.filter(receiver_id=member).values_list("receiver_username", flat=True)[:50])
    found |= set(ModerationCase.objects.filter(user_id=member).values_list("user_tag", flat=True)[:50])
    return {n for n in found if n and n != str(member)}


def export(member: int) -> dict[str, Any]:
    mine = Q(giver_id=member) | Q(receiver_id=member)
    return {
        "balances": [{"server": str(b.guild_id), "balance": b.balance, "total_received": b.total_received,
                      "total_sent": b.total_sent, "daily_streak": b.streak_count,
                      "last_daily": b.last_daily.isoformat() if b.last_daily else None}
                     for b in BytesBalance.objects.filter(user_id=member)],
        "transactions": [{"server": str(t.guild_id), "kind": t.kind, "at": t.created_at.isoformat(),
                          "direction": "sent" if t.giver_id == member else "received", "amount": t.amount,
                          "other_party": t.receiver_username if t.giver_id == member else t.giver_username,
                          "reason": t.reason}
                         for t in BytesTransaction.objects.filter(mine).order_by("created_at")],
        "squads": [{"server": str(m.guild_id), "squad": m.squad.name, "joined_at": m.joined_at.isoformat()}
                   for m in SquadMembership.objects.filter(user_id=member).select_related("squad")],
        "role_rewards": [{"server": str(g.guild_id), "role_id": str(g.role_id), "threshold": g.threshold,
                          "granted_at": g.granted_at.isoformat()}
                         for g in RoleRewardGrant.objects.filter(user_id=member)],
        "moderation_cases": [{"server": str(c.guild_id), "action": c.action, "reason": c.reason,
                              "opened_at": c.created_at.isoformat(), "resolved": c.resolved,
                              "expires_at": c.expires_at.isoformat() if c.expires_at else None}
                             for c in ModerationCase.objects.filter(user_id=member).order_by("created_at")],
    }


def forget(member: int, ctx: ForgetContext) -> dict[str, Any]:
    # Lock the member's accounts first: a transfer to or from them waits until this commits
    # (transfers lock both accounts), so no movement slips between the ledger's re-pointing
    # and the balance's removal.
    balances = list(BytesBalance.objects.select_for_update().filter(user_id=member).order_by("guild_id"))
    gone = {member, TOMBSTONE_ID}
    # both sides forgotten: no member's ledger needs the row any more
    both, _ = BytesTransaction.objects.filter(giver_id__in=gone, receiver_id__in=gone).delete()
    reasons = BytesTransaction.objects.filter(Q(giver_id=member) | Q(receiver_id=member)).exclude(reason="") \
        .update(reason="")
    gave = BytesTransaction.objects.filter(giver_id=member).update(giver_id=TOMBSTONE_ID, giver_username=FORGOTTEN)
    got = BytesTransaction.objects.filter(receiver_id=member).update(receiver_id=TOMBSTONE_ID,
                                                                     receiver_username=FORGOTTEN)
    squads, _ = SquadMembership.objects.filter(user_id=member).delete()
    rewards, _ = RoleRewardGrant.objects.filter(user_id=member).delete()
    for balance in balances:
        balance.delete()
    cases = ModerationCase.objects.filter(user_id=member).exclude(user_tag=FORGOTTEN, reason=CASE_REASON_REMOVED) \
        .update(user_tag=FORGOTTEN, reason=CASE_REASON_REMOVED)
    moderated = ModerationCase.objects.filter(moderator_id=member).update(moderator_id=TOMBSTONE_ID,
                                                                          moderator_tag=FORGOTTEN)
    return {
        ERASED: {"balances": len(balances), "squad_memberships": squads, "role_reward_grants": rewards,
                 "transactions_between_forgotten_members": both},
        ANONYMISED: {"transactions": gave + got, "transaction_reasons_scrubbed": reasons,
                     "cases_they_moderated": moderated},
        KEPT: {"moderation_cases": cases},
    }


def retention(now: dt.datetime, dry_run: bool) -> dict[str, int]:
    """A moderation case's reason (it may quote the offending message) is removed after
    RETENTION_MODERATION_DAYS; the case record stays."""
    from core.privacy.retention import in_batches

    cutoff = now - dt.timedelta(days=settings.RETENTION_MODERATION_DAYS)
    old = ModerationCase.objects.filter(created_at__lt=cutoff).exclude(reason__in=[CASE_REASON_EXPIRED,
                                                                                    CASE_REASON_REMOVED])
    return {"moderation_texts": in_batches(
        old, lambda pks: ModerationCase.objects.filter(pk__in=pks).update(reason=CASE_REASON_EXPIRED), dry_run=dry_run)}


PART = AppPart(
    app="economy",
    retention=retention,
    retention_rules=("Moderation cases lose their reason and message text after RETENTION_MODERATION_DAYS days; "
                     "the case record (who, what action, when) stays.",),
    holds=(
        Holds("economy.BytesBalance", ("user_id",), ERASED,
              "The balance, streak and totals are deleted; leaderboards no longer show them."),
        Holds("economy.SquadMembership", ("user_id",), ERASED, "Squad membership is deleted."),
        Holds("economy.RoleRewardGrant", ("user_id",), ERASED, "The history of role rewards is deleted."),
        Holds("economy.BytesTransaction", ("giver_id", "giver_username", "receiver_id", "receiver_username", "reason"),
              ANONYMISED,
              "Transactions stay for the other member's ledger: the forgotten member's side points to one "
              "tombstone account ('a forgotten member', not the bank) and every free-text reason is removed. "
              "Transactions between two forgotten members are deleted."),
        Holds("economy.ModerationCase", ("user_id", "user_tag", "reason", "moderator_id", "moderator_tag"), KEPT,
              "Moderation cases about them are kept as a record that this Discord account was actioned (its id, "
              "the action and dates), with their name and the reason or message content removed. Cases they "
              "handled as a moderator are re-pointed to the tombstone account."),
    ),
    export=export,
    forget=forget,
    names=names,
)
