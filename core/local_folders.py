"""The embedded setup's folders under ``var/``, created by the project itself.

Without ``REDIS_URL`` Celery uses kombu's filesystem transport, which reads and writes message
files in ``var/broker/queue`` and ``var/broker/control`` but never creates them: a fresh checkout
running ``manage.py seed_demo`` (or any command that queues a task) without ``scripts/run.sh``
stopped with ``FileNotFoundError: …/var/broker/queue``. SQLite likewise cannot create its file in
a folder that does not exist. Every process loads Django, so the core app creates these folders
when it starts (``CoreConfig.ready``), whichever command runs.
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings

log = logging.getLogger(__name__)

BROKER_FOLDER_OPTIONS = ("data_folder_in", "data_folder_out", "control_folder")


def local_folders() -> list[Path]:
    """The folders the embedded defaults need: the filesystem broker's (none with Redis) and the
    SQLite database's (none with PostgreSQL)."""
    folders: set[Path] = set()
    if str(getattr(settings, "CELERY_BROKER_URL", "")).startswith("filesystem://"):
        options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}) or {}
        folders.update(Path(options[name]) for name in BROKER_FOLDER_OPTIONS if options.get(name))
    database = settings.DATABASES.get("default", {})
    name = str(database.get("NAME") or "")
    if database.get("ENGINE") == "django.db.backends.sqlite3" and name and not name.startswith(("file:", ":memory:")):
        folders.add(Path(name).parent)
    return sorted(folders)


def ensure_local_folders() -> list[Path]:
    """Create the embedded setup's folders when missing; returns them. A folder that cannot be
    created (read-only disk) is logged, not raised: commands that need it then fail naming it."""
    folders = local_folders()
    for folder in folders:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            log.warning("cannot create %s (%s): the embedded broker or database needs it", folder, exc)
    return folders
