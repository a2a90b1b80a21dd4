"""Parallel test runs (pytest-xdist): what each worker gets for itself, and how many workers.

``scripts/test.sh`` loads this plugin with ``-p tests.parallel`` and runs ``-n auto --dist
loadgroup``. It is a plugin, not part of ``tests/conftest.py``, because it must change the
environment before pytest-django imports the settings, and a ``-p`` plugin is imported before
that; a conftest is imported after.

Each xdist worker (``gw0``, ``gw1``, …) gets its own copy of everything a test can share:

- PostgreSQL: its own test database (pytest-django names it ``test_<name>_gw<N>``);
- Redis: its own database number, ``REDIS_URL``'s ``/<db>`` becomes ``/<db + 1 + N>`` (and
  ``CELERY_RESULT_BACKEND`` alike), so the real Celery workers a test starts
  (tests/bot/test_worker.py) only ever see that worker's tasks, and the Redis pacers' windows
  (bot/clients.py, raids/clients.py) are not shared between tests running at the same time;
- ``GUILDOPS_VAR_DIR``: ``<var>/gw<N>`` (the embedded broker's folders, ``ensure_admin``'s file);
- temporary files: pytest gives every worker its own ``tmp_path`` base; the fake servers, the
  live server, ``runbot`` and Chromium all listen on ports the OS picks (no fixed port).

The environment is inherited by the processes tests start (``celery worker``, ``runbot``).

How many workers (``-n auto``): ``PYTEST_WORKERS`` if set (``0`` = no xdist, in this process);
else none when the arguments name at most ``SMALL_SELECTION`` test files or test ids (a worker's
start costs more than it saves there); else ``WORKERS_PER_CPU`` per CPU, capped at ``MAX_WORKERS``.
The suite spends much of its time waiting on subprocesses, browsers and sockets, so more workers
than cores pay (README, "Tests", measured).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

SMALL_SELECTION = 2
WORKERS_PER_CPU = 2
MAX_WORKERS = 4
# Redis's default configuration has 16 databases (0-15): scripts/services.sh starts its own with
# more, but a REDIS_URL given from outside may not have them.
REDIS_DATABASES = int(os.environ.get("REDIS_DATABASES", "16"))


def worker_index() -> int | None:
    """0 for ``gw0``…; None outside an xdist worker (the controller, or a run without xdist)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker[2:]) if re.fullmatch(r"gw\d+", worker) else None


def redis_url_for_worker(url: str, index: int, databases: int = REDIS_DATABASES) -> str:
    """``redis://host:port/0`` → ``redis://host:port/<1 + index>``; the base database stays the
    controller's. Refuses (rather than share a database) when the server has too few."""
    match = re.fullmatch(r"(rediss?://[^/?#]*)(?:/(\d*))?(\?.*)?", url)
    if not match:
        raise pytest.UsageError(f"cannot give each test worker its own Redis database in {url!r}")
    base = int(match.group(2) or 0)
    db = base + 1 + index
    if db >= databases:
        raise pytest.UsageError(f"test worker {index} needs Redis database {db} but the server has {databases} "
                                "(lower PYTEST_WORKERS, or set REDIS_DATABASES if the server has more)")
    return f"{match.group(1)}/{db}{match.group(3) or ''}"


def isolate_worker(environ: os._Environ | dict[str, str], index: int) -> None:
    """Point this worker's Redis databases and var folder at its own (see the module's doc)."""
    for name in ("REDIS_URL", "CELERY_RESULT_BACKEND"):
        if environ.get(name, "").startswith(("redis://", "rediss://")):
            environ[name] = redis_url_for_worker(environ[name], index)
    var = environ.get("GUILDOPS_VAR_DIR")
    if var:
        environ["GUILDOPS_VAR_DIR"] = str(Path(var) / f"gw{index}")


_index = worker_index()
if _index is not None:
    isolate_worker(os.environ, _index)
    os.environ["GUILDOPS_TEST_ISOLATED"] = "1"  # checked by tests/conftest.py


def _selected_files(args: list[str]) -> int | None:
    """How many test files (or test ids) the command line names; None when it names none (the
    whole suite). Options' values (``-k expr``, ``-n auto``) are no existing path: not counted."""
    count, named = 0, False
    for arg in args:
        path = Path(arg.split("::", 1)[0])
        if arg.startswith("-") or not path.exists():
            continue
        named = True
        count += sum(1 for _ in path.rglob("test_*.py")) if path.is_dir() else 1
    return count if named else None


def workers_for(args: list[str], cpus: int | None = None) -> int:
    env = os.environ.get("PYTEST_WORKERS", "").strip()
    if env:
        if not env.isdigit():
            raise pytest.UsageError(f"PYTEST_WORKERS must be a number of workers (0: no xdist), not {env!r}")
        return int(env)
    selected = _selected_files(args)
    if selected is not None and selected <= SMALL_SELECTION:
        return 0
    return max(1, min(MAX_WORKERS, WORKERS_PER_CPU * (cpus or os.cpu_count() or 1)))


@pytest.hookimpl(tryfirst=True, optionalhook=True)  # optional: ``-p no:xdist`` runs without it
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    return workers_for(list(config.invocation_params.args))
