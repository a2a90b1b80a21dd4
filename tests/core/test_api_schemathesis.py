"""Schemathesis against the whole API (issue 12, Build): every operation of /api/schema/,
every check, all four phases (examples, coverage, fuzzing, stateful), once with an API key and
once with a staff session of a Guild officer. Zero failures are required: no 5xx, no response
outside the schema, no documented status missed, bad input refused, good input accepted.

The CLI runs in-process against pytest-django's live server (the stateful phase needs real
requests in sequence); the examples per operation are bounded (MAX_EXAMPLES) and the seed is
fixed, so the run is repeatable and takes about a minute per identity on 2 cores.
Per-operation settings: tests/core/schemathesis.toml.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from click.testing import CliRunner
from schemathesis.cli import schemathesis as schemathesis_cli

from core.services import create_api_key
from guildsync.services.reference import load_reference_data
from tests.factories import discord_user, player, wow_character

CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = 10
SEED = 20261128
CSRF_TOKEN = "schemathesisschemathesisschemat"  # 32 characters: Django accepts an unmasked secret

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, reset_sequences=True)]


@pytest.fixture
def guild_data() -> None:
    """Rows with small ids (sequences reset), so generated ids reach real rows: characters and
    Discord users 1..12, players 1..4 with links, orphans on both sides, a rank mismatch."""
    load_reference_data()  # an earlier transactional test may have flushed it
    users = [discord_user(f"member{i}", discord_id=80351110224678912 + i) for i in range(12)]
    chars = [wow_character(f"Char{i}", guild_rank="Member", level=70 + i) for i in range(12)]
    for i in range(4):
        player(f"Player{i}", discord_user=users[i], characters=chars[2 * i:2 * i + 2], main_character=chars[2 * i])
    officer_user = discord_user("officerish", role="Member")
    player("Mismatch", discord_user=officer_user, characters=[wow_character("Boss", guild_rank="Officer")])


@pytest.fixture
def fuzz_settings(settings) -> None:
    # the throttle has its own test (test_defect8_triggers_are_throttled_per_key); here it would
    # only hide the triggers' logic behind 429s
    settings.API_THROTTLE_RATES = {"sync-trigger": ""}


def run_schemathesis(base_url: str, headers: list[str], report_dir: Path) -> str:
    args = ["--config-file", str(CONFIG), "run", f"{base_url}/api/schema/",
            "--checks", "all", "--phases", "examples,coverage,fuzzing,stateful", "--mode", "all",
            "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED), "--workers", "1",
            "--no-color", "--report-dir", str(report_dir)]
    for header in headers:
        args += ["--header", header]
    result = CliRunner().invoke(schemathesis_cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def operation_count() -> int:
    from django.test import Client

    schema = Client().get("/api/schema/", HTTP_ACCEPT="application/json").json()
    return sum(method in ("get", "post", "put", "patch", "delete")
               for item in schema["paths"].values() for method in item)


def assert_every_operation_tested(output: str) -> None:
    n = operation_count()
    assert n >= 11 and f"Selected: {n}/{n}" in output and f"Tested: {n}\n" in output, output
    assert "Stateful" in output and " 0 covered" not in output, output


def test_schemathesis_with_an_api_key(live_server, guild_data, fuzz_settings, tmp_path):
    _key, raw = create_api_key("schemathesis", ["read", "write", "upload"])
    output = run_schemathesis(live_server.url, [f"Authorization: Api-Key {raw}"], tmp_path)
    assert_every_operation_tested(output)


def test_schemathesis_with_a_staff_session(live_server, guild_data, fuzz_settings, officer, tmp_path):
    from django.test import Client

    client = Client()
    client.force_login(officer("Guild officers"))
    session = client.cookies["sessionid"].value

    # The session as Schemathesis auth (not a raw Cookie header), so its auth checks know the
    # credential: they drop it and expect 401/403, or forge it and expect the same. DRF checks
    # CSRF on session writes: the csrftoken cookie and the X-CSRFToken header carry one secret.
    @schemathesis.auth()
    class StaffSession:
        def get(self, case, ctx):
            return session

        def set(self, case, data, ctx):
            case.cookies = {**(case.cookies or {}), "sessionid": data, "csrftoken": CSRF_TOKEN}
            case.headers = {**(case.headers or {}), "X-CSRFToken": CSRF_TOKEN}

    try:
        output = run_schemathesis(live_server.url, [], tmp_path)
    finally:
        schemathesis.auths.unregister()
    assert_every_operation_tested(output)
