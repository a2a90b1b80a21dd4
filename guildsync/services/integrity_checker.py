"""Integrity checks over characters, Discord users and players (seed Task 4).

Checks: ``orphan_wow`` (a character in the guild in no player), ``orphan_discord`` (a
Discord user with a guild-rank role in no player), ``rank_mismatch`` (a player's most senior
in-game rank vs. their highest Discord guild role; any of the rank's ``GuildRankRole`` names counts),
``stale_character`` (no API sync for ``GUILDSYNC_STALE_DAYS`` days, default 30),
``battlenet_conflict`` (a member's Battle.net account lists a character an officer, or another
member's proof, linked to someone else: ``services/battlenet.py`` never overwrites such a link).

``duplicate_discord`` (several players with one Discord user) is not a check here: the
database cannot hold that state (``Player.discord_user`` is one-to-one).

Each condition has a hash (type + the ids and values that define it). A run:
- keeps one open issue per hash (the database refuses a second) and refreshes ``last_seen``;
- does not re-open a hash an officer resolved or dismissed while the condition persists;
  once the condition disappears (``condition_cleared_at``) and comes back, it is new again;
- closes open issues whose condition disappeared (``resolution = auto``);
- plans Discord role changes for open ``rank_mismatch`` issues of mapped ranks
  (``role_plans.plan_role_changes``; automatic mappings are queued in the same transaction).

An officer's change that removes a condition closes its issue at once, in the change's
transaction (``close_fixed``: resolution ``fixed``, who and what), instead of leaving it open
until the next run: linking a character to a player (``identity_links.link_character``, from
the issue page, the character page, the bulk action or the API) and linking a Discord member
to a player (``identity_links.link_discord_user``). ``fix_issue`` is the issue page's action.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Min, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.reports import RunReport
from guildsync.issue_text import summary_text
from guildsync.models import AuditIssue, BattlenetProof, DiscordUser, GuildRank, Player, WowCharacter
from guildsync.services import linked_roles, role_plans
from guildsync.services.common import GuildSyncError, lock_for_update

Severity = AuditIssue.Severity
Resolution = AuditIssue.Resolution
CHECKS = ("orphan_wow", "orphan_discord", "rank_mismatch", "stale_character", "battlenet_conflict")

# What an officer does about each type, in the issue page's words.
HOW_TO_FIX = {
    "orphan_wow": gettext_lazy("Link the character to the player who plays it (Fix this issue). Matching links it "
                               "by itself when a guild note names the player's Discord account."),
    "orphan_discord": gettext_lazy("Link the member to the player they are (Fix this issue), or link one of their "
                                   "characters to them from the character's page."),
    "rank_mismatch": gettext_lazy("Apply the planned Discord role changes listed below (Discord role changes), or "
                                  "change the in-game rank; the issue closes itself at the next check once both "
                                  "agree."),
    "stale_character": gettext_lazy("Nothing to link: Blizzard has not returned this character lately (renamed, "
                                    "moved or deleted?). Dismiss the issue if the character is gone for good."),
    "battlenet_conflict": gettext_lazy("If the Battle.net account is right, link the character to the player of the "
                                       "member who proved it (Fix this issue); if the officer's link is right, "
                                       "dismiss the issue."),
}
FIXABLE = ("orphan_wow", "orphan_discord", "battlenet_conflict")


def stale_days() -> int:
    """Days without an API sync before a character is ``stale_character`` (``GUILDSYNC_STALE_DAYS``)."""
    return int(settings.GUILDSYNC_STALE_DAYS)


def issue_hash(issue_type: str, *parts: Any) -> str:
    return hashlib.sha256(":".join([issue_type, *map(str, parts)]).encode()).hexdigest()


@dataclass
class Finding:
    issue_type: str
    hash: str
    summary: str
    severity: str = Severity.WARNING
    wow_character_id: int | None = None
    discord_user_id: int | None = None
    player_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class IntegrityResult(RunReport):
    found: dict[str, int] = field(default_factory=dict)  # findings of this run by check
    new: int = 0  # findings that opened a new issue
    still_open: int = 0  # findings whose issue was open already
    suppressed: int = 0  # findings an officer closed before whose condition never cleared: kept quiet
    auto_closed: int = 0  # open issues no longer found, closed automatically
    role_changes: dict[str, int] = field(default_factory=dict)  # PlanResult.as_dict of the role plan


def _finding(issue_type: str, hash_: str, **fields: Any) -> Finding:
    """A finding whose stored summary is rendered from its details, in English (the language of
    the stored summaries, whatever language the run that found it was started in)."""
    with translation.override("en"):
        summary = summary_text(issue_type, fields.get("details"))
    return Finding(issue_type, hash_, summary, **fields)


def find_orphan_wow() -> list[Finding]:
    rows = WowCharacter.objects.filter(removed_at__isnull=True, player_link__isnull=True).values_list(
        "id", "character_name", "realm_slug", "guild_rank__name")
    return [_finding("orphan_wow", issue_hash("orphan_wow", cid), wow_character_id=cid,
                     details={"character": f"{name}-{realm}", "rank": rank})
            for cid, name, realm, rank in rows]


def find_orphan_discord() -> list[Finding]:
    rows = DiscordUser.objects.filter(is_present=True, player__isnull=True).exclude(
        highest_guild_role="").values_list("id", "discord_id", "username", "display_name", "highest_guild_role")
    return [_finding("orphan_discord", issue_hash("orphan_discord", uid), discord_user_id=uid,
                     details={"discord_id": str(did), "username": username, "role": role,
                              "name": display or username})
            for uid, did, username, display, role in rows]


def find_rank_mismatches() -> list[Finding]:
    """Players whose most senior in-game rank (lowest rank index) is not matched by their
    highest Discord guild role. Any of the rank's role names counts (``GuildRankRole``: the
    Guild Leader's role may be "GM"); a rank with no role names expects nothing."""
    ranks = {r.blizzard_rank_index: r for r in GuildRank.objects.prefetch_related("discord_roles")}
    players = (Player.objects.filter(discord_user__is_present=True,
                                     character_links__character__removed_at__isnull=True,
                                     character_links__character__guild_rank__isnull=False)
               .annotate(top_index=Min("character_links__character__guild_rank__blizzard_rank_index"))
               .values_list("id", "display_name", "discord_user_id", "discord_user__discord_id",
                            "discord_user__highest_guild_role", "top_index"))
    found = []
    for pid, name, uid, snowflake, discord_role, index in players:
        rank = ranks.get(index)
        accepted = [r.role_name for r in rank.discord_roles.all()] if rank else []
        if not accepted:
            continue
        if (discord_role or "").casefold() in {r.casefold() for r in accepted}:
            continue
        found.append(_finding(
            "rank_mismatch", issue_hash("rank_mismatch", pid, rank.pk, (discord_role or "").casefold()),
            player_id=pid, discord_user_id=uid,
            details={"ingame_rank": rank.name, "rank_index": index, "expected_role": accepted[0],
                     "accepted_roles": accepted, "discord_role": discord_role, "discord_id": str(snowflake),
                     "player": name}))
    return found


