"""``manage.py compilemessages``: the project's catalogues (``locale/<lang>/LC_MESSAGES/*.po``,
and each app's ``<app>/locale/``: settings.LOCALE_PATHS) compiled to ``.mo`` with polib, so neither the run command, the test
command nor the image needs GNU gettext installed. Django's own catalogues ship compiled.

Overrides Django's command of the same name (which needs ``msgfmt``); a catalogue with an
error stops the command with the file named. ``.mo`` files are build output (.gitignore):
the README's two commands compile them."""

from __future__ import annotations

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def locale_folders() -> list[Path]:
    """settings.LOCALE_PATHS that exist: the project's ``locale/`` and each app's ``<app>/locale/``
    (Django's and the libraries' catalogues ship compiled)."""
    return [Path(folder) for folder in settings.LOCALE_PATHS if Path(folder).is_dir()]


def catalogues() -> list[Path]:
    """Every ``.po`` file of the project: under settings.LOCALE_PATHS and the apps' ``locale``."""
    return sorted(po for folder in locale_folders() for po in folder.glob("*/LC_MESSAGES/*.po"))


def compile_catalogue(po_path: Path) -> Path:
    """Write ``po_path``'s ``.mo`` beside it (only when older than the ``.po``); returns its path."""
    mo_path = po_path.with_suffix(".mo")
    if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
        return mo_path
    try:
        catalogue = polib.pofile(str(po_path))
    except (OSError, ValueError) as exc:
        raise CommandError(f"{po_path}: {exc}") from exc
    tmp = mo_path.with_suffix(".mo.tmp")
    catalogue.save_as_mofile(str(tmp))
    tmp.replace(mo_path)  # a server reading the catalogue meanwhile never sees half a file
    return mo_path


class Command(BaseCommand):
    help = "Compile the project's translation catalogues (locale/ and <app>/locale/) to .mo, without gettext."

    def add_arguments(self, parser) -> None:
        # Django's options, accepted so that habits keep working; the project's catalogues are all compiled.
        parser.add_argument("--locale", "-l", action="append", default=[])
        parser.add_argument("--exclude", "-x", action="append", default=[])
        parser.add_argument("--use-fuzzy", "-f", action="store_true")
        parser.add_argument("--ignore", "-i", action="append", default=[])

    def handle(self, *args, **options) -> None:
        wanted, excluded = set(options["locale"]), set(options["exclude"])
        done = 0
        for po_path in catalogues():
            language = po_path.parent.parent.name
            if (wanted and language not in wanted) or language in excluded:
                continue
            compile_catalogue(po_path)
            done += 1
        self.stdout.write(f"compiled {done} catalogue(s) under {len(locale_folders())} locale folder(s)")
