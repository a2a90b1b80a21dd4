"""Text written now in English that a reader can still be shown in their own language later.

Some messages are made where no reader's language is known, or where Django is not even
imported, and then stored or passed on:
- the addon upload's parser runs in a child process that imports no Django
  (``guildsync.services.addon_parse_child``); the child sends each message's ``as_json()``;
- the raids import reports are written by a periodic job and stored as JSON on the event
  (``raids.services.common.stored``).

Each is a :class:`Message`: the English text (``str``), plus its catalogue template and
values; whoever shows it renders it in the reader's language (:func:`render_message`). This
module imports nothing from Django, so the parse child can use it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def gettext_noop(message: str) -> str:
    """Marks a message for the catalogues (``makemessages`` knows this name) without importing
    Django: the parser runs in a child process that imports none (``addon_parse_child``); the
    server translates the message when it shows it (:func:`render_message`)."""
    return message


class Message(str):
    """A message of the parser: the English text (what ``str`` gives, so logs, tests and the
    child's answer read as before) that also keeps its catalogue ``template`` and ``params``, so
    the server can show it in the officer's language. A param may itself be a Message."""

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, **params: Any) -> Message:
        self = super().__new__(cls, template % params if params else template)
        self.template, self.params = template, params
        return self

    def as_json(self) -> dict[str, Any]:
        return {"template": self.template,
                "params": {k: v.as_json() if isinstance(v, Message) else v for k, v in self.params.items()}}


def render_message(message: Any, translate: Callable[[str], str]) -> str:
    """A message (a :class:`Message`, its ``as_json`` form, or plain text) in the language of
    ``translate`` (``gettext``); the English text when a translation does not fit its values."""
    if isinstance(message, Message):
        message = message.as_json()
    if not isinstance(message, dict):
        return str(message)
    params = {k: render_message(v, translate) for k, v in (message.get("params") or {}).items()}
    template = str(message.get("template", ""))
    try:
        return translate(template) % params if params else translate(template)
    except (KeyError, TypeError, ValueError):
        return template % params if params else template
