"""Guild ranks provisioned as Discord roles (issue #14, point 3): opt-in per rank.

Officers map a guild rank to a Discord role (``RankRoleMapping``: off, planned or automatic).
After each integrity run every open ``rank_mismatch`` on a mapped rank becomes planned role
changes (``RoleChange``, one row per issue and role: a database constraint, so re-running the
check adds nothing): add the rank's role, remove the *other mapped* roles the member holds.
Roles no active mapping names are never touched. The plan is a pure diff
(``diff_member_roles``), computed in memory, then written.

Applying (an officer's admin action, or the integrity run itself for automatic mappings)
turns ``planned`` into ``queued`` with one conditional UPDATE per row and queues the outbox
``ADD_ROLE``/``REMOVE_ROLE`` row in the same transaction, under a dedupe key per change: two
officers or workers applying at once queue each change once. Delivery reports back through
``bot.signals`` (``record_delivery``): done, skipped (Discord 10007 Unknown Member: the member
left; never retried) or failed with Discord's reason (e.g. 50013 Missing Permissions). The
issue itself closes (resolution ``auto``) when the next Discord sync sees the right roles:
``pipeline.run_discord_sync`` runs the integrity check after the member sync.

A change's ``outcome`` is stored: it is written in the language active then (the officer's
when applied from the admin; English from the workers and the outbox's delivery).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bot import outbox
from bot.models import OutboxMessage
from core.reports import RunReport
from guildsync.models import AuditIssue, DiscordRole, GuildRank, GuildRankRole, RankRoleMapping, RoleChange
from guildsync.services.common import GuildSyncError

log = logging.getLogger(__name__)
Mode = RankRoleMapping.Mode
Status = RoleChange.Status
Action = RoleChange.Action
TOPIC = "guildsync.rank_role"
AUTOMATIC_ACTOR = "automatic"
UNKNOWN_MEMBER = 10007  # Discord's JSON error code: the member is not on the server (left)
MISSING_PERMISSIONS = 50013


# -- the pure diff -----------------------------------------------------------------------------
@dataclass(frozen=True)
class RoleDiff:
    add: tuple[int, ...] = ()
    remove: tuple[int, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.add or self.remove)


def diff_member_roles(held: Iterable[str], target: int, mapped: Mapping[int, str]) -> RoleDiff:
    """What to change so a member holds ``target`` and no other mapped role.

    ``held``: the role names the member holds (the Discord sync's ``all_guild_roles``);
    ``mapped``: role key → name of every active mapping (``target`` among them). Names compare
    ignoring case, as the rank checks do. Roles outside ``mapped`` are never in the answer."""
    folded = {name.strip().casefold() for name in held}
    add = () if mapped[target].strip().casefold() in folded else (target,)
    remove = tuple(sorted(key for key, name in mapped.items()
                          if key != target and name.strip().casefold() in folded))
    return RoleDiff(add, remove)


# -- mappings (officers) -----------------------------------------------------------------------
def save_rank_role_mapping(rank_id: int, role_id: int, mode: str, *, actor: str,
                           mapping_id: int | None = None) -> RankRoleMapping:
    """An officer maps a guild rank to a Discord role (by the role's row from the Discord
    sync) and chooses off / planned / automatic. The role's name is added to the rank's
    Discord role names (``GuildRankRole``) so the rank checks and the Discord sync count it
    for this rank; a name that already counts for another rank is refused."""
    if mode not in Mode.values:
        raise GuildSyncError(_("Unknown mode %(mode)s: choose off, planned or automatic.") % {"mode": repr(mode)})
    if not actor:
        raise GuildSyncError(_("Say who changes the mapping."))
    try:
        with transaction.atomic():
            rank = GuildRank.objects.select_for_update().filter(pk=rank_id).first()
            role = DiscordRole.objects.filter(pk=role_id).first()
            if rank is None or role is None:
                raise GuildSyncError(_("This rank or Discord role no longer exists."))
            if not role.is_present:
                raise GuildSyncError(_("The role '%(role)s' was deleted in Discord.") % {"role": role.name})
            if role.managed or role.discord_id == settings.DISCORD_GUILD_ID:
                raise GuildSyncError(_("Discord does not let anyone hand out the role '%(role)s' (@everyone or an "
                                       "integration's role).") % {"role": role.name})
            taken = (RankRoleMapping.objects.exclude(pk=mapping_id).filter(role=role).select_related("rank").first()
                     or RankRoleMapping.objects.exclude(pk=mapping_id).filter(rank=rank).select_related("role").first())
            if taken is not None and taken.role_id == role.pk:
                raise GuildSyncError(_("The role '%(role)s' is already mapped to %(rank)s.")
                                     % {"role": role.name, "rank": taken.rank.name})
            if taken is not None:
                raise GuildSyncError(_("%(rank)s is already mapped to %(role)s: edit that mapping.")
                                     % {"rank": rank.name, "role": taken.role.name})
            other = (GuildRankRole.objects.filter(role_name__iexact=role.name).exclude(rank=rank)
                     .select_related("rank").first())
            if other is not None:
                raise GuildSyncError(_("The Discord role '%(role)s' counts as %(rank)s (that rank's Discord roles): "
                                       "remove it there first.") % {"role": role.name, "rank": other.rank.name})
            if not GuildRankRole.objects.filter(rank=rank, role_name__iexact=role.name).exists():
                GuildRankRole.objects.create(rank=rank, role_name=role.name)
            mapping = RankRoleMapping.objects.filter(pk=mapping_id).first() if mapping_id else None
            mapping = mapping or RankRoleMapping()
            mapping.rank, mapping.role, mapping.mode, mapping.updated_by = rank, role, mode, actor[:150]
            mapping.save()
    except IntegrityError as exc:  # another officer mapped the rank or the role just now
        raise GuildSyncError(_("Mapping not saved: another officer mapped this rank or role just now.")) from exc
    return mapping


def delete_rank_role_mapping(mapping_id: int) -> None:
    """Stop managing a rank's role: its planned changes stay for the record but are skipped
    if applied (the role's name keeps counting for the rank until an officer removes it)."""
    with transaction.atomic():
        RankRoleMapping.objects.filter(pk=mapping_id).delete()


# -- planning (after each integrity run) -------------------------------------------------------
@dataclass
class PlanResult(RunReport):
    planned: int = 0  # role changes newly planned for open rank mismatches on mapped ranks
    queued: int = 0  # planned changes of automatic mappings queued in the outbox
    dropped: int = 0  # planned changes whose issue closed before anyone applied them


def plan_role_changes() -> PlanResult:
    """Turn every open ``rank_mismatch`` on an actively mapped rank into planned changes, then
    queue those of automatic mappings. Call inside the integrity run's transaction."""
    now = timezone.now()
    result = PlanResult()
    mappings = {m.rank.blizzard_rank_index: m for m in
                RankRoleMapping.objects.exclude(mode=Mode.OFF).select_related("rank", "role")}
    mapped = {m.role_id: m.role.name for m in mappings.values()}
    rows = []
    issues = (AuditIssue.objects.filter(issue_type=AuditIssue.IssueType.RANK_MISMATCH, resolved_at__isnull=True,
                                        discord_user__isnull=False).select_related("discord_user"))
    for issue in issues if mappings else ():
        mapping = mappings.get(issue.details.get("rank_index"))
        if mapping is None:
            continue
        diff = diff_member_roles(issue.discord_user.all_guild_roles or [], mapping.role_id, mapped)
        for role_id, action in [(r, Action.ADD) for r in diff.add] + [(r, Action.REMOVE) for r in diff.remove]:
            rows.append(RoleChange(issue=issue, discord_user=issue.discord_user, rank=mapping.rank, role_id=role_id,
                                   action=action))
    if rows:
        existing = set(RoleChange.objects.filter(issue__in={r.issue_id for r in rows})
                       .values_list("issue_id", "role_id"))
        fresh = [r for r in rows if (r.issue_id, r.role_id) not in existing]
        RoleChange.objects.bulk_create(fresh, ignore_conflicts=True)  # the constraint has the last word
        result.planned = len(fresh)
    result.dropped = RoleChange.objects.filter(status=Status.PLANNED, issue__resolved_at__isnull=False).update(
        status=Status.SKIPPED, finished_at=now, outcome=_("Not applied: the mismatch was gone first."))
    automatic = list(RoleChange.objects.filter(status=Status.PLANNED,
                                               rank__role_mapping__mode=Mode.AUTOMATIC).values_list("pk", flat=True))
    if automatic:
        if settings.DISCORD_GUILD_ID:
            result.queued = sum(1 for a in apply_role_changes(automatic, actor=AUTOMATIC_ACTOR) if a.queued)
        else:
            log.warning("guildsync: %d automatic role change(s) wait: DISCORD_GUILD_ID is not set", len(automatic))
    return result


# -- applying (officers' action, automatic mappings) -------------------------------------------
@dataclass
class Applied:
    change: RoleChange
    status: str
    message: str
    queued: bool = False


def _skip_reason(change: RoleChange) -> str:
    if not change.discord_user.is_present:
        return _("Skipped: the member left the Discord server.")
    if change.issue.resolved_at is not None:
        return _("Skipped: the mismatch is gone (issue closed).")
    mapping = getattr(change.rank, "role_mapping", None)
    if mapping is None or mapping.mode == Mode.OFF:
        return _("Skipped: %(rank)s is no longer mapped to a Discord role.") % {"rank": change.rank.name}
    if change.action == Action.ADD and mapping.role_id != change.role_id:
        return _("Skipped: %(rank)s is now mapped to another role (the next integrity run plans it).") % {
            "rank": change.rank.name}
    if not change.role.is_present:
        return _("Skipped: the role %(role)s was deleted in Discord.") % {"role": change.role.name}
    return ""


def apply_role_changes(change_ids: Iterable[int], *, actor: str) -> list[Applied]:
    """Queue the planned changes ``change_ids`` through the outbox, in one transaction. Each
    row moves planned → queued with a conditional UPDATE (a concurrent apply waits for the row
    and then finds it queued: it queues nothing) and its outbox row carries the dedupe key
    ``guildsync:rolechange:<id>``. A member who left is skipped and recorded as such."""
    if not actor:
        raise GuildSyncError(_("Say who applies the role changes."))
    guild_id = settings.DISCORD_GUILD_ID
    if not guild_id:
        raise GuildSyncError(_("DISCORD_GUILD_ID is not set: there is no server to change roles in."))
    now = timezone.now()
    done: list[Applied] = []
    with transaction.atomic():
        changes = (RoleChange.objects.filter(pk__in=list(change_ids))
                   .select_related("discord_user", "role", "issue", "rank", "rank__role_mapping").order_by("pk"))
        for change in changes:
            label = f"{change.get_action_display()} {change.role.name} → {change.discord_user}"
            if change.status != Status.PLANNED:
                done.append(Applied(change, change.status, _("%(change)s: already %(status)s.") % {
                    "change": label, "status": change.get_status_display().lower()}))
                continue
            reason = _skip_reason(change)
            fields = {"applied_by": actor[:150], "applied_at": now}
            if reason:
                won = RoleChange.objects.filter(pk=change.pk, status=Status.PLANNED).update(
                    status=Status.SKIPPED, outcome=reason, finished_at=now, **fields)
                done.append(Applied(change, Status.SKIPPED if won else change.status,
                                    f"{label}: {reason}" if won else _("%(change)s: applied by someone else just now.")
                                    % {"change": label}))
                continue
            won = RoleChange.objects.filter(pk=change.pk, status=Status.PLANNED).update(
                status=Status.QUEUED, outcome=_("Queued for Discord."), **fields)
            if not won:
                done.append(Applied(change, change.status, _("%(change)s: applied by someone else just now.")
                                    % {"change": label}))
                continue
            queue = outbox.add_role if change.action == Action.ADD else outbox.remove_role
            message = queue(guild_id, change.discord_user.discord_id, change.role.discord_id,
                            reason=f"Guild rank {change.rank.name} (applied by {actor})"[:512],
                            dedupe_key=f"guildsync:rolechange:{change.pk}", topic=TOPIC)
            RoleChange.objects.filter(pk=change.pk).update(outbox=message)
            done.append(Applied(change, Status.QUEUED, _("%(change)s: queued.") % {"change": label}, queued=True))
    return done


# -- delivery outcomes (bot.signals) -----------------------------------------------------------
def record_delivery(message: OutboxMessage, *, sent: bool) -> int:
    """The outbox delivered (or gave up on) a change's Discord call: record it on the change.
    Runs inside the transaction that records the outbox row's outcome."""
    now = timezone.now()
    queued = RoleChange.objects.filter(outbox_id=message.pk, status=Status.QUEUED)
    if sent:
        return queued.update(status=Status.DONE, finished_at=now, outcome=_("Done in Discord."))
    if message.last_error_code == UNKNOWN_MEMBER:
        return queued.update(status=Status.SKIPPED, finished_at=now,
                             outcome=_("Skipped: the member left the server (Discord 10007 Unknown Member)."))
    why = message.last_error or _("Discord refused it")
    if message.last_error_code == MISSING_PERMISSIONS:
        why = _("%(error)s (50013): the bot needs Manage Roles and its own role above this one "
                "(Server Settings → Roles).") % {"error": why}
    return queued.update(status=Status.FAILED, finished_at=now, outcome=(_("Failed: %(error)s") % {"error": why})[:255])

