"""Discord server members → ``DiscordUser`` (seed Task 1).

Discord owns these rows: this module mirrors who is on the server and which guild-rank
roles they hold. It never touches player links; the identity engine does that.

Members are plain dicts (``member_from_api`` / ``member_from_gateway`` build them) so the
REST sync, the gateway events and the tests share one shape::

    {"discord_id": int, "username": str, "display_name": str, "roles": [role names],
     "joined_at": datetime | None}
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from core.reports import RunReport
from guildsync.models import DiscordUser
from guildsync.services.common import GuildSyncError, lock_for_update
from guildsync.services.ranks import RankRoles

SYNCED_FIELDS = ["username", "display_name", "highest_guild_role", "all_guild_roles", "joined_server_at",
                 "last_sync", "is_present", "removed_at"]


@dataclass
class DiscordSyncStats(RunReport):
    created: int = 0  # members new to the table
    updated: int = 0  # known members whose name, roles, join date or presence changed
    unchanged: int = 0  # known members listed again with nothing changed
    departed: int = 0  # members present before and missing from this list, marked gone
    returned: int = 0  # of ``updated``: members marked gone before, listed again


def _role_name(role: Any) -> str:
    if isinstance(role, str):
        return role
    if isinstance(role, Mapping):
        return str(role.get("name", ""))
    return str(getattr(role, "name", ""))


def _rank_roles() -> list[tuple[int, str]]:
    """(rank index, Discord role name) of every rank's roles, most senior first."""
    return RankRoles.load().most_senior_first()


def get_all_guild_roles(roles: Iterable[Any], rank_roles: list[tuple[int, str]] | None = None) -> list[str]:
    """The guild-rank roles among ``roles`` (names, dicts or discord.py Role objects),
    most senior first. Guild-rank roles are the role names officers list per rank
    (``GuildRankRole``, e.g. "Guild Leader" and "GM"); the comparison ignores case because
    officers retype role names by hand."""
    rank_roles = rank_roles if rank_roles is not None else _rank_roles()
    held = {_role_name(r).strip().casefold() for r in roles}
    return [name for _index, name in rank_roles if name.casefold() in held]


def get_highest_guild_role(roles: Iterable[Any], rank_roles: list[tuple[int, str]] | None = None) -> str:
    """The most senior guild-rank role among ``roles``, or "" when there is none."""
    found = get_all_guild_roles(roles, rank_roles)
    return found[0] if found else ""


def member_from_api(member: Mapping[str, Any], role_names: Mapping[int, str]) -> dict[str, Any]:
    """A member object of ``GET /guilds/{id}/members`` (roles as ids) → member dict."""
    user = member["user"]
    joined = member.get("joined_at")
    return {
        "discord_id": int(user["id"]),
        "username": user.get("username") or "",
        "display_name": member.get("nick") or user.get("global_name") or user.get("username") or "",
        "roles": [role_names[int(r)] for r in member.get("roles", []) if int(r) in role_names],
        "joined_at": parse_datetime(joined) if isinstance(joined, str) else joined,
        "bot": bool(user.get("bot")),
    }


def member_from_gateway(member: Any) -> dict[str, Any]:
    """A discord.py ``Member`` (gateway event) → member dict."""
    return {
        "discord_id": int(member.id),
        "username": member.name,
        "display_name": getattr(member, "display_name", "") or member.name,
        "roles": [r.name for r in getattr(member, "roles", [])],
        "joined_at": getattr(member, "joined_at", None),
        "bot": bool(getattr(member, "bot", False)),
    }


def _validate(member: Mapping[str, Any]) -> None:
    try:
        ok = int(member["discord_id"]) > 0 and isinstance(member.get("username"), str) and member["username"]
    except (KeyError, TypeError, ValueError):
        ok = False
    if not ok:
        raise GuildSyncError(_("A Discord member needs a discord_id and a username (got %(member)s).")
                             % {"member": f"{dict(member)!r:.200}"})


def _values(member: Mapping[str, Any], rank_roles: list[tuple[int, str]], now: dt.datetime) -> dict[str, Any]:
    roles = get_all_guild_roles(member.get("roles") or [], rank_roles)
    return {
        "username": member["username"][:64],
        "display_name": (member.get("display_name") or "")[:64],
        "highest_guild_role": roles[0] if roles else "",
        "all_guild_roles": roles,
        "joined_server_at": member.get("joined_at"),
        "last_sync": now,
        "is_present": True,
        "removed_at": None,
    }


def sync_discord_members(members: Iterable[Mapping[str, Any]], *, complete: bool = True) -> DiscordSyncStats:
    """Mirror the member list: upsert everyone listed and, when the list is ``complete`` (the
    REST sync's), mark everyone else departed. The gateway's list at start-up
    (``on_server_seen``) is upserted without departures: a reconnect must never mark members
    gone on the strength of a partial list.

    The diff is computed in memory against one read of the table, then applied with bulk
    writes, so a 5,000-member server costs a handful of queries, not one per member.
    """
    members = [m for m in members if not m.get("bot")]
    for member in members:
        _validate(member)
    now = timezone.now()
    stats = DiscordSyncStats()
    with transaction.atomic():
        lock_for_update("discord")  # full syncs and gateway events never interleave
        rank_roles = _rank_roles()
        existing = {u.discord_id: u for u in DiscordUser.objects.all()}
        to_create, to_update, seen = [], [], set()
        for member in members:
            discord_id = int(member["discord_id"])
            if discord_id in seen:
                continue
            seen.add(discord_id)
            values = _values(member, rank_roles, now)
            user = existing.get(discord_id)
            if user is None:
                to_create.append(DiscordUser(discord_id=discord_id, **values))
                stats.created += 1
                continue
            if not user.is_present:
                stats.returned += 1
            changed = any(getattr(user, k) != v for k, v in values.items() if k != "last_sync")
            for key, value in values.items():
                setattr(user, key, value)
            to_update.append(user)
            if changed:
                stats.updated += 1
            else:
                stats.unchanged += 1
        departed = [u for d, u in existing.items() if d not in seen and u.is_present] if complete else []
        for user in departed:
            user.is_present = False
            user.removed_at = now
        stats.departed = len(departed)
        DiscordUser.objects.bulk_create(to_create, batch_size=1000)
        DiscordUser.objects.bulk_update(to_update + departed, SYNCED_FIELDS, batch_size=1000)
    return stats


