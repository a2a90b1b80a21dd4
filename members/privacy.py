"""Members' part of the privacy registry (core/privacy): a member's calendar feed token (a hash
and its first characters, keyed by their Discord id) and the feed's bookkeeping rows."""

from __future__ import annotations

from typing import Any

from core.privacy import ERASED, AppPart, ForgetContext, Holds
from members import services
from members.models import CalendarToken


def export(member: int) -> dict[str, Any]:
    token = CalendarToken.objects.filter(discord_user_id=member).first()
    if token is None:
        return {"calendar_feed": None}
    return {"calendar_feed": {"token_starts_with": token.prefix, "created_at": token.created_at.isoformat(),
                              "rotated_at": token.rotated_at.isoformat(),
                              "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None}}


def forget(member: int, ctx: ForgetContext) -> dict[str, Any]:
    return {ERASED: {"calendar_feed": int(services.revoke_token(member))}, "anonymised": {}, "kept": {}}


PART = AppPart(
    app="members",
    holds=(
        Holds("members.CalendarToken", ("discord_user_id", "token_hash", "prefix"), ERASED,
              "Their private calendar feed token is deleted (with its feed's bookkeeping); the URL stops working."),
    ),
    export=export,
    forget=forget,
)
