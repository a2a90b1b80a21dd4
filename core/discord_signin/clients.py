"""The member's own view of Discord during sign-in (their OAuth token, never the bot's):
``GET /users/@me/guilds/{guild.id}/member`` (scope ``guilds.members.read``) for their roles.
Base URL ``DISCORD_OAUTH_API_BASE``; timeouts from ``DISCORD_HTTP_TIMEOUT``."""

from __future__ import annotations

import requests
from django.conf import settings
from django.utils.translation import gettext as _


class DiscordSigninError(Exception):
    """Discord did not tell us the member's roles; the message says why."""


def member_role_ids(access_token: str, guild_id: int) -> set[int]:
    """The role ids of the signed-in member in ``guild_id``; empty when they are not a member."""
    return member_roles(access_token, guild_id) or set()


def member_roles(access_token: str, guild_id: int) -> set[int] | None:
    """The role ids of the signed-in member in ``guild_id``, or None when they are not a member
    of it (Discord answers 404, code 10004 Unknown Guild): members sign in to their page, strangers
    do not."""
    url = f"{settings.DISCORD_OAUTH_API_BASE}/users/@me/guilds/{guild_id}/member"
    try:
        response = requests.get(url, headers={"Authorization": f"Bearer {access_token}"},
                                timeout=settings.DISCORD_HTTP_TIMEOUT)
    except requests.RequestException as exc:
        raise DiscordSigninError(_("Discord did not answer (%(error)s).") % {"error": exc.__class__.__name__}) from None
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise DiscordSigninError(_("Discord answered %(status)s to the role lookup.") % {"status": response.status_code})
    try:
        return {int(role) for role in response.json().get("roles") or []}
    except (ValueError, TypeError, AttributeError):
        raise DiscordSigninError(_("Discord's answer to the role lookup was not a guild member.")) from None


def put_role_metadata(application_id: str, bot_token: str, records: list[dict]) -> list[dict]:
    """``PUT /applications/{id}/role-connections/metadata`` with the bot's token: the Linked Roles
    requirements server admins can pick from (at most 5 records)."""
    return _put(f"{settings.DISCORD_API_BASE}/applications/{application_id}/role-connections/metadata",
                f"Bot {bot_token}", records)


def put_role_connection(application_id: str, access_token: str, body: dict) -> dict:
    """``PUT /users/@me/applications/{id}/role-connection`` with the member's own token (scope
    ``role_connections.write``): their values for the Linked Roles requirements."""
    return _put(f"{settings.DISCORD_API_BASE}/users/@me/applications/{application_id}/role-connection",
                f"Bearer {access_token}", body)


class DiscordRefusedError(DiscordSigninError):
    """Discord answered 401/403: the token is no longer good (the member must sign in again)."""


def _put(url: str, authorization: str, body) -> dict | list:
    try:
        response = requests.put(url, json=body, headers={"Authorization": authorization},
                                timeout=settings.DISCORD_HTTP_TIMEOUT)
    except requests.RequestException as exc:
        raise DiscordSigninError(_("Discord did not answer (%(error)s).") % {"error": exc.__class__.__name__}) from None
    if response.status_code in (401, 403):
        raise DiscordRefusedError(_("Discord refused the token (%(status)s).") % {"status": response.status_code})
    if response.status_code != 200:
        raise DiscordSigninError(_("Discord answered %(status)s: %(body)s")
                                 % {"status": response.status_code, "body": response.text[:200]})
    return response.json()
