"""Every shipped catalogue (locale/<lang>/LC_MESSAGES/django.po) is complete and safe: no
untranslated, fuzzy or obsolete entry, GNU msgfmt's format check is clean, every placeholder
of the source (``%(name)s``, ``%s``, ``{name}``) is in the translation, and each language has
its glossary. The run and test commands compile the catalogues (manage.py compilemessages)."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

ROOT = Path(settings.BASE_DIR)
CATALOGUES = sorted((ROOT / "locale").glob("*/LC_MESSAGES/django.po"))
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sdrf]|%[sdrf]|\{[a-z_]*\}")


def folder(language: str) -> str:
    return translation.to_locale(language)


def test_every_language_but_the_source_ships_a_catalogue_and_a_glossary():
    shipped = {po.parent.parent.name for po in CATALOGUES}
    wanted = {folder(code) for code, _ in settings.LANGUAGES if code != "en"}
    assert shipped == wanted
    for name in wanted:
        glossary = ROOT / "locale" / name / "GLOSSARY.md"
        assert glossary.exists() and glossary.read_text(encoding="utf-8").count("|") > 20, glossary


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.parent.parent.name)
def test_the_catalogue_is_complete(path):
    catalogue = polib.pofile(str(path))
    assert not catalogue.metadata_is_fuzzy
    assert not catalogue.untranslated_entries(), [e.msgid for e in catalogue.untranslated_entries()][:10]
    assert not catalogue.fuzzy_entries(), [e.msgid for e in catalogue.fuzzy_entries()][:10]
    assert not catalogue.obsolete_entries(), [e.msgid for e in catalogue.obsolete_entries()][:10]
    assert catalogue.percent_translated() == 100


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.parent.parent.name)
def test_placeholders_match_the_source(path):
    wrong = []
    for entry in polib.pofile(str(path)):
        if Counter(PLACEHOLDER.findall(entry.msgid)) != Counter(PLACEHOLDER.findall(entry.msgstr)):
            wrong.append((entry.msgid, entry.msgstr))
        if entry.msgid.count("`") != entry.msgstr.count("`") or entry.msgid.count("**") != entry.msgstr.count("**"):
            wrong.append(("markdown", entry.msgid, entry.msgstr))  # Discord markdown must survive
    assert not wrong, wrong[:5]


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext's msgfmt is not installed "
                    "(test_placeholders_match_the_source is the same check in Python)")
@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.parent.parent.name)
def test_msgfmt_check_format_is_clean(path, tmp_path):
    run = subprocess.run(["msgfmt", "--check-format", "--check-header", "--check-domain", "-o",
                          str(tmp_path / "out.mo"), str(path)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and not run.stderr.strip(), run.stderr


def test_the_compiled_catalogues_serve_the_languages():
    from django.utils.translation import trans_real

    trans_real._translations = {}  # this process may have loaded catalogues before they were compiled
    expected = {"de": "Erledigt.", "fr": "Fait.", "es": "Hecho.", "pt-br": "Feito.", "en": "Done."}
    for language, done in expected.items():
        with translation.override(language):
            assert gettext("Done.") == done, language
    # Django's own admin strings still come from Django's catalogues
    with translation.override("de"):
        assert gettext("Log out") == "Abmelden"
