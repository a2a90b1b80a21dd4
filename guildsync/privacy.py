"""Guild sync's part of the privacy registry (core/privacy): the member's Discord user row,
their player, the identity-change trail and integrity findings about them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import Q

from core.privacy import ANONYMISED, ERASED, KEPT, AppPart, ForgetContext, Holds
from guildsync.models import (
    AuditIssue,
    BattlenetProof,
    DiscordUser,
    IdentityChange,
    Player,
    RankRoleMapping,
    RoleChange,
    RoleConnection,
    SyncLog,
    WowCharacter,
)


def names(member: int) -> set[str]:
    found: set[str] = set()
    for user in DiscordUser.objects.filter(discord_id=member).select_related("player"):
        found |= {user.username, user.display_name}
        player = getattr(user, "player", None)
        if player is not None:
            found.add(player.display_name)
    return found


def export(member: int) -> dict[str, Any]:
    user = DiscordUser.objects.filter(discord_id=member).first()
    player = Player.objects.filter(discord_user=user).first() if user else None
    return {
        "discord_member": {"username": user.username, "display_name": user.display_name,
                           "guild_roles": user.all_guild_roles, "joined_server_at":
                           user.joined_server_at.isoformat() if user.joined_server_at else None,
                           "in_server": user.is_present, "discord_language": user.locale} if user else None,
        "player": {"name": player.display_name, "notes": player.notes, "active": player.is_active,
                   "characters": [f"{link.character.character_name}-{link.character.realm_slug}"
                                  for link in player.character_links.select_related("character")]}
        if player else None,
        "battlenet_proofs": [{"character": str(proof.character), "battlenet_account_id": proof.battlenet_account_id,
                              "first_seen_at": proof.first_seen_at.isoformat(), "seen_at": proof.seen_at.isoformat()}
                             for proof in BattlenetProof.objects.filter(discord_user__discord_id=member)
                             .select_related("character")],
        "linked_roles": [{"values_pushed": c.pushed_values, "pushed_at": c.pushed_at.isoformat() if c.pushed_at
                          else None, "token_expires_at": c.expires_at.isoformat()}
                         for c in RoleConnection.objects.filter(discord_user__discord_id=member)],
    }


def _scrub_text_fields(queryset, fields: tuple[str, ...], ctx: ForgetContext) -> int:
    condition = Q()
    for field in fields:
        for term in ctx.needles.search_terms():
            condition |= Q(**{f"{field}__icontains": term})
    changed = 0
    for row in queryset.filter(condition).select_for_update(of=("self",)):
        values = {f: ctx.needles.json(getattr(row, f)) for f in fields}
        if any(values[f] != getattr(row, f) for f in fields):
            type(row).objects.filter(pk=row.pk).update(**values)
            changed += 1
    return changed


def forget(member: int, ctx: ForgetContext) -> dict[str, Any]:
    users = list(DiscordUser.objects.select_for_update().filter(discord_id=member))
    issues = role_changes = players = proofs = 0
    for user in users:
        proofs += BattlenetProof.objects.filter(discord_user=user).delete()[0]
        proofs += RoleConnection.objects.filter(discord_user=user).delete()[0]
        role_changes += RoleChange.objects.filter(discord_user=user).delete()[0]
        issues += AuditIssue.objects.filter(discord_user=user).delete()[0]
        players += Player.objects.filter(discord_user=user).update(discord_user=None)
        DiscordUser.objects.filter(pk=user.pk).update(
            discord_id=-user.pk, username=f"forgotten-{user.pk}", display_name="", highest_guild_role="",
            all_guild_roles=[], locale="", is_present=False, removed_at=user.removed_at or ctx.now)
    scrubbed = {
        "players": _scrub_text_fields(Player.objects.all(), ("display_name", "notes"), ctx),
        "identity_changes": _scrub_text_fields(IdentityChange.objects.all(), ("summary", "actor"), ctx),
        "integrity_findings": _scrub_text_fields(AuditIssue.objects.all(), ("summary", "details", "resolved_by", "resolution_note"), ctx),
        "character_notes": _scrub_text_fields(WowCharacter.objects.all(), ("addon_note", "addon_officer_note"), ctx),
        "sync_logs": _scrub_text_fields(SyncLog.objects.all(), ("triggered_by", "error"), ctx),
        "role_mappings": _scrub_text_fields(RankRoleMapping.objects.all(), ("updated_by",), ctx),
        "role_changes": _scrub_text_fields(RoleChange.objects.all(), ("applied_by", "outcome"), ctx),
    }
    return {ERASED: {"integrity_findings_about_them": issues, "planned_role_changes": role_changes,
                     "battlenet_proofs_and_linked_roles": proofs},
            ANONYMISED: {"discord_user_rows": len(users), "player_links": players, **scrubbed},
            KEPT: {}}


def retention(now: dt.datetime, dry_run: bool) -> dict[str, int]:
    """Members who left the server more than RETENTION_LEFT_MEMBER_DAYS ago are forgotten by
    the same path as a request (Discord's GUILD_MEMBER_REMOVE starts the clock, coming back
    stops it), each in its own transaction, each recorded as a privacy request."""
    from core.privacy.requests import process

    cutoff = now - dt.timedelta(days=settings.RETENTION_LEFT_MEMBER_DAYS)
    left = DiscordUser.objects.filter(is_present=False, removed_at__lt=cutoff, discord_id__gt=1)
    if dry_run:
        return {"members_who_left": left.count()}
    done = 0
    for discord_id in list(left.values_list("discord_id", flat=True)[:settings.RETENTION_BATCH_SIZE]):
        process(discord_id, kind="forget", source="retention", actor="retention",
                reason=f"left the server more than {settings.RETENTION_LEFT_MEMBER_DAYS} days ago")
        done += 1
    return {"members_who_left": done}


PART = AppPart(
    app="guildsync",
    retention=retention,
    retention_rules=("Members who left the server are forgotten (as if they had asked) RETENTION_LEFT_MEMBER_DAYS "
                     "days after leaving; coming back before stops the clock.",),
    order=40,  # before raids: both scrub texts by the names this part reads
    holds=(
        Holds("guildsync.DiscordUser", ("discord_id", "username", "display_name", "highest_guild_role",
                                        "all_guild_roles"), ANONYMISED,
              "Their Discord member row loses its id, names and roles ('forgotten-N'), so nothing pointing at it "
              "breaks."),
        Holds("guildsync.Player", ("display_name", "notes", "discord_user"), ANONYMISED,
              "Their player is unlinked from the Discord account and their names are removed from player names and "
              "notes. Characters (Blizzard's public data) and raid attendance stay with the player."),
        Holds("guildsync.IdentityChange", ("actor", "summary"), ANONYMISED,
              "The identity-change trail keeps what happened, with their id and names replaced."),
        Holds("guildsync.AuditIssue", ("summary", "details", "resolved_by", "resolution_note", "discord_user"), ERASED,
              "Integrity findings about their Discord account are deleted; others have their names replaced."),
        Holds("guildsync.BattlenetProof", ("discord_user", "battlenet_account_id"), ERASED,
              "Characters they proved with Battle.net: the proofs (and their Battle.net account id) are deleted; "
              "the character links stay with their player, like officers' links."),
        Holds("guildsync.RoleConnection", ("discord_user", "access_token", "pushed_values", "last_error"), ERASED,
              "Their Linked Roles connection (encrypted Discord token, values last pushed) is deleted."),
        Holds("guildsync.RoleChange", ("discord_user", "applied_by", "outcome"), ERASED,
              "Planned role changes for them are deleted."),
        Holds("guildsync.WowCharacter", ("addon_note", "addon_officer_note"), ANONYMISED,
              "Their names in the in-game guild notes stored here are replaced (the game keeps its own notes)."),
        Holds("guildsync.SyncLog", ("triggered_by", "error"), ANONYMISED, "An officer's id as a sync's trigger is replaced."),
        Holds("guildsync.RankRoleMapping", ("updated_by",), ANONYMISED, "An officer's id is replaced."),
    ),
    export=export,
    forget=forget,
    names=names,
)
