"""Demo data discovery: each app may ship ``<app>/demo.py`` with ``seed_demo(stdout) -> None``.

``manage.py seed_demo`` calls them in INSTALLED_APPS order (guildsync before raids, since
raids books guildsync's players). Each one must be idempotent: running the command twice
leaves the same data, never a second copy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from importlib import import_module
from importlib.util import find_spec

from django.apps import apps


def demo_seeders() -> Iterator[tuple[str, Callable]]:
    for app_config in apps.get_app_configs():
        module_name = f"{app_config.name}.demo"
        if app_config.name == "core" or find_spec(module_name) is None:
            continue
        module = import_module(module_name)
        seeder = getattr(module, "seed_demo", None)
        if callable(seeder):
            yield app_config.label, seeder
