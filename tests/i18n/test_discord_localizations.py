"""The slash commands in five languages, through discord.py's own mechanism: the tree's
``GettextTranslator`` (bot.translator) answers from the catalogues, every localization passes
Discord's rules, and the whole tree with all its localizations syncs to the fake Discord REST
API, which refuses an invalid one with 400 like Discord (tests/fakes/discord_command_rules.py)."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request

import pytest

from bot.management.commands.discord_strings import TARGET, built_tree, current_text
from bot.translator import GettextTranslator, name_problem, text_problem, translate
from core import i18n
from tests.fakes.discord_command_rules import command_errors

LOCALES = {"de": "de", "fr": "fr", "es-ES": "es", "es-419": "es", "pt-BR": "pt-br"}


async def _payload(translator=None) -> list[dict]:
    tree = await built_tree()
    await tree.set_translator(translator or GettextTranslator())
    return [await c.get_translated_payload(tree, tree.translator) for c in tree._get_all_commands()]


@pytest.fixture(scope="module")
def payload() -> list[dict]:
    return asyncio.run(_payload())


def _walk(entries: list[dict], nested: bool = False):
    """(entry, follows the slash-name pattern) for commands, groups, options and choices; context
    menus (types 2 and 3) have free-text names."""
    for entry in entries:
        yield entry, nested or entry.get("type", 1) == 1
        for option in entry.get("options") or []:
            if option.get("type") in (1, 2):
                yield from _walk([option], nested=True)
            else:
                yield option, True
                for choice in option.get("choices") or []:
                    yield {**choice, "_choice": True}, True


def test_every_command_option_and_choice_is_localized_in_every_language(payload):
    missing = []
    for entry, _chat in _walk(payload):
        names = entry.get("name_localizations") or {}
        for locale, language in LOCALES.items():
            wanted = translate(entry["name"], language, name=_chat and not entry.get("_choice"))  # None: the same word
            if names.get(locale) != wanted:
                missing.append((entry["name"], locale, names.get(locale), wanted))
            if entry.get("description") and entry["description"] != "…" and not entry.get("_choice"):
                described = (entry.get("description_localizations") or {}).get(locale)
                if described is None or described == entry["description"]:
                    missing.append((entry["description"], locale))
    assert not missing, missing[:20]
    ark = next(c for c in payload if c["name"] == "ark")
    assert ark["name_localizations"]["de"] == "arche" and ark["name_localizations"]["pt-BR"] == "arca"
    assert ark["description_localizations"]["fr"].startswith("Arche d'Osiris")
    signup = next(o for o in ark["options"] if o["name"] == "signup")
    slot = next(o for o in signup["options"] if o["name"] == "slot")
    assert {c["name"]: c["name_localizations"]["es-ES"] for c in slot["choices"]} == {"Player": "Jugador",
                                                                                      "Sub": "Suplente"}


def test_every_localization_passes_discords_rules(payload):
    bad = []
    for entry, chat in _walk(payload):
        for locale, name in (entry.get("name_localizations") or {}).items():
            why = (text_problem(name) if entry.get("_choice") else name_problem(name) if chat
                   else text_problem(name, 32))
            if why:
                bad.append((entry["name"], locale, name, why))
        for locale, text in (entry.get("description_localizations") or {}).items():
            if text_problem(text):
                bad.append((entry["name"], locale, text, text_problem(text)))
    assert not bad, bad
    assert command_errors(payload) == {}  # and the fake's independent check agrees


def test_localized_names_stay_unique_on_each_level(payload):
    """Two subcommands (or two options) may not share a name in any language."""
    def level(entries: list[dict]) -> None:
        for locale in LOCALES:
            names = [(e.get("name_localizations") or {}).get(locale, e["name"]) for e in entries]
            assert len(names) == len(set(names)), (locale, names)
        for e in entries:
            if e.get("options") and e.get("type", 1) in (1, 2):
                level(e["options"])
    level([c for c in payload if c.get("type", 1) == 1])


def test_the_translator_drops_a_translation_that_breaks_the_rules():
    from discord import Locale
    from discord.app_commands import TranslationContext, TranslationContextLocation, locale_str

    translator = GettextTranslator()
    context = TranslationContext(location=TranslationContextLocation.command_name, data=None)
    assert asyncio.run(translator.translate(locale_str("ark"), Locale.german, context)) == "arche"
    assert asyncio.run(translator.translate(locale_str("ark"), Locale.japanese, context)) is None
    assert asyncio.run(translator.translate(locale_str("ark"), Locale.american_english, context)) is None
    # "Send Bytes" is a description-like text in German ("Bytes senden"): not a valid slash name
    assert asyncio.run(translator.translate(locale_str("Send Bytes"), Locale.german, context)) is None
    assert translator.dropped and translator.dropped[0][:2] == ("de", "Send Bytes")


def test_the_strings_file_for_makemessages_is_current():
    assert TARGET.read_text(encoding="utf-8") == current_text(), (
        "bot/command_strings.py is stale: run `manage.py discord_strings`, then makemessages")


def test_the_whole_tree_syncs_to_the_fake_discord(payload, fake_discord, settings):
    url = f"{settings.DISCORD_API_BASE.rstrip('/')}/applications/2000/guilds/{settings.DISCORD_GUILD_ID or 1}/commands"

    def put(body: list[dict]) -> tuple[int, dict | list]:
        request = urllib.request.Request(url, data=json.dumps(body).encode(), method="PUT", headers={
            "Authorization": f"Bot {settings.DISCORD_TOKEN}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as refused:
            return refused.code, json.loads(refused.read())

    status, stored = put(payload)
    assert status == 200 and {c["name"] for c in stored} >= {"ark", "bytes", "ratmas", "privacy", "raid"}
    assert sum(len(c.get("name_localizations") or {}) for c in stored) >= 5 * 5
    # one invalid localization (uppercase in a slash command's German name) refuses the whole sync
    broken = json.loads(json.dumps(payload))
    ark = next(c for c in broken if c["name"] == "ark")
    ark["name_localizations"]["de"] = "Arche"
    status, body = put(broken)
    index = str(broken.index(ark))
    assert status == 400 and body["code"] == 50035 and body["message"] == "Invalid Form Body"
    assert body["errors"] == {index: {"name_localizations": {"de": {"_errors": [
        {"code": "APPLICATION_COMMAND_INVALID_NAME", "message": "Command name is invalid"}]}}}}
    # a description over 100 characters, and a locale Discord does not know
    broken = json.loads(json.dumps(payload))
    ark = next(c for c in broken if c["name"] == "ark")
    ark["description_localizations"]["fr"] = "x" * 101
    ark["name_localizations"]["pt-PT"] = "arca"
    status, body = put(broken)
    assert status == 400
    assert body["errors"][index]["description_localizations"]["fr"]["_errors"][0]["code"] == "BASE_TYPE_BAD_LENGTH"
    assert body["errors"][index]["name_localizations"]["pt-PT"]["_errors"][0]["code"] == "ENUM_TYPE_COERCE"


def test_discord_locales_we_serve_are_discords():
    from tests.fakes.discord_command_rules import DISCORD_LOCALES

    assert set(i18n.DISCORD_LOCALES) <= DISCORD_LOCALES


def test_slash_names_have_their_own_context_so_admin_labels_keep_their_case():
    """A slash option "status" is lowercase by Discord's rule ("status" in German); the admin's
    "Status" column is a noun ("Status"). Names live in their own catalogue context
    (``bot.translator.NAME_CONTEXT``), so the two never share an entry."""
    from django.utils import translation
    from django.utils.translation import gettext, pgettext

    from bot.translator import NAME_CONTEXT

    assert 'pgettext_noop("slash command name", "status")' in TARGET.read_text(encoding="utf-8").replace("'", '"')
    assert translate("status", "de", name=True) is None  # the same word for Discord
    with translation.override("de"):
        assert pgettext(NAME_CONTEXT, "member") == "mitglied"
        assert gettext("member") == "Mitglied"  # the economy admin's column
    assert translate("member", "de", name=True) == "mitglied"
