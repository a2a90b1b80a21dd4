"""Every environment variable config/settings.py reads is documented twice: in the README's
"Environment" table (what it means, its default) and in .env.example (what an operator fills
in for the compose file). A setting added without both fails here, naming it.

The names are read from the settings module's source (every ``env_*("NAME", …)`` and
``os.environ.get("NAME", …)`` call), so nothing is listed by hand."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
READERS = {"env_str", "env_bool", "env_int", "env_float", "env_list", "env_snowflake", "env_role_groups"}


def settings_variables() -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse((ROOT / "config" / "settings.py").read_text())):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        first = node.args[0]
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            continue
        func = node.func
        reader = isinstance(func, ast.Name) and func.id in READERS
        environ = (isinstance(func, ast.Attribute) and func.attr in ("get", "getenv")
                   and ast.unparse(func.value) in ("os.environ", "os"))
        if reader or environ:
            names.add(first.value)
    return names


def readme_table_variables() -> set[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Environment", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            names.update(re.findall(r"`([A-Z][A-Z0-9_]*)`", first_cell))
    return names


def env_example_variables() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def test_the_settings_module_reads_variables():
    names = settings_variables()
    # The reader must see the settings as they are, not an empty set that passes everything.
    assert {"SECRET_KEY", "DATABASE_URL", "DISCORD_TOKEN", "GUILDOPS_VAR_DIR"} <= names


@pytest.mark.parametrize("where, documented", [
    ("README.md, section Environment (first column of the table)", readme_table_variables),
    (".env.example (a NAME= line, commented out when optional)", env_example_variables),
])
def test_every_setting_is_documented(where, documented):
    missing = sorted(settings_variables() - documented())
    assert not missing, f"settings read by config/settings.py but not documented in {where}: {', '.join(missing)}"


def test_nothing_documented_that_the_settings_do_not_read():
    """A renamed or removed setting must leave the documentation too (compose-only variables
    of .env.example are read by compose.yaml, not by Django, and are listed there)."""
    compose_only = {"POSTGRES_PASSWORD", "GUILDOPS_IMAGE", "POSTGRES_IMAGE", "REDIS_IMAGE", "WEB_BIND",
                    "WEB_CONCURRENCY", "WEB_TIMEOUT", "FORWARDED_ALLOW_IPS", "WORKER_CONCURRENCY",
                    "DELIVERY_CONCURRENCY", "HEALTH_LIVENESS_SECONDS"}
    compose = (ROOT / "compose.yaml").read_text() + (ROOT / "docker" / "entrypoint.sh").read_text() \
        + (ROOT / "docker" / "healthcheck.py").read_text()
    for name in compose_only:
        assert name in compose, f"{name} is documented as a compose/container variable but nothing reads it"
    stale = sorted(env_example_variables() - settings_variables() - compose_only)
    assert not stale, f".env.example names variables nothing reads: {', '.join(stale)}"
    stale = sorted(readme_table_variables() - settings_variables() - compose_only)
    assert not stale, f"the README's Environment table names variables nothing reads: {', '.join(stale)}"
