"""The members' calendar answers in Discord (``/calendar``), built from the services. They are
ephemeral replies: ``bot.interactions`` renders them in the member's own Discord language, so
every text here is translated when it is built (``gettext``, never at import)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from members import services


def _how() -> str:
    return _("Add it in your calendar app as a subscription (Google Calendar: *Other calendars → From URL*; "
             "Outlook: *Add calendar → Subscribe from web*; Apple: *File → New Calendar Subscription*). "
             "Keep it to yourself: anyone with the link sees your schedule.")


def _what() -> str:
    return _("It lists the raids you signed up for (with your status), your Ark matches and your Secret Santa "
             "deadlines.")


def _url_text(url: str, fresh: bool) -> str:
    head = _("📅 **Your calendar feed**") if fresh else _("📅 **Your new calendar feed** (the old link no longer works)")
    return f"{head}\n<{url}>\n{_what()}\n{_how()}"


def show_text(discord_user_id: int) -> str:
    """The member's URL when they have none yet (made now); else what we know of it and how to get a
    new one: only a hash of the token is kept, so the old URL cannot be shown again."""
    token = services.token_info(discord_user_id)
    if token is None:
        return _url_text(services.issue_token(discord_user_id).url, fresh=True)
    if token.last_used_at:
        used = _("last fetched %(when)s") % {"when": f"<t:{int(token.last_used_at.timestamp())}:R>"}
    else:
        used = _("not fetched yet")
    return (_("📅 You have a calendar feed (link starting `…/calendar/%(prefix)s`, made %(made)s, %(used)s).")
            % {"prefix": token.prefix, "made": f"<t:{int(token.rotated_at.timestamp())}:D>", "used": used}
            + "\n" + _("Guild Ops keeps only a fingerprint of the link, so it cannot show it again: "
                       "`/calendar rotate` gives you a new link (the old one stops working), `/calendar revoke` "
                       "switches it off."))


def rotate_text(discord_user_id: int) -> str:
    had = services.token_info(discord_user_id) is not None
    return _url_text(services.issue_token(discord_user_id, rotate=True).url, fresh=not had)


def revoke_text(discord_user_id: int) -> str:
    if services.revoke_token(discord_user_id):
        return _("🗑️ Your calendar feed is switched off: its link no longer works. `/calendar show` makes a new one.")
    return _("You have no calendar feed. `/calendar show` makes one.")
