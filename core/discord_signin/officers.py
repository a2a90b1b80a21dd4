"""Who an admin user is on Discord: the actor recorded by audit rows written from the admin."""

from __future__ import annotations


def discord_id(user) -> int | None:
    """The Discord id of the account connected to this login (signed in with Discord once),
    or None."""
    from allauth.socialaccount.models import SocialAccount

    if not getattr(user, "is_authenticated", False):
        return None
    uid = SocialAccount.objects.filter(user=user, provider="discord").values_list("uid", flat=True).first()
    return int(uid) if uid and uid.isdigit() else None


def actor(user) -> str:
    """The one actor every app's audit rows record when written from the admin (ark's audit
    log, guildsync's identity changes and sync logs, economy's officer corrections and case
    resolutions, raids' sign-up imports, secret settings): the officer's Discord id when the
    login is connected to Discord (signed in with it once), else the username. The admin shows
    a Discord id by the member's current name (``core.admin_tools.actor_label``)."""
    snowflake = discord_id(user)
    return str(snowflake) if snowflake else user.get_username()
