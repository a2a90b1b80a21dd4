"""Every Celery task named by a string is a registered task.

Services queue work by task *name* (``core.jobs.send`` / ``send_on_commit``), never by task object
(that would make services import entry points, tests/architecture/test_modules.py). The price is
that a typo in a name, or a task renamed or removed, is only found when the job is queued, and
then by a worker that drops it. The beat schedule (``CELERY_BEAT_SCHEDULE``) names tasks the same
way. This test reads every string constant in the project's sources that has the shape of a task
name (``<app>.tasks.<function>``) and checks Celery knows it.
"""

from __future__ import annotations

import ast
import re

from django.conf import settings

from config.celery import app
from tests.architecture.modules import project_sources
from tests.architecture.rules import APPS, ROOT

TASK_NAME = re.compile(rf"^(?:{'|'.join(APPS)})\.tasks\.[a-z_][a-z0-9_]*$")


def task_names_in(source: str) -> set[str]:
    """The string constants of ``source`` shaped like a task name (docstrings excluded: a name
    in prose is not queued)."""
    return {node.value for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and TASK_NAME.match(node.value)}


def test_the_shape_matches_names_and_not_prose():
    assert task_names_in('jobs.send("bot.tasks.deliver_outbox_task")') == {"bot.tasks.deliver_outbox_task"}
    assert task_names_in('x = "see bot.tasks.deliver_outbox_task for why"') == set()


def test_every_task_name_in_the_sources_is_registered():
    app.loader.import_default_modules()  # autodiscovery, as a worker does at start
    registered = set(app.tasks)
    named: dict[str, list[str]] = {}
    for module, path in project_sources().items():
        if module.startswith("tests."):
            continue
        for name in task_names_in(path.read_text()):
            named.setdefault(name, []).append(str(path.relative_to(ROOT)))
    assert len(named) >= 10, sorted(named)  # the scan finds the project's queued and scheduled tasks
    missing = {name: files for name, files in named.items() if name not in registered}
    assert not missing, f"task names that no registered task has (typo, rename or removal?): {missing}"


def test_every_beat_entry_names_a_registered_task():
    app.loader.import_default_modules()
    missing = {entry: spec["task"] for entry, spec in settings.CELERY_BEAT_SCHEDULE.items()
               if spec["task"] not in app.tasks}
    assert not missing, missing
