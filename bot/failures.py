"""Why an outbox message failed or waits, in the language of the officer reading it.

The delivery worker stores the reason as it happens (``OutboxMessage.last_error``, with
Discord's JSON error code in ``last_error_code``). It writes English: the worker runs for no
reader, operators grep logs and rows for these words, and other apps read the stored facts
(``guildsync.services.role_plans``, ``ark.services.discord_sync``). Officers read the reason in
the outbox admin: :func:`describe` renders the stored text again at display time in the active
language, from the table below, keeping the variable parts (counts, Discord's own detail) as
they are. In English it gives back the stored text unchanged; a text it does not know (a new
Discord message, a connection error's detail, a reason another app passed to
``outbox.withdraw_pending``) is shown as stored.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

# Discord's JSON error messages (``bot.clients.PERMANENT_CODES``) in the reader's words.
DISCORD_MESSAGES = {
    "Unknown Channel": gettext_noop("Unknown Channel"),
    "Unknown Guild": gettext_noop("Unknown Guild"),
    "Unknown Member": gettext_noop("Unknown Member"),
    "Unknown Message": gettext_noop("Unknown Message"),
    "Unknown Role": gettext_noop("Unknown Role"),
    "Unknown User": gettext_noop("Unknown User"),
    "Missing Access": gettext_noop("Missing Access"),
    "Cannot send messages to this user": gettext_noop("Cannot send messages to this user"),
    "Unknown Guild Scheduled Event": gettext_noop("Unknown Guild Scheduled Event"),
    "Maximum number of guild scheduled events reached (100)":
        gettext_noop("Maximum number of guild scheduled events reached (100)"),
    "Missing Permissions": gettext_noop("Missing Permissions"),
    "Invalid Form Body": gettext_noop("Invalid Form Body"),
}


def _fixed() -> dict[str, str]:
    """The worker's own reasons that carry no variable part (rendered with ``gettext``)."""
    return {
        "timed out waiting for Discord": _("timed out waiting for Discord"),
        "the worker is shutting down": _("the worker is shutting down"),
        "the run's lease on its rows was not renewed in time": _("the run's lease on its rows was not renewed in time"),
        "abandoned when the worker stopped: Discord may have carried it out":
            _("abandoned when the worker stopped: Discord may have carried it out"),
        "its text is encrypted with a FIELD_ENCRYPTION_KEY this server no longer has":
            _("its text is encrypted with a FIELD_ENCRYPTION_KEY this server no longer has"),
        "the scheduled event was never created (its create failed): nothing to edit":
            _("the scheduled event was never created (its create failed): nothing to edit"),
        "the event was cancelled": _("the event was cancelled"),
        "the event was cancelled before it was created": _("the event was cancelled before it was created"),
        "the member asked to be forgotten": _("the member asked to be forgotten"),
        "DISCORD_TOKEN is not set.": _("DISCORD_TOKEN is not set."),
        "Discord refused the bot token (401): check DISCORD_TOKEN.":
            _("Discord refused the bot token (401): check DISCORD_TOKEN."),
    }


def _gave_up(m: re.Match) -> str:
    count = int(m["count"])
    return ngettext("gave up after %(count)s attempt: %(error)s", "gave up after %(count)s attempts: %(error)s",
                    count) % {"count": count, "error": describe_text(m["error"])}


def _paused(m: re.Match) -> str:
    from bot.guard import pause_reason

    def whole(text: str) -> int:
        return int(text.replace(",", ""))

    by_status = {int(status): whole(n) for n, status in re.findall(r"([\d,]+) × (\d+)", m["detail"])}
    minutes = int(m["minutes"]) if m["minutes"] else None
    return pause_reason(whole(m["invalid"]), by_status, whole(m["limit"]), minutes)


def _discord(m: re.Match) -> str:
    return f"{m['code']} {_(DISCORD_MESSAGES[m['message']])}{m['rest']}"


# (pattern of the stored English text, how to render it): the first match wins.
PATTERNS = [
    (re.compile(r"gave up after (?P<count>\d+) attempts: (?P<error>.*)", re.S), _gave_up),
    (re.compile(r"withdrawn: (?P<reason>.*)", re.S),
     lambda m: _("withdrawn: %(reason)s") % {"reason": describe_text(m["reason"])}),
    (re.compile(r"Discord server error (?P<status>\d+):? ?(?P<text>.*)", re.S),
     lambda m: (_("Discord server error %(status)s: %(text)s") % {"status": m["status"], "text": m["text"]}).strip()),
    (re.compile(r"rate limited for (?P<seconds>[\d.]+)s"),
     lambda m: _("rate limited for %(seconds)ss") % {"seconds": m["seconds"]}),
    (re.compile(r"connection error: (?P<detail>.*)", re.S),
     lambda m: _("connection error: %(detail)s") % {"detail": m["detail"]}),
    (re.compile(r"internal error: (?P<detail>.*)", re.S),
     lambda m: _("internal error: %(detail)s") % {"detail": m["detail"]}),
    (re.compile(r"unknown outbox kind (?P<kind>.*)"),
     lambda m: _("unknown outbox kind %(kind)s") % {"kind": m["kind"]}),
    (re.compile(r"Delivery to Discord is paused: (?P<invalid>[\d,]+) invalid requests \((?P<detail>[^)]*)\) in the "
                r"last 10 minutes reached the guard's limit of (?P<limit>[\d,]+) .*?It resumes by itself"
                r"(?: in about (?P<minutes>\d+) min)?;.*", re.S), _paused),
    (re.compile(r"(?P<code>\d+) (?P<message>" + "|".join(re.escape(k) for k in DISCORD_MESSAGES) + r")(?P<rest>(?:;.*)?)",
                re.S), _discord),
]


def describe_text(text: str) -> str:
    """A stored reason (English) in the active language; unknown text as it is."""
    text = text or ""
    fixed = _fixed()
    if text in fixed:
        return fixed[text]
    for pattern, render in PATTERNS:
        if (m := pattern.fullmatch(text)) is not None:
            return render(m)
    return text


def describe(row: Any) -> str:
    """Why ``row`` (an ``OutboxMessage``) failed or waits, for the officer reading it."""
    return describe_text(getattr(row, "last_error", "") or "")
