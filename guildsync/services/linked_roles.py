"""Discord Linked Roles (optional: ``DISCORD_LINKED_ROLES``): server admins gate roles on facts Guild
Ops vouches for, without the bot's Manage Roles hierarchy.

- ``register_metadata()`` tells Discord which facts exist (``PUT /applications/{id}/role-connections/
  metadata``, at most 5 records): ``guild_member`` (boolean: the member plays a character in the
  guild), ``guild_rank`` (integer, lower is higher: their most senior in-game rank, 0 = Guild Master;
  an admin asks for "≤ 2" to mean officers and above), ``verified_main`` (boolean: their main is proven
  by Battle.net). ``manage.py linked_roles_register`` runs it.
- At each sign-in with Discord (scope ``role_connections.write`` added) the member's token is kept
  encrypted (``RoleConnection``) and a push is queued (task ``guildsync.tasks.push_role_connection_task``).
- After every change of rank or link (officers' links, matching, Battle.net proofs, the integrity run
  that follows each sync), ``queue_changed()`` compares each connected member's values with what Discord
  last accepted and queues a push for those that differ. Pushes run in the worker, never in a request.
- A push sends ``PUT /users/@me/applications/{id}/role-connection`` with the member's token. Discord's
  tokens last 7 days: an expired or refused token is recorded (``last_error``) and the member's next
  sign-in renews it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Min, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core import i18n, jobs
from core.discord_signin import clients
from core.errors import DomainError
from core.secrets import decrypt, encrypt
from guildsync.models import DiscordUser, PlayerCharacter, RoleConnection

PUSH_TASK = "guildsync.tasks.push_role_connection_task"
BOOLEAN_EQUAL, INTEGER_LESS_THAN_OR_EQUAL = 7, 1
# English (the source); ``metadata_records`` adds each shipped language as Discord's localizations
METADATA = [
    {"key": "guild_member", "name": gettext_noop("Guild member"), "type": BOOLEAN_EQUAL,
     "description": gettext_noop("Plays a character in the guild")},
    {"key": "guild_rank", "name": gettext_noop("Guild rank (0 = Guild Master)"), "type": INTEGER_LESS_THAN_OR_EQUAL,
     "description": gettext_noop("In-game guild rank at most this (lower is more senior)")},
    {"key": "verified_main", "name": gettext_noop("Main proven by Battle.net"), "type": BOOLEAN_EQUAL,
     "description": gettext_noop("Their main character is on their own Battle.net account")},
]


def metadata_records() -> list[dict]:
    """The records as Discord gets them: English, plus ``name_localizations`` and
    ``description_localizations`` for every Discord locale a shipped language serves (the same
    catalogues as everything else), so members read the requirement in their Discord language."""
    records = []
    for record in METADATA:
        localized = dict(record)
        for field in ("name", "description"):
            localizations = {}
            for language in i18n.languages():
                if language == i18n.SOURCE:
                    continue
                with translation.override(language):
                    text = translation.gettext(record[field])
                localizations.update(dict.fromkeys(i18n.discord_locales(language), text))
            localized[f"{field}_localizations"] = localizations
        records.append(localized)
    return records


class LinkedRolesError(DomainError):
    """Linked Roles cannot be set up or pushed (off, no application, Discord refused)."""


def enabled() -> bool:
    return bool(settings.DISCORD_LINKED_ROLES and settings.DISCORD_CLIENT_ID)


def register_metadata() -> list[dict]:
    """Register the three records with Discord (idempotent: PUT replaces the list)."""
    if not enabled() or not settings.DISCORD_TOKEN:
        raise LinkedRolesError(_("Linked Roles need DISCORD_LINKED_ROLES=true, DISCORD_CLIENT_ID and DISCORD_TOKEN."))
    try:
        return clients.put_role_metadata(settings.DISCORD_CLIENT_ID, settings.DISCORD_TOKEN, metadata_records())
    except clients.DiscordSigninError as exc:
        raise LinkedRolesError(str(exc)) from None


def values_for(user_ids: list[int]) -> dict[int, dict[str, Any]]:
    """DiscordUser row id → the body Discord gets for them (fixed number of queries)."""
    values: dict[int, dict[str, Any]] = {uid: {"platform_name": "Guild Ops", "platform_username": None,
                                               "metadata": {"guild_member": 0, "verified_main": 0}}
                                         for uid in user_ids}
    in_guild = Q(character__removed_at__isnull=True)
    ranks = (PlayerCharacter.objects.filter(in_guild, player__discord_user_id__in=user_ids)
             .values("player__discord_user_id").annotate(rank=Min("character__guild_rank__blizzard_rank_index")))
    for row in ranks:
        meta = values[row["player__discord_user_id"]]["metadata"]
        meta["guild_member"] = 1
        if row["rank"] is not None:
            meta["guild_rank"] = row["rank"]
    mains = (PlayerCharacter.objects.filter(player__discord_user_id__in=user_ids)
             .filter(character_id=F("player__main_character_id")).values_list("player__discord_user_id", "link_source",
                                                               "character__character_name"))
    for uid, source, name in mains:
        values[uid]["platform_username"] = name
        values[uid]["metadata"]["verified_main"] = int(source == PlayerCharacter.LinkSource.BATTLENET)
    return values


def store_token(discord_id: int, access_token: str, expires_in: int | None) -> bool:
    """Keep the member's fresh token (encrypted) and queue a push. False when Linked Roles are off
    or the member is not known yet (the Discord sync has not seen them)."""
    if not enabled():
        return False
    with transaction.atomic():
        user = DiscordUser.objects.filter(discord_id=discord_id).first()
        if user is None:
            return False
        expires = timezone.now() + dt.timedelta(seconds=int(expires_in or 604800))
        RoleConnection.objects.update_or_create(discord_user=user, defaults={
            "access_token": encrypt(access_token), "expires_at": expires, "pushed_values": None, "last_error": ""})
        jobs.send_on_commit(PUSH_TASK, args=[user.pk])
    return True


def queue_changed() -> int:
    """Queue a push for every connected member whose values differ from what Discord last accepted
    (called after each change of rank or link; in the caller's transaction). Returns how many."""
    if not enabled():
        return 0
    rows = list(RoleConnection.objects.filter(expires_at__gt=timezone.now()).values_list(
        "discord_user_id", "pushed_values"))
    if not rows:
        return 0
    current = values_for([uid for uid, _ in rows])
    changed = [uid for uid, pushed in rows if pushed != current[uid]]
    for uid in changed:
        jobs.send_on_commit(PUSH_TASK, args=[uid])
    return len(changed)


def push(discord_user_pk: int) -> str:
    """The task's work: send the member's current values with their token; record the outcome."""
    connection = RoleConnection.objects.filter(discord_user_id=discord_user_pk).first()
    if connection is None or not enabled():
        return _("not connected")
    if connection.expires_at <= timezone.now():
        RoleConnection.objects.filter(pk=connection.pk).update(last_error=_("Token expired: sign in again."))
        return "expired"
    body = values_for([discord_user_pk])[discord_user_pk]
    if connection.pushed_values == body:
        return "unchanged"
    try:
        clients.put_role_connection(settings.DISCORD_CLIENT_ID, decrypt(connection.access_token), body)
    except clients.DiscordRefusedError as exc:
        RoleConnection.objects.filter(pk=connection.pk).update(last_error=f"{exc} Sign in again."[:255])
        return "refused"
    except clients.DiscordSigninError as exc:
        RoleConnection.objects.filter(pk=connection.pk).update(last_error=str(exc)[:255])
        raise LinkedRolesError(str(exc)) from None  # the task retries
    RoleConnection.objects.filter(pk=connection.pk).update(pushed_values=body, pushed_at=timezone.now(),
                                                            last_error="")
    return "pushed"
