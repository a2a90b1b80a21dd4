"""The rest of the directory: servers, channels and roles by name (members: ``members.py``).

Every app stores Discord servers, channels and roles as bare snowflakes (a balance's guild, an
Ark alliance's channels, a role reward). The bot records their names as it sees them:
GUILD_CREATE at start-up and GUILD_UPDATE (``record_server`` with the server's channels and
roles; ``discord_sync.on_server_seen`` adds the members), CHANNEL_CREATE/UPDATE
(``record_channels``), CHANNEL_DELETE (``record_channel_deleted``); the Discord role sync keeps
roles. The listeners are in ``guildsync/discord_commands.py``. The
admin reads them through ``name_expression`` (an annotation, one query for a whole page) or
``labels_for`` (one query per kind for a set of ids), never one query per row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.db.models import CharField, F, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, NullIf

from guildsync.models import DiscordChannel, DiscordRole, DiscordServer, DiscordUser

NAME_LENGTH = DiscordServer._meta.get_field("name").max_length
KINDS = ("member", "server", "channel", "role")


def _clean(text: Any) -> str:
    return " ".join(str(text or "").split())[:NAME_LENGTH]


def record_server(server_id: int, name: str, *, channels: Iterable[Mapping[str, Any]] = (),
                  roles: Iterable[Mapping[str, Any]] = ()) -> bool:
    """Remember a server's name, and the names of the channels and roles it lists (a
    GUILD_CREATE / GUILD_UPDATE payload's ``channels`` and ``roles``: ``{"id", "name"}``).
    Writes only what changed. Returns whether the server row was written."""
    server_id, name = int(server_id), _clean(name)
    if server_id <= 0 or not name:
        return False
    with transaction.atomic():
        changed = not DiscordServer.objects.filter(discord_id=server_id, name=name).exists()
        if changed:
            DiscordServer.objects.update_or_create(discord_id=server_id, defaults={"name": name})
        record_channels(channels, server_id=server_id)
        _record_roles(roles)
    return changed


def record_channels(channels: Iterable[Mapping[str, Any]], *, server_id: int | None = None) -> int:
    """Remember channel names (``{"id", "name"[, "guild_id"]}``, as Discord sends them).
    Returns how many rows were written (new or renamed)."""
    wanted = {}
    for channel in channels:
        try:
            channel_id = int(channel["id"])
        except (KeyError, TypeError, ValueError):
            continue
        name = _clean(channel.get("name"))
        if channel_id > 0 and name:
            guild = channel.get("guild_id") or server_id
            wanted[channel_id] = (name, int(guild) if guild else None)
    if not wanted:
        return 0
    known = dict(DiscordChannel.objects.filter(discord_id__in=wanted).values_list("discord_id", "name"))
    changed = [DiscordChannel(discord_id=cid, name=name, server_id=guild)
               for cid, (name, guild) in wanted.items() if known.get(cid) != name]
    DiscordChannel.objects.bulk_create(changed, update_conflicts=True, unique_fields=["discord_id"],
                                       update_fields=["name", "server_id", "updated_at"])
    return len(changed)


DELETED = " (deleted)"


def record_channel_deleted(channel_id: int) -> bool:
    """CHANNEL_DELETE: the channel keeps its name on the pages that still mention it (a raid's
    old sign-up channel), marked "(deleted)". Returns whether a row changed."""
    with transaction.atomic():
        row = DiscordChannel.objects.select_for_update().filter(discord_id=int(channel_id)).first()
        if row is None or row.name.endswith(DELETED):
            return False
        row.name = row.name[:NAME_LENGTH - len(DELETED)] + DELETED
        row.save(update_fields=["name", "updated_at"])
    return True


def _record_roles(roles: Iterable[Mapping[str, Any]]) -> None:
    """Role names seen in a GUILD_CREATE; positions and presence stay the role sync's business."""
    wanted = {}
    for role in roles:
        try:
            wanted[int(role["id"])] = _clean(role.get("name"))
        except (KeyError, TypeError, ValueError):
            continue
    wanted = {rid: name for rid, name in wanted.items() if rid > 0 and name}
    if not wanted:
        return
    known = dict(DiscordRole.objects.filter(discord_id__in=wanted).values_list("discord_id", "name"))
    DiscordRole.objects.bulk_create(
        [DiscordRole(discord_id=rid, name=name) for rid, name in wanted.items() if known.get(rid) != name],
        update_conflicts=True, unique_fields=["discord_id"], update_fields=["name"])


