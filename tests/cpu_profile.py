"""Opt-in: CPU seconds per test, to find what makes the suite slow on a busy machine.

``./scripts/test.sh tests/core -p tests.cpu_profile`` (with ``PYTEST_WORKERS=0`` so that each
process runs one test at a time) records, for every test, the CPU its setup + call + teardown
cost: ``resource.getrusage`` of this process (``RUSAGE_SELF``, user + system) and of the
children it waited for (``RUSAGE_CHILDREN``: ``runbot``, Celery workers, ``pg_dump``…). It
prints the ``CPU_PROFILE_TOP`` (30) costliest at the end. Wall time misleads on a loaded
machine (``--durations`` counts the time other processes had the cores); CPU time does not.
It does not see the PostgreSQL server's own CPU, nor children still running (never waited for).
A session- or module-scoped fixture is charged to the first test that sets it up (the test
database's creation, ``demo_data``'s seeding): read a lone outlier at the top of a module so.
Under xdist each worker measures its own tests, but only the controller prints: run serially.
"""

from __future__ import annotations

import os
import resource

import pytest

_costs: dict[str, list[float]] = {}


def _cpu() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    own0, children0 = _cpu()
    yield
    own1, children1 = _cpu()
    _costs[item.nodeid] = [own1 - own0, children1 - children0]


def pytest_terminal_summary(terminalreporter) -> None:
    if not _costs:
        return
    top = int(os.environ.get("CPU_PROFILE_TOP", "30"))
    own = sum(c[0] for c in _costs.values())
    children = sum(c[1] for c in _costs.values())
    terminalreporter.write_sep("=", f"CPU per test (setup+call+teardown), top {top} of {len(_costs)}")
    terminalreporter.write_line(f"all tests: {own + children:.1f} core-s (this process {own:.1f}, children {children:.1f})")
    ranked = sorted(_costs.items(), key=lambda kv: -sum(kv[1]))[:top]
    for nodeid, (mine, theirs) in ranked:
        terminalreporter.write_line(f"{mine + theirs:8.2f}s  (self {mine:7.2f} children {theirs:7.2f})  {nodeid}")
