"""Every shipped catalogue (``locale/<lang>/LC_MESSAGES/django.po`` and each app's
``<app>/locale/<lang>/...``) is current and complete: ``manage.py makemessages`` would add or
drop nothing, there is no untranslated, fuzzy or obsolete entry, GNU msgfmt's format check is
clean, every placeholder of the source (``%(name)s``, ``%s``, ``{name}``) is in the
translation, and each language has its glossary. The run and test commands compile the
catalogues (manage.py compilemessages)."""

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

from core.management.commands.compilemessages import catalogues
from core.management.commands.makemessages import SKIPPED

ROOT = Path(settings.BASE_DIR)
CATALOGUES = [po for po in catalogues() if po.name == "django.po"]


def label(path: Path) -> str:
    """``de`` for the project's catalogue, ``ark/de`` for an app's."""
    where = path.parent.parent.parent.parent.relative_to(ROOT)
    return path.parent.parent.name if str(where) == "." else f"{where}/{path.parent.parent.name}"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sdrf]|%[sdrf]|\{[a-z_]*\}")


def folder(language: str) -> str:
    return translation.to_locale(language)


def test_every_language_but_the_source_ships_a_catalogue_and_a_glossary():
    wanted = {folder(code) for code, _ in settings.LANGUAGES if code != "en"}
    for where in {po.parent.parent.parent for po in CATALOGUES}:
        assert {po.parent.parent.name for po in CATALOGUES if po.parent.parent.parent == where} == wanted, where
    for name in wanted:
        glossary = ROOT / "locale" / name / "GLOSSARY.md"
        assert glossary.exists() and glossary.read_text(encoding="utf-8").count("|") > 20, glossary


@pytest.mark.parametrize("path", CATALOGUES, ids=label)
def test_the_catalogue_is_complete(path):
    catalogue = polib.pofile(str(path))
    assert not catalogue.metadata_is_fuzzy
    assert not catalogue.untranslated_entries(), [e.msgid for e in catalogue.untranslated_entries()][:10]
    assert not catalogue.fuzzy_entries(), [e.msgid for e in catalogue.fuzzy_entries()][:10]
    assert not catalogue.obsolete_entries(), [e.msgid for e in catalogue.obsolete_entries()][:10]
    assert catalogue.percent_translated() == 100


@pytest.mark.parametrize("path", CATALOGUES, ids=label)
def test_placeholders_match_the_source(path):
    wrong = []
    for entry in polib.pofile(str(path)):
        # a plural entry (ngettext): every form against the plural source
        pairs = ([(entry.msgid_plural, form) for form in entry.msgstr_plural.values()] if entry.msgid_plural
                 else [(entry.msgid, entry.msgstr)])
        for source, text in pairs:
            if Counter(PLACEHOLDER.findall(source)) != Counter(PLACEHOLDER.findall(text)):
                wrong.append((source, text))
            if source.count("`") != text.count("`") or source.count("**") != text.count("**"):
                wrong.append(("markdown", source, text))  # Discord markdown must survive
    assert not wrong, wrong[:5]


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext's msgfmt is not installed "
                    "(test_placeholders_match_the_source is the same check in Python)")
@pytest.mark.parametrize("path", CATALOGUES, ids=label)
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


def msgids(path: Path) -> set[tuple[str | None, str]]:
    return {(entry.msgctxt, entry.msgid) for entry in polib.pofile(str(path)) if not entry.obsolete}


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is not installed (the test command installs it)")
def test_the_catalogues_are_current(tmp_path):
    """``manage.py makemessages``, run on a copy of the sources, would add or drop nothing: every
    marked string is in its catalogue (and so, by the test above, translated), and every entry is
    still used. The fix for a failure: run ``manage.py makemessages`` and translate what it added."""
    import sys

    copy = tmp_path / "src"
    skipped = shutil.ignore_patterns(*SKIPPED, ".git", "__pycache__", "staticfiles", "docker", "node_modules")

    def ignore(folder: str, names: list[str]) -> set[str]:  # only what makemessages reads
        return skipped(folder, names) | {name for name in names if Path(folder, name).is_file()
                                         and not name.endswith((".py", ".html", ".txt", ".po"))}

    shutil.copytree(ROOT, copy, ignore=ignore, symlinks=True)
    run = subprocess.run([sys.executable, "manage.py", "makemessages", "-v", "0"], cwd=copy,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    stale = {}
    for path in CATALOGUES:
        fresh = msgids(copy / path.relative_to(ROOT))
        shipped = msgids(path)
        if fresh != shipped:
            stale[label(path)] = {"missing": sorted(m for _, m in fresh - shipped)[:8],
                                  "unused": sorted(m for _, m in shipped - fresh)[:8]}
    new = sorted(str(p.relative_to(copy)) for p in copy.glob("**/locale/*/LC_MESSAGES/django.po")
                 if ROOT / p.relative_to(copy) not in CATALOGUES)
    assert not stale and not new, f"run manage.py makemessages, then translate: {stale} {new}"
