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


# -- one directory for every demo ------------------------------------------------------------------
# Every demo app uses the same Discord server, and names every id it writes (members, channels,
# roles) in the member directory, as the bot would have once it saw them: no page of the demo
# shows a snowflake ("No bare ids", tests/core/test_no_bare_ids.py).
DEMO_SERVER_ID = 100_000_000_000_000_042
DEMO_SERVER_NAME = "Stormwatch"


def name_demo_ids(*, members: dict[int, str] | None = None, channels: dict[int, str] | None = None,
                  roles: dict[int, str] | None = None) -> None:
    """Record the demo server and these members, channels and roles in the directory
    (idempotent: unchanged names write nothing)."""
    from guildsync.services import directory
    from guildsync.services.members import record_member

    directory.record_server(
        DEMO_SERVER_ID, DEMO_SERVER_NAME,
        channels=[{"id": cid, "name": name} for cid, name in (channels or {}).items()],
        roles=[{"id": rid, "name": name} for rid, name in (roles or {}).items()])
    for discord_id, name in (members or {}).items():
        record_member(discord_id, name.lower().replace(" ", "_"), name, in_server=True)