def find_stale_characters(days: int | None = None) -> list[Finding]:
    days = stale_days() if days is None else days
    cutoff = timezone.now() - timedelta(days=days)
    rows = WowCharacter.objects.filter(removed_at__isnull=True, last_api_sync__lt=cutoff).values_list(
        "id", "character_name", "realm_slug", "last_api_sync", "player_link__player_id")
    return [_finding("stale_character", issue_hash("stale_character", cid), severity=Severity.INFO,
                     wow_character_id=cid, player_id=pid,
                     details={"last_api_sync": last.isoformat(), "days": days, "character": f"{name}-{realm}"})
            for cid, name, realm, last, pid in rows]


def conflict_finding(proof_id: int, character: WowCharacter, member: DiscordUser, holder: Player,
                     source: str) -> Finding:
    """A Battle.net proof that disagrees with the character's link (hash: character and prover)."""
    kind = AuditIssue.IssueType.BATTLENET_CONFLICT
    return _finding(
        kind, issue_hash(kind, character.pk, member.pk),
        wow_character_id=character.pk, discord_user_id=member.pk, player_id=holder.pk,
        details={"character": str(character), "proven_by": str(member), "linked_to": str(holder),
                 "link_source": source, "proof": proof_id})


def find_battlenet_conflicts() -> list[Finding]:
    """Every proof whose character is linked to a player other than the prover's."""
    proofs = (BattlenetProof.objects.filter(character__player_link__isnull=False)
              .select_related("character__player_link__player", "discord_user"))
    found = []
    for proof in proofs:
        link = proof.character.player_link
        if link.player.discord_user_id != proof.discord_user_id:
            found.append(conflict_finding(proof.pk, proof.character, proof.discord_user, link.player,
                                          link.link_source))
    return found


