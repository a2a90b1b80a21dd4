"""Plain-text labels for Discord ids (no markup, no database): what a member, server, channel
or role is called in ``__str__``, messages, exports and chart labels, and what one the directory
has never seen is called ("unknown member …1234"). Kept apart from ``core.admin_names`` so that the
directory service (``guildsync.services.directory``) can use them without importing the admin."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

UNKNOWN = {"member": _("unknown member"), "server": _("unknown server"), "channel": _("unknown channel"),
           "role": _("unknown role"), "any": _("unknown member or channel")}
PREFIX = {"member": "", "server": "", "channel": "#", "role": "@", "any": ""}


def short_id(discord_id: Any) -> str:
    """The last four digits, enough to tell two unknown members apart on one page."""
    return f"…{str(discord_id)[-4:]}"


def plain_label(kind: str, discord_id: Any, name: str | None) -> str:
    """The text of a label, without markup (for ``__str__``, messages, exports, chart labels)."""
    if not discord_id:
        return "—"
    if not name:
        return f"{UNKNOWN[kind]} {short_id(discord_id)}"
    return f"{PREFIX[kind]}{name}"
