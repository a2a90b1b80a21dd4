"""``manage.py runbot`` as a real process against the fake gateway and the fake REST API.

Used by the end-to-end tests (tests/bot/test_e2e_*.py) and by ``bench/bot_burst.py``: the bot
logs in over REST (``DISCORD_API_BASE``), syncs its commands, connects to the fake gateway
(``DISCORD_GATEWAY_URL``) and works on the given database, like in production. The test then
dispatches gateway events and reads the bot's answers from the REST fake.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.fakes.discord_api import (
    AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    MODAL,
    Answer,
    FakeDiscord,
)
from tests.fakes.discord_gateway import FakeGateway, Guild

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Outcome:
    """What the member saw: when the interaction was acknowledged and when the final answer
    arrived (seconds after dispatch), the answer's text and whether it was ephemeral."""

    acked_after: float | None
    answered_after: float | None
    text: str | None
    ephemeral: bool
    answers: list[Answer]

    @property
    def callback(self) -> Answer | None:
        return next((a for a in self.answers if a.kind == "callback"), None)


def outcome(rest: FakeDiscord, token: str) -> Outcome:
    answers = rest.answers_to(token)
    start = rest.dispatched_at(token)
    callback = next((a for a in answers if a.kind == "callback"), None)
    if callback is None:
        return Outcome(None, None, None, False, answers)
    acked = callback.at - start
    if callback.type in (CHANNEL_MESSAGE, AUTOCOMPLETE_RESULT, MODAL):
        text = callback.content if callback.type == CHANNEL_MESSAGE else None
        if callback.type == CHANNEL_MESSAGE and not text and callback.data.get("embeds"):
            text = callback.data["embeds"][0].get("description")
        return Outcome(acked, acked, text, callback.ephemeral, answers)
    final = next((a for a in answers if a.kind in ("edit_original", "followup")), None)
    if final is None:
        return Outcome(acked, None, None, callback.ephemeral, answers)
    text = final.content
    if not text and final.data.get("embeds"):
        text = final.data["embeds"][0].get("description")
    ephemeral = callback.ephemeral if final.kind == "edit_original" else final.ephemeral
    if callback.type == DEFERRED_CHANNEL_MESSAGE and final.kind == "followup":
        ephemeral = final.ephemeral
    return Outcome(acked, final.at - start, text, ephemeral, answers)


class BotProcess:
    """Fake REST API + fake gateway + ``manage.py runbot`` (one process) on ``database_url``."""

    def __init__(self, guild: Guild, database_url: str, *, env: dict[str, str] | None = None,
                 heartbeat_interval_ms: int = 2000, keep_broker: bool = False) -> None:
        self.guild = guild
        self.database_url = database_url
        self.extra_env = env or {}
        self.keep_broker = keep_broker  # tests: no broker (kicks land in a throw-away folder)
        self.rest = FakeDiscord()
        self.gateway = FakeGateway(self.rest, guild, heartbeat_interval_ms=heartbeat_interval_ms)
        self.proc: subprocess.Popen | None = None
        self.var_dir = tempfile.TemporaryDirectory(prefix="runbot-e2e-")
        self.log_path = Path(self.var_dir.name) / "runbot.log"

    def start(self, timeout: float = 90) -> BotProcess:
        self.rest.start()
        self.gateway.start()
        return self._launch(timeout)

    def restart_bot(self, timeout: float = 90) -> BotProcess:
        """Stop ``runbot`` (SIGTERM) and start a new process against the same fake Discord,
        like a deploy: open forms and old messages stay with the members."""
        assert self.proc is not None
        self.proc.terminate()
        self.proc.wait(30)
        self.gateway._ready.clear()
        self._log.close()
        return self._launch(timeout)

    def _launch(self, timeout: float) -> BotProcess:
        connected_before = self.log().count("runbot: connected as")
        dropped = () if self.keep_broker else ("REDIS_URL", "CELERY_RESULT_BACKEND")
        env = {k: v for k, v in os.environ.items() if k not in dropped}
        env.update({
            "DEBUG": "1", "SECRET_KEY": env.get("SECRET_KEY", "e2e-secret"), "DATABASE_URL": self.database_url,
            "DISCORD_API_BASE": self.rest.base_url, "DISCORD_TOKEN": self.rest.token,
            "DISCORD_GUILD_ID": str(self.guild.id), "DISCORD_GATEWAY_URL": self.gateway.url,
            "DISCORD_HTTP_TIMEOUT": "10", "GUILDOPS_VAR_DIR": self.var_dir.name, "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1", **self.extra_env,
        })
        self.env = env  # what a worker or a shell beside this bot needs (same database, same broker)
        self._log = open(self.log_path, "a")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([sys.executable, "-u", "manage.py", "runbot"], cwd=ROOT, env=env,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"runbot exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
            try:
                self.gateway.wait_ready(0.5)
                break
            except TimeoutError:
                continue
        else:
            self.stop()
            raise TimeoutError(f"runbot never connected:\n{self.log()[-3000:]}")
        self.wait_connected(times=connected_before + 1)
        return self

    def wait_connected(self, timeout: float = 30, *, times: int = 1) -> None:
        """Until the bot logged "connected" (on_ready: it has processed GUILD_CREATE), ``times``
        times in the log (a restarted process appends to it)."""
        deadline = time.monotonic() + timeout
        while self.log().count("runbot: connected as") < times or not self.gateway._ready.is_set():
            if time.monotonic() > deadline:
                raise TimeoutError(f"runbot never became ready:\n{self.log()[-3000:]}")
            time.sleep(0.05)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> int | None:
        code = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                code = self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                code = self.proc.wait(10)
        elif self.proc is not None:
            code = self.proc.returncode
        self.gateway.stop()
        self.rest.stop()
        if getattr(self, "_log", None):
            self._log.close()
        return code

    # -- asking ------------------------------------------------------------------------------------
    def send(self, payload: dict) -> str:
        """Dispatch an INTERACTION_CREATE; returns its token."""
        self.gateway.send(payload)
        return payload["token"]

    def wait(self, token: str, timeout: float = 20) -> Outcome:
        """Until the interaction has its final answer."""
        deadline = time.monotonic() + timeout
        while True:
            result = outcome(self.rest, token)
            if result.answered_after is not None or time.monotonic() > deadline:
                return result
            time.sleep(0.02)

    def ask(self, payload: dict, timeout: float = 20) -> Outcome:
        return self.wait(self.send(payload), timeout)