def run_integrity_check(*, stale_after_days: int | None = None) -> IntegrityResult:
    """Run every check, open new issues, refresh open ones, close vanished ones."""
    if stale_after_days is not None and stale_after_days < 1:
        raise GuildSyncError(_("Stale days must be at least 1."))
    now = timezone.now()
    result = IntegrityResult()
    with transaction.atomic():
        lock_for_update("integrity")
        findings = (find_orphan_wow() + find_orphan_discord() + find_rank_mismatches()
                    + find_stale_characters(stale_after_days) + find_battlenet_conflicts())
        by_hash = {f.hash: f for f in findings}
        for check in CHECKS:
            result.found[check] = sum(1 for f in findings if f.issue_type == check)
        open_issues = {i.issue_hash: i for i in AuditIssue.objects.filter(resolved_at__isnull=True)}
        # officer-closed hashes whose condition has not gone away since: stay quiet
        quiet = set(AuditIssue.objects.filter(
            issue_hash__in=list(by_hash), resolution__in=[Resolution.RESOLVED, Resolution.DISMISSED],
            condition_cleared_at__isnull=True).values_list("issue_hash", flat=True))
        to_create = []
        for h, finding in by_hash.items():
            if h in open_issues:
                result.still_open += 1
            elif h in quiet:
                result.suppressed += 1
            else:
                to_create.append(AuditIssue(
                    issue_type=finding.issue_type, severity=finding.severity, summary=finding.summary[:255],
                    details=finding.details, issue_hash=h, last_seen=now,
                    wow_character_id=finding.wow_character_id, discord_user_id=finding.discord_user_id,
                    player_id=finding.player_id))
        AuditIssue.objects.filter(resolved_at__isnull=True, issue_hash__in=list(by_hash)).update(last_seen=now)
        AuditIssue.objects.bulk_create(to_create, batch_size=1000)
        result.new = len(to_create)
        vanished = [h for h in open_issues if h not in by_hash]
        result.auto_closed = AuditIssue.objects.filter(resolved_at__isnull=True, issue_hash__in=vanished).update(
            resolved_at=now, resolved_by="auto", resolution=Resolution.AUTO, condition_cleared_at=now)
        AuditIssue.objects.filter(~Q(issue_hash__in=list(by_hash)), resolution__in=[
            Resolution.RESOLVED, Resolution.DISMISSED], condition_cleared_at__isnull=True).update(
            condition_cleared_at=now)
        # mapped ranks: open mismatches become planned role changes (automatic ones queued)
        result.role_changes = role_plans.plan_role_changes().as_dict()
        linked_roles.queue_changed()  # ranks and links a sync changed: Linked Roles values follow
    return result


def close_issues(issue_ids: list[int], resolution: str, actor: str) -> int:
    """An officer resolves or dismisses issues. Already closed ones are left as they are."""
    if resolution not in (Resolution.RESOLVED, Resolution.DISMISSED):
        raise GuildSyncError(_("Issues are closed as resolved or dismissed."))
    if not actor:
        raise GuildSyncError(_("Say who closes the issues."))
    with transaction.atomic():
        return AuditIssue.objects.filter(pk__in=issue_ids, resolved_at__isnull=True).update(
            resolved_at=timezone.now(), resolved_by=actor[:150], resolution=resolution)


def close_fixed(*, actor: str, note: str, character_ids: list[int] = (), discord_user_ids: list[int] = ()) -> int:
    """Close the open issues an officer's change has just fixed (in the caller's transaction):
    ``orphan_wow`` of these characters once they are linked to a player, ``orphan_discord`` of
    these Discord users once they belong to a player. The condition is gone, so the same
    condition coming back later opens a new issue. Returns the issues closed."""
    now = timezone.now()
    fixed = Q(pk__in=[])
    if character_ids:
        fixed |= Q(issue_type="orphan_wow", wow_character_id__in=list(character_ids),
                   wow_character__player_link__isnull=False)
        fixed |= Q(issue_type="battlenet_conflict", wow_character_id__in=list(character_ids),
                   wow_character__player_link__player__discord_user_id=F("discord_user_id"))
    if discord_user_ids:
        fixed |= Q(issue_type="orphan_discord", discord_user_id__in=list(discord_user_ids),
                   discord_user__player__isnull=False)
    ids = list(AuditIssue.objects.filter(fixed, resolved_at__isnull=True).values_list("pk", flat=True))
    return AuditIssue.objects.filter(pk__in=ids).update(
        resolved_at=now, resolved_by=actor[:150], resolution=Resolution.FIXED, resolution_note=note[:255],
        condition_cleared_at=now)
