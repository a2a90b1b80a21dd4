"""Who an admin user is on Discord: the id recorded as the actor of audit rows."""

from __future__ import annotations


def discord_id(user) -> int | None:
    """The Discord id of the account connected to this login (signed in with Discord once),
    or None."""
    from allauth.socialaccount.models import SocialAccount

    if not getattr(user, "is_authenticated", False):
        return None
    uid = SocialAccount.objects.filter(user=user, provider="discord").values_list("uid", flat=True).first()
    return int(uid) if uid and uid.isdigit() else None


def label(user, limit: int = 100) -> str:
    """The officer as written into text audit fields: "name (Discord 1234…)" when connected;
    the Discord id is kept whole when the name has to be shortened to ``limit``."""
    snowflake = discord_id(user)
    name = user.get_username()
    if not snowflake:
        return name[:limit]
    suffix = f" (Discord {snowflake})"
    return name[:max(limit - len(suffix), 1)] + suffix