def on_server_seen(server: Mapping[str, Any]) -> DiscordSyncStats | None:
    """The bot saw its server (GUILD_CREATE at start-up or on joining, after discord.py fetched
    the member chunks): the server's name, its channels' and roles' names
    (``directory.record_server``) and its members' names and guild roles, in one transaction,
    so admin pages show names on a real install from the bot's first minute. ``server`` is
    ``{"id", "name", "channels": [{"id", "name"}], "roles": [...], "members": [member dicts] or
    None}`` (``None`` when discord.py could not list every member: then no member is written)."""
    from guildsync.services import directory

    with transaction.atomic():
        directory.record_server(server["id"], server.get("name") or "", channels=server.get("channels") or (),
                                roles=server.get("roles") or ())
        members = server.get("members")
        return None if members is None else sync_discord_members(members, complete=False)


def _upsert_one(member: Mapping[str, Any]) -> DiscordUser:
    _validate(member)
    with transaction.atomic():
        lock_for_update("discord")
        values = _values(member, _rank_roles(), timezone.now())
        user, _created = DiscordUser.objects.update_or_create(discord_id=int(member["discord_id"]), defaults=values)
    return user


def on_member_join(member: Mapping[str, Any]) -> DiscordUser:
    """A member joined (or came back): present again, roles as they are now; matching runs
    for them within a minute (debounced: ``arrivals.request_matching``)."""
    from guildsync.services.arrivals import request_matching

    user = _upsert_one(member)
    request_matching()
    return user


def on_member_update(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> DiscordUser:
    """Nickname or roles changed. ``before`` is accepted for the gateway's signature only:
    the row is rewritten from ``after``, which is idempotent when events are replayed. A
    changed name asks for a matching run (debounced), as a new member does."""
    from guildsync.services.arrivals import request_matching

    renamed = before is None or (before.get("username"), before.get("display_name")) != (
        after.get("username"), after.get("display_name"))
    user = _upsert_one(after)
    if renamed:
        request_matching()
    return user


def on_member_remove(member: Mapping[str, Any] | int) -> int:
    """A member left: kept (their history matters) but no longer present. Returns rows changed."""
    discord_id = int(member if isinstance(member, int) else member["discord_id"])
    with transaction.atomic():
        lock_for_update("discord")
        return DiscordUser.objects.filter(discord_id=discord_id, is_present=True).update(
            is_present=False, removed_at=timezone.now()
        )


@dataclass
class RoleSyncStats(RunReport):
    created: int = 0  # roles new to the table
    updated: int = 0  # known roles whose name, position, managed flag or presence changed
    deleted: int = 0  # roles present before and missing from this list, marked not present
    renamed_rank_roles: list[str] = field(default_factory=list)  # "old → new": a rank's role name followed


def sync_discord_roles(roles: Iterable[Mapping[str, Any]]) -> RoleSyncStats:
    """The server's roles (``GET /guilds/{id}/roles``: role objects with ``id``, ``name``,
    ``position``, ``managed``) → ``DiscordRole`` rows, the list officers map guild ranks to.
    A role gone from the list is kept (plans point at it) but marked deleted. When Discord
    renamed a mapped role, the rank's role name (``GuildRankRole``) follows, so the member
    sync that comes next still counts it for the rank."""
    from guildsync.models import DiscordRole, GuildRankRole, RankRoleMapping

    now = timezone.now()
    stats = RoleSyncStats()
    with transaction.atomic():
        lock_for_update("discord")
        existing = {r.discord_id: r for r in DiscordRole.objects.all()}
        mapped = dict(RankRoleMapping.objects.values_list("role_id", "rank_id"))
        to_create, to_update, seen = [], [], set()
        for role in roles:
            discord_id = int(role["id"])
            seen.add(discord_id)
            values = {"name": str(role.get("name") or "")[:100], "position": int(role.get("position") or 0),
                      "managed": bool(role.get("managed")), "is_present": True, "last_sync": now}
            row = existing.get(discord_id)
            if row is None:
                to_create.append(DiscordRole(discord_id=discord_id, **values))
                continue
            if (row.name != values["name"] and row.pk in mapped
                    and not GuildRankRole.objects.filter(role_name__iexact=values["name"]).exists()):
                GuildRankRole.objects.filter(rank_id=mapped[row.pk], role_name__iexact=row.name).update(
                    role_name=values["name"])
                stats.renamed_rank_roles.append(f"{row.name} → {values['name']}")
            if any(getattr(row, k) != v for k, v in values.items() if k != "last_sync"):
                stats.updated += 1
            for key, value in values.items():
                setattr(row, key, value)
            to_update.append(row)
        gone = [r for d, r in existing.items() if d not in seen and r.is_present]
        for row in gone:
            row.is_present = False
        stats.created, stats.deleted = len(to_create), len(gone)
        DiscordRole.objects.bulk_create(to_create)
        DiscordRole.objects.bulk_update(to_update + gone, ["name", "position", "managed", "is_present", "last_sync"])
    return stats