_MODELS = {"server": DiscordServer, "channel": DiscordChannel, "role": DiscordRole}


def name_expression(kind: str, id_field: str) -> Subquery:
    """An annotation giving the name of the server/channel/role whose id is in ``id_field``
    (NULL when the directory does not know it)."""
    rows = _MODELS[kind].objects.filter(discord_id=OuterRef(id_field))
    return Subquery(rows.values("name")[:1], output_field=CharField())


def _snowflakes(ids: Iterable[Any]) -> set[int]:
    wanted = set()
    for value in ids:
        try:
            wanted.add(int(value))
        except (TypeError, ValueError):
            continue
    wanted.discard(0)
    return wanted


def _member_names(wanted: set[int]) -> QuerySet:
    """``(discord_id, name)`` of these members: their display name, else their username."""
    return DiscordUser.objects.filter(discord_id__in=wanted).annotate(
        label=Coalesce(NullIf(F("display_name"), Value("")), F("username"))).values_list("discord_id", "label")


def names_for(kind: str, ids: Iterable[Any]) -> dict[int, str]:
    """Names of these servers / channels / roles / members in one query (unknown ids left out)."""
    wanted = _snowflakes(ids)
    if not wanted:
        return {}
    if kind == "member":
        return dict(_member_names(wanted))
    return dict(_MODELS[kind].objects.filter(discord_id__in=wanted).values_list("discord_id", "name"))


def identify(ids: Iterable[Any]) -> dict[int, tuple[str, str]]:
    """What each snowflake is, when the directory knows: ``{id: (kind, name)}``, one query (a
    UNION over the four tables) for any number of ids (for free-form details such as audit-log
    JSON, where a key does not always say whether an id is a member, a channel or a role). An id
    known as two kinds is taken as the first of ``KINDS``."""
    wanted = _snowflakes(ids)
    if not wanted:
        return {}
    parts = [_member_names(wanted).annotate(kind=Value(0, IntegerField())).order_by()
             .values_list("discord_id", "label", "kind")]
    parts += [_MODELS[kind].objects.filter(discord_id__in=wanted).annotate(kind=Value(rank, IntegerField()))
              .order_by().values_list("discord_id", "name", "kind") for rank, kind in enumerate(KINDS) if kind != "member"]
    found: dict[int, tuple[str, str]] = {}
    for discord_id, name, rank in sorted(parts[0].union(*parts[1:], all=True), key=lambda row: row[2]):
        found.setdefault(discord_id, (KINDS[rank], name))
    return found


def label(kind: str, discord_id: Any) -> str:
    """One id as plain text ("Aelinor", "#general", "@Moderator", "unknown member …0017"):
    for a row's ``__str__`` (page titles, breadcrumbs, delete confirmations), one query."""
    from core.labels import plain_label

    if not discord_id:
        return "—"
    return plain_label(kind, discord_id, names_for(kind, [discord_id]).get(int(discord_id)))


def label_any(discord_id: Any, *, unknown_kind: str = "member") -> str:
    """Like ``label`` for an id that may be a member or a channel (a reminder's target)."""
    from core.labels import plain_label

    if not discord_id:
        return "—"
    kind, name = identify([discord_id]).get(int(discord_id), (unknown_kind, None))
    return plain_label(kind, discord_id, name)


def row_label(row: Any, field: str, kind: str) -> str:
    """The label of the id in ``row.<field>`` for the row's ``__str__``: from the admin's
    annotation (``<field>_name``, see ``core.admin_names.MemberNamesMixin``) when the row was
    loaded with it (a changelist calls ``__str__`` for every row's checkbox label: no query
    per row), else one query."""
    from core.labels import plain_label

    discord_id = getattr(row, field)
    if hasattr(row, f"{field}_name"):  # kind "any" (a member or a channel): the annotation names members
        return plain_label(kind, discord_id, getattr(row, f"{field}_name"))
    return label_any(discord_id, unknown_kind=kind) if kind == "any" else label(kind, discord_id)
