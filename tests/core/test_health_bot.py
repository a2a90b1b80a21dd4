"""The bot's watched clock and its metrics port, with ``manage.py runbot`` as a real process
against the fake gateway: its heartbeat follows the gateway's heartbeat acknowledgements (a
connection whose acknowledgements stop reads ``late`` while the process lives on), and its
port serves the interaction latency histograms, the gateway latency and the event lane."""

from __future__ import annotations

import socket
import urllib.request

import pytest
from django.db import connection

from tests import waiting
from tests.bot.conftest import People
from tests.factories import bot_guild
from tests.fakes.bot_process import BotProcess
from tests.fakes.discord_gateway import HEARTBEAT

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
LATE = 6  # HEALTH_BOT_LATE_SECONDS for this test: the bot stamps every 1.5 s


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, seconds: float, what: str, process: BotProcess):
    return waiting.wait_until(condition, seconds, what, every=0.2, context=lambda: process.log()[-3000:])


@pytest.fixture
def bot_with_metrics(settings):
    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    port = free_port()
    process = BotProcess(bot_guild(vars(People).values()), url, heartbeat_interval_ms=1000,
                         env={"BOT_METRICS_PORT": str(port), "BOT_METRICS_ADDR": "127.0.0.1",
                              "HEALTH_BOT_LATE_SECONDS": str(LATE)}).start()
    settings.DISCORD_TOKEN = process.rest.token
    settings.HEALTH_BOT_LATE_SECONDS = LATE
    process.metrics_url = f"http://127.0.0.1:{port}/metrics"
    yield process
    assert process.stop() == 0, process.log()[-3000:]


def metric(text: str, name: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(name + " ") or (line.startswith(name + "{") and "} " in line):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_bot_heartbeat_follows_the_gateway_and_its_metrics_port(bot_with_metrics, client):
    process = bot_with_metrics

    def bot_state() -> dict:
        return client.get("/healthz/deep").json()["components"]["bot"]

    state = wait_for(lambda: bot_state()["state"] == "ok" and "latency_seconds" in bot_state() and bot_state(),
                     30, "the bot's heartbeat", process)
    assert 0 <= state["latency_seconds"] < 2  # against the fake, discord.py may count up to one interval
    assert state["last_event"] in ("READY", "GUILD_CREATE", "GUILD_MEMBERS_CHUNK")

    result = process.ask(process.gateway.slash("bytes balance", user=People.alice))  # a DM: refused at once
    assert result.callback is not None
    wait_for(lambda: bot_state().get("last_event") == "INTERACTION_CREATE", 10, "the last event", process)
    text = urllib.request.urlopen(process.metrics_url, timeout=5).read().decode()
    assert metric(text, "guildops_bot_interaction_ack_seconds_count") >= 1
    assert metric(text, "guildops_bot_interaction_answer_seconds_count") >= 1
    assert 0 <= metric(text, "guildops_bot_gateway_latency_seconds") < 2
    assert metric(text, "guildops_bot_event_lane_depth") == 0
    assert "# TYPE guildops_bot_event_lane_skipped_total counter" in text

    # Discord stops acknowledging heartbeats (a zombie connection): the process and its loop live
    # on, yet the heartbeat ages past its threshold.
    gateway = process.gateway
    answer = gateway._receive

    async def no_acks(sock, payload):
        if payload.get("op") != HEARTBEAT:
            await answer(sock, payload)

    gateway._receive = no_acks
    wait_for(lambda: bot_state()["state"] == "late", LATE + 10, "the bot to be late", process)
    assert client.get("/healthz/deep").status_code == 503
    assert client.get("/healthz").status_code == 200
    gateway._receive = answer
    wait_for(lambda: bot_state()["state"] == "ok", 15, "the bot to be back", process)
