"""Error reports with the real ``sentry-sdk`` against a local ingestion endpoint
(``tests/fakes/sentry_ingest.py``): a failing task (a real Celery worker), a failing view
(gunicorn with production settings) and a failing slash command (``manage.py runbot`` against
the fake gateway) each arrive exactly once, with the release, and no envelope carries a secret,
a member's relayed message or anything from a query string or cookie."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from django.db import connection

from core import sentry
from tests import waiting
from tests.bot.conftest import People
from tests.factories import bot_guild
from tests.fakes.bot_process import BotProcess
from tests.fakes.sentry_ingest import SentryIngest

ROOT = Path(__file__).resolve().parents[2]
VERSION = "3f2a9c1e7b"
SECRETS = {
    "SECRET_KEY": "sk-9f8e7d6c5b4a39281706f5e4d3c2b1a0-not-for-production",
    "FIELD_ENCRYPTION_KEY": "fek-5b2e9d1c7a3f8e6b4d0c2a9f1e7b3d5c",
    "FIELD_ENCRYPTION_KEY_PREVIOUS": "fek-old-0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    "RAID_HELPER_API_KEY": "rh-key-77aa88bb99cc00dd11ee22ff",
    "BLIZZARD_CLIENT_SECRET": "bz-secret-4d5e6f708192a3b4c5d6",
    "WCL_CLIENT_SECRET": "wcl-secret-a1b2c3d4e5f6a7b8",
    "METRICS_TOKEN": "metrics-token-0f1e2d3c4b5a6978",
    "DISCORD_CLIENT_SECRET": "oauth-secret-8c7b6a5f4e3d2c1b",
}
RELAY_TEXT = "psst, your gift is the blue dragon plushie"
API_KEY = "AbCdEfGh.ApiKeyValueThatMustNeverLeave0123456789"
SESSION = "sessionvalue0123456789abcdefghij"


# -- the scrubber on its own -----------------------------------------------------------------------
def test_scrub_event_removes_secrets_by_value_key_and_shape(settings):
    settings.DISCORD_TOKEN = "MTE5NjA0NzM0NjM4MzE4Mzg3Mg.GxYz12.abcdefghijklmnopqrstuvwxyz0123456789AB"
    settings.FIELD_ENCRYPTION_KEY = SECRETS["FIELD_ENCRYPTION_KEY"]
    settings.FIELD_ENCRYPTION_KEY_PREVIOUS = [SECRETS["FIELD_ENCRYPTION_KEY_PREVIOUS"]]
    event = {
        "exception": {"values": [{"type": "ValueError",
                                  "value": f"bad key {SECRETS['FIELD_ENCRYPTION_KEY']} / "
                                           f"{SECRETS['FIELD_ENCRYPTION_KEY_PREVIOUS']}"}]},
        "logentry": {"message": "calling Discord with Authorization: Bot MTE5NjA0NzM0NjM4MzE4Mzg3Mg.GxYz12."
                                "abcdefghijklmnopqrstuvwxyz0123456789AB and postgres://gops:pw123@db/gops"},
        "extra": {"recipient_id": 42, "santa": "Alice", "relay_text": RELAY_TEXT, "where": "bot.command",
                  "nested": [{"api_key": API_KEY}]},
        "request": {"url": f"https://ops.example.org/api/x?token={SECRETS['METRICS_TOKEN']}",
                    "query_string": f"token={SECRETS['METRICS_TOKEN']}", "cookies": {"sessionid": SESSION},
                    "headers": {"Cookie": f"sessionid={SESSION}", "User-Agent": "curl", "X-Api-Key": API_KEY}},
    }
    scrubbed = sentry.scrub_event(event, {})
    text = repr(scrubbed)
    for secret in (settings.DISCORD_TOKEN, *SECRETS.values(), API_KEY, SESSION, RELAY_TEXT, "pw123", "Alice"):
        assert secret not in text
    assert scrubbed["extra"]["where"] == "bot.command"  # ordinary context stays
    assert scrubbed["request"]["url"] == "https://ops.example.org/api/x"
    assert scrubbed["request"]["headers"]["User-Agent"] == "curl"
    assert "postgres://[Filtered]@db/gops" in scrubbed["logentry"]["message"]
    assert "Bot [Filtered]" in scrubbed["logentry"]["message"]


def test_no_dsn_no_reporting():
    assert sentry.init("", release="x", environment="test") is False


# -- end to end, three processes ---------------------------------------------------------------------
@pytest.fixture
def empty_database():
    """A database without tables: every process below fails on its first query, for real."""
    name = f"gops_sentry_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    db = connection.settings_dict
    yield f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{name}"
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def ingest():
    sink = SentryIngest().start()
    yield sink
    sink.stop()


def wait_until(condition, seconds: float, what: str, logs: str = ""):
    waiting.wait_until(condition, seconds, what, every=0.2, context=lambda: logs[-3000:])


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def is_task(event: dict) -> bool:
    return (event.get("extra", {}).get("celery-job") or {}).get("task_name") == "core.tasks.heartbeat_task"


def is_view(event: dict) -> bool:
    return (event.get("request") or {}).get("url", "").endswith("/api/identity/players")


def is_command(event: dict) -> bool:
    message = (event.get("logentry") or {}).get("formatted") or (event.get("logentry") or {}).get("message") or ""
    return event.get("logger") == "bot.interactions" and "(ratmas)" in message and "failed" in message


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_task_view_and_slash_command_errors_arrive_once_without_secrets(empty_database, ingest, tmp_path):
    from core.tasks import heartbeat_task
    from tests.bot.celery_workers import celery_worker
    from tests.fakes.discord_api import FakeDiscord

    discord_token = FakeDiscord.token
    env = {**SECRETS, "SENTRY_DSN": ingest.dsn, "GUILDOPS_VERSION": VERSION, "DATABASE_URL": empty_database,
           "DISCORD_TOKEN": discord_token, "SENTRY_ENVIRONMENT": "test"}

    # 1. a task: a real worker runs a heartbeat for a component named like the bot's token
    fake = type("FakeDiscordEnv", (), {"base_url": "http://127.0.0.1:9", "token": discord_token})()
    with celery_worker(fake, tmp_path, "celery", **env) as worker:
        heartbeat_task.apply_async(args=[discord_token], queue="celery")
        wait_until(lambda: any(is_task(e) for e in ingest.events()), 60, "the task's report",
                   worker.log_path.read_text())  # type: ignore[attr-defined]

    # 2. a view: gunicorn with production settings, on a database nobody migrated
    port = free_port()
    web_env = {**os.environ, **env, "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "0",
               "STATIC_MANIFEST": "0"}
    web_log = tmp_path / "gunicorn.log"
    with open(web_log, "w") as log_file:
        web = subprocess.Popen([sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
                                "--workers", "1"], cwd=ROOT, env=web_env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: _get(f"http://127.0.0.1:{port}/healthz") is not None, 60, "gunicorn", web_log.read_text())
        status = _get(f"http://127.0.0.1:{port}/api/identity/players?token={SECRETS['METRICS_TOKEN']}"
                      f"&search={RELAY_TEXT.replace(' ', '+')}",
                      headers={"Authorization": f"Api-Key {API_KEY}", "Cookie": f"sessionid={SESSION}"})
        assert status == 500
        wait_until(lambda: any(is_view(e) for e in ingest.events()), 30, "the view's report", web_log.read_text())
    finally:
        web.terminate()
        web.wait(30)

    # 3. a slash command: a member relays a message to their recipient; the database fails
    bot = BotProcess(bot_guild(vars(People).values()), empty_database,
                     env={**env, "DISCORD_TOKEN": discord_token}).start()
    try:
        result = bot.ask(bot.gateway.slash("ratmas message-recipient", {"text": RELAY_TEXT}, member=People.alice))
        assert result.text and "Something went wrong" in result.text
        wait_until(lambda: any(is_command(e) for e in ingest.events()), 30, "the command's report", bot.log())
    finally:
        assert bot.stop() == 0, bot.log()[-3000:]  # the SDK flushes at exit

    events = ingest.events()
    assert [sum(map(is_task, events)), sum(map(is_view, events)), sum(map(is_command, events))] == [1, 1, 1], \
        [(e.get("logger"), (e.get("logentry") or {}).get("message"), e.get("transaction")) for e in events]
    for event in filter(lambda e: is_task(e) or is_view(e) or is_command(e), events):
        assert event["release"] == VERSION and event["environment"] == "test"
    raw = ingest.raw().decode("utf-8", "replace")
    for secret in (discord_token, *SECRETS.values(), API_KEY, SESSION, RELAY_TEXT, RELAY_TEXT.replace(" ", "+")):
        assert secret not in raw, f"{secret!r} reached the error reports"


def _get(url: str, headers: dict | None = None) -> int | None:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None
