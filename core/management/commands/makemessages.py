"""``manage.py makemessages``: Django's, with the project's workflow as its defaults.

- ``locale_str`` and ``pgettext_noop`` (the slash names' context, ``bot.translator``) are gettext keywords, so the slash commands' names, descriptions and choices
  (``discord.app_commands.locale_str``) land in the same catalogues as every other string (one
  source of truth, read by ``bot.translator``).
- Without ``-l``/``-a`` it updates every shipped language (settings.LANGUAGES but English).
- It skips what no reader sees (``.venv``, ``var``, ``tests``, ``bench``, ``docs``, ``scripts``).
- Obsolete entries are dropped (``--no-obsolete``): a catalogue holds what the code says, and a
  string that moved to another app's catalogue leaves no ghost behind.
- References name the file without a line number (``--add-location=file``), so an edit that
  shifts lines elsewhere in a file does not churn the catalogues; a catalogue whose only change
  would be its ``POT-Creation-Date`` is left as it was.
- A new catalogue (a new app, a new language) gets the project's header (name, language team)
  rather than gettext's placeholders, which ``msgfmt --check-header`` refuses.

Each app keeps its own catalogues (``<app>/locale/<lang>/LC_MESSAGES/django.po``); Django's
command sends every string to the ``locale`` folder of the app its file is in, and the
project's templates and anything outside an app to ``locale/``. The workflow (README,
"Languages"): ``manage.py makemessages``, translate what it added, ``manage.py compilemessages``
(the run and test commands compile too); ``tests/i18n/test_catalogues.py`` fails on a catalogue
that is behind the code or not complete."""

from __future__ import annotations

import re
from pathlib import Path

import polib
from django.conf import settings
from django.core.management.commands import makemessages
from django.utils import translation

POT_DATE = re.compile(r'^"POT-Creation-Date: [^"]*"\n', re.M)
SKIPPED = [".venv", "var", "tests", "bench", "docs", "scripts", "node_modules", "htmlcov"]


def shipped_locales() -> list[str]:
    """The catalogue folders of every shipped language but the source (``de``, ``pt_BR``...)."""
    return [translation.to_locale(code) for code, _name in settings.LANGUAGES if code != "en"]


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=locale_str", "--keyword=pgettext_noop:1c,2"]

    def handle(self, *args, **options):
        if not options["locale"] and not options["exclude"] and not options["all"]:
            options["locale"] = shipped_locales()
        options["ignore_patterns"] = [*options["ignore_patterns"], *SKIPPED]
        options["no_obsolete"] = True
        if not options["no_location"] and not options["add_location"]:
            options["add_location"] = "file"
        return super().handle(*args, **options)

    def write_po_file(self, potfile, locale):
        path = Path(potfile).parent / locale / "LC_MESSAGES" / f"{self.domain}.po"
        before = path.read_text(encoding="utf-8") if path.exists() else None
        super().write_po_file(potfile, locale)
        after = path.read_text(encoding="utf-8")
        if before is not None and POT_DATE.sub("", before) == POT_DATE.sub("", after):
            path.write_text(before, encoding="utf-8")  # nothing but the date changed
        elif before is None:
            give_project_header(path, locale)


def give_project_header(path: Path, locale: str) -> None:
    """The header a new catalogue gets: the project's, for ``locale`` (``pt_BR``)."""
    catalogue = polib.pofile(str(path))
    language = translation.to_language(locale)
    name = translation.get_language_info(language)["name"] if language in dict(settings.LANGUAGES) else locale
    catalogue.header = (f"Guild Ops: {name} catalogue. Glossary: locale/{locale}/GLOSSARY.md. "
                        "How to add a language: README, \"Languages\".")
    catalogue.metadata.update({"Project-Id-Version": "Guild Ops", "Last-Translator": "Guild Ops",
                               "Language-Team": name, "Language": locale,
                               "PO-Revision-Date": catalogue.metadata.get("POT-Creation-Date", ""),
                               "Content-Type": "text/plain; charset=UTF-8"})
    catalogue.metadata.pop("Report-Msgid-Bugs-To", None)
    catalogue.metadata_is_fuzzy = False
    path.write_text(str(catalogue), encoding=catalogue.encoding)  # what polib's save() writes
