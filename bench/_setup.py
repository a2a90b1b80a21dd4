"""Shared set-up for benchmarks: Django on the database that ``bench/run.sh`` started.

Each benchmark is a module run as ``python -m bench.<name>`` and prints one line per figure
with ``report()``: the project's figure, its anchor's figure from the same run, and the ratio.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret")
    import django

    django.setup()


def report(name: str, project: float, anchor: float, unit: str, *, anchor_name: str,
           higher_is_better: bool = True, goal: float | None = None) -> None:
    """Print ``name: project X unit, anchor (anchor_name) Y unit, ratio R (goal ≥ G)``."""
    ratio = (project / anchor) if higher_is_better else (anchor / project)
    verdict = ""
    if goal is not None:
        verdict = f"  goal ≥ {goal:g}: {'MET' if ratio >= goal else 'NOT MET'}"
    print(f"{name}: project {project:,.3f} {unit} | anchor {anchor_name} {anchor:,.3f} {unit} | "
          f"ratio {ratio:,.2f}{verdict}", flush=True)


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    """The median wall time of ``repeats`` calls of ``fn`` (warm runs: call it once first)."""
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)
