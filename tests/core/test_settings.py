"""Settings come from the environment and refuse malformed values at start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def run_django(env: dict[str, str], code: str = "import django; django.setup(); print('ok')",
               *args: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    base.update(DJANGO_SETTINGS_MODULE="config.settings", **env)
    cmd = [sys.executable, *(args or ("-c", code))]
    return subprocess.run(cmd, cwd=ROOT, env=base, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("env, message", [
    ({"DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
    ({"DEBUG": "1", "OUTBOX_BATCH_SIZE": "lots"}, "OUTBOX_BATCH_SIZE='lots' is not an integer"),
    ({"DEBUG": "1", "OUTBOX_BATCH_SIZE": "0"}, "OUTBOX_BATCH_SIZE=0 must be at least 1"),
    ({"DEBUG": "1", "DISCORD_GUILD_ID": "my-server"}, "DISCORD_GUILD_ID='my-server' is not a Discord id"),
    ({"DEBUG": "0"}, "SECRET_KEY must be set when DEBUG is off"),
])
def test_malformed_environment_stops_startup_naming_the_variable(env, message):
    result = run_django(env)
    assert result.returncode != 0
    assert message in result.stderr


def test_debug_without_secret_key_generates_one_and_warns():
    result = run_django({"DEBUG": "1"})
    assert result.returncode == 0, result.stderr
    assert "SECRET_KEY not set" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    env = {"DEBUG": "0", "SECRET_KEY": "x9!" * 20 + "production-like-secret-value", "ALLOWED_HOSTS": "ops.example.org"}
    result = run_django(env, "", "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_database_is_postgresql():
    """The suite runs on real PostgreSQL: races and constraints are proved where they matter."""
    assert connection.vendor == "postgresql"


def test_times_are_utc(settings):
    assert settings.USE_TZ is True and settings.TIME_ZONE == "UTC"
