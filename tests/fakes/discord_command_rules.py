"""Discord's validation of a command sync (``PUT /applications/{app}[/guilds/{g}]/commands``),
as the fake REST API enforces it: one invalid name, description or localization anywhere and
Discord refuses the whole bulk overwrite with 400 ``Invalid Form Body`` (code 50035), leaving
the bot with the commands it had (none, on a first sync).

The rules, from discord/discord-api-docs ``docs/interactions/application-commands.mdx``
("Application Command Naming", "Application Command Structure", "Application Command Option
Structure", "Application Command Option Choice Structure"; read at commit 035a76b3):

- ``CHAT_INPUT`` command names and option names match
  ``^[-_'\\p{L}\\p{N}\\p{sc=Deva}\\p{sc=Thai}]{1,32}$`` (unicode flag), and "if there is a
  lowercase variant of any letters used, you must use those"; ``USER`` and ``MESSAGE`` command
  names may be mixed case and include spaces (1-32 characters). Current docs allow the
  apostrophe; the issue's older form did not: the fake accepts it, ``bot.translator`` is stricter.
- descriptions of ``CHAT_INPUT`` commands and of options: 1-100 characters; choice names 1-100;
- ``name_localizations`` / ``description_localizations``: keys in the available locales
  (``docs/reference.mdx``, "Locales"), values under the same restrictions as the field.

Error bodies as Discord sends them (reported verbatim in issues): discord-api-docs#7712
(``{"message": "Invalid Form Body", "code": 50035, "errors": {"0": {"name_localizations":
{"_errors": [{"code": "APPLICATION_COMMAND_INVALID_NAME", "message": "Command name is
invalid"}]}}}}``), discord-tickets/bot#383 (``0.name_localizations.de[BASE_TYPE_BAD_LENGTH]:
Must be between 1 and 32 in length.``), bongo-devs/lavamusic#276
(``0.options[0].name[STRING_TYPE_REGEX]``). A locale key Discord does not know is answered
with its generic enum error (``ENUM_TYPE_COERCE``); no verbatim sample of that case was found,
so only its code is relied on.

This module is written apart from ``bot.translator`` (no shared code), so that a mistake in the
bot's own check cannot hide itself here.
"""

from __future__ import annotations

import unicodedata
from typing import Any

# docs/reference.mdx, "Locales"
DISCORD_LOCALES = frozenset({
    "id", "da", "de", "en-GB", "en-US", "es-ES", "es-419", "fr", "hr", "it", "lt", "hu", "nl", "no", "pl", "pt-BR",
    "ro", "fi", "sv-SE", "vi", "tr", "cs", "el", "bg", "ru", "uk", "hi", "th", "zh-CN", "ja", "zh-TW", "ko",
})

SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2


def _allowed(ch: str) -> bool:
    if ch in "-_'":
        return True
    category = unicodedata.category(ch)
    if category.startswith(("L", "N")):
        return True
    name = unicodedata.name(ch, "")
    return name.startswith(("DEVANAGARI", "THAI"))


def _name_errors(name: Any, *, chat_input: bool) -> list[dict[str, str]]:
    if not isinstance(name, str) or not 1 <= len(name) <= 32:
        return [{"code": "BASE_TYPE_BAD_LENGTH", "message": "Must be between 1 and 32 in length."}]
    if chat_input and (not all(_allowed(ch) for ch in name) or any(ch != ch.lower() for ch in name)):
        return [{"code": "APPLICATION_COMMAND_INVALID_NAME", "message": "Command name is invalid"}]
    return []


def _text_errors(text: Any, most: int = 100) -> list[dict[str, str]]:
    if not isinstance(text, str) or not 1 <= len(text) <= most:
        return [{"code": "BASE_TYPE_BAD_LENGTH", "message": f"Must be between 1 and {most} in length."}]
    return []


def _localizations(values: Any, check) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    for locale, value in (values or {}).items():
        if locale not in DISCORD_LOCALES:
            errors[locale] = {"_errors": [{"code": "ENUM_TYPE_COERCE",
                                           "message": f'Value "{locale}" is not a valid enum value.'}]}
            continue
        problems = check(value)
        if problems:
            errors[locale] = {"_errors": problems}
    return errors


def _entity(data: dict, *, chat_input: bool, described: bool, choice: bool = False) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    name_check = (lambda v: _text_errors(v)) if choice else (lambda v: _name_errors(v, chat_input=chat_input))
    if problems := name_check(data.get("name")):
        errors["name"] = {"_errors": problems}
    if bad := _localizations(data.get("name_localizations"), name_check):
        errors["name_localizations"] = bad
    if described:
        if problems := _text_errors(data.get("description")):
            errors["description"] = {"_errors": problems}
        if bad := _localizations(data.get("description_localizations"), _text_errors):
            errors["description_localizations"] = bad
    return errors


def _option(option: dict) -> dict[str, Any]:
    errors = _entity(option, chat_input=True, described=True)
    choices = {str(i): e for i, c in enumerate(option.get("choices") or [])
               if (e := _entity(c, chat_input=True, described=False, choice=True))}
    if choices:
        errors["choices"] = choices
    nested = {str(i): e for i, o in enumerate(option.get("options") or []) if (e := _option(o))}
    if nested:
        errors["options"] = nested
    return errors


def command_errors(commands: list[dict]) -> dict[str, Any]:
    """Discord's ``errors`` object for a bulk overwrite body, empty when Discord accepts it."""
    errors: dict[str, Any] = {}
    for i, command in enumerate(commands):
        chat_input = command.get("type", 1) == 1
        found = _entity(command, chat_input=chat_input, described=chat_input)
        options = {str(j): e for j, o in enumerate(command.get("options") or []) if (e := _option(o))}
        if options:
            found["options"] = options
        if found:
            errors[str(i)] = found
    return errors


def invalid_form_body(errors: dict[str, Any]) -> dict[str, Any]:
    return {"message": "Invalid Form Body", "code": 50035, "errors": errors}
