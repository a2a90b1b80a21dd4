"""``manage.py runbot``: refuses to start without a token; logs in and syncs commands against
the fake Discord API."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from bot.runner import GuildOpsBot, discord_command_modules

ROOT = Path(__file__).resolve().parents[2]


def test_runbot_without_token_exits_non_zero_with_a_clear_message():
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    env.setdefault("DEBUG", "1")
    result = subprocess.run([sys.executable, "manage.py", "runbot"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode != 0
    assert "DISCORD_TOKEN is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_runbot_without_token_raises_command_error(settings):
    settings.DISCORD_TOKEN = ""
    with pytest.raises(CommandError, match="DISCORD_TOKEN"):
        call_command("runbot")


@pytest.mark.django_db
def test_runbot_logs_in_and_syncs_commands_to_the_guild(fake_discord, settings):
    settings.DISCORD_GUILD_ID = 4242
    out = io.StringIO()
    call_command("runbot", "--sync-only", stdout=out)
    assert "Logged in as guildops" in out.getvalue()
    assert fake_discord.calls("GET", r"^/users/@me$")
    [sync] = fake_discord.calls("PUT", r"^/applications/2000/guilds/4242/commands$")
    names = {c["name"] for c in sync.json}
    assert names == {c["name"] for c in fake_discord.commands["4242"]}
    for command in sync.json:  # Discord's limits on every command the apps register
        assert 1 <= len(command["name"]) <= 32
        if command.get("type", 1) == 1:  # slash commands (context menus: any case, no description)
            assert command["name"] == command["name"].lower()
            assert 1 <= len(command["description"]) <= 100
        assert len(command.get("options", [])) <= 25


@pytest.mark.django_db
def test_runbot_with_a_refused_token_fails_cleanly(fake_discord, settings):
    settings.DISCORD_TOKEN = "not-the-token"
    with pytest.raises(CommandError, match="login failed"):
        call_command("runbot", "--sync-only")


def test_every_domain_app_commands_module_is_discovered():
    modules = discord_command_modules()
    assert all(m.endswith(".discord_commands") for m in modules)
    assert {m.split(".")[0] for m in modules} >= {"guildsync", "raids", "ark", "ratmas", "economy"}


def test_intents_include_members_and_message_content():
    bot = GuildOpsBot()
    assert bot.intents.members and bot.intents.message_content and bot.intents.guilds


@pytest.mark.slow
def test_runbot_shuts_down_cleanly_on_sigterm(fake_discord):
    """Logged in, trying to reach a gateway that refuses connections (an outage): the bot
    keeps retrying with backoff instead of crashing, and SIGTERM stops it cleanly (exit 0)."""
    import signal
    import time

    env = {**os.environ, "DEBUG": "1", "DISCORD_API_BASE": fake_discord.base_url,
           "DISCORD_TOKEN": fake_discord.token, "DISCORD_GUILD_ID": "4242",
           "DISCORD_GATEWAY_URL": "ws://127.0.0.1:1/"}
    proc = subprocess.Popen([sys.executable, "-u", "manage.py", "runbot"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if "gateway unreachable" in line or not line:
                break
        assert "gateway unreachable" in lines[-1], "".join(lines)[-2000:]
        proc.send_signal(signal.SIGTERM)
        output = "".join(lines) + proc.communicate(timeout=30)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, output[-2000:]
    assert "Logged in as guildops" in output and "shutting down" in output
    assert "AttributeError" not in output
