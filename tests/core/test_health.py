"""Watched clocks: ``/healthz`` (the web's own liveness), ``/healthz/deep`` (every component's
heartbeat against its threshold), the dashboard's System panel, probes over plain HTTP, and
the real drill: beat → broker → a worker of each queue, then a hung beat reported late."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from config.celery import app as celery_app
from core import heartbeats
from core.beat import HeartbeatScheduler
from core.models import Heartbeat
from core.tasks import heartbeat_task

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def stamp_all(age: float = 0, *, bot: bool = True) -> None:
    at = timezone.now() - dt.timedelta(seconds=age)
    for component in heartbeats.COMPONENTS:
        if component != "bot" or bot:
            heartbeats.record(component, at=at)


def test_deep_reports_never_seen_components_and_a_disabled_bot(client, settings):
    settings.DISCORD_TOKEN = ""
    response = client.get("/healthz/deep")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["components"]["database"] == {"state": "ok"} and body["components"]["broker"] == {"state": "ok"}
    for component in ("scheduler", "worker", "delivery"):
        assert body["components"][component] == {"state": "never", "age_seconds": None}
    assert body["components"]["bot"]["state"] == "disabled"
    assert client.get("/healthz").status_code == 200  # the web itself is fine


def test_deep_is_ok_when_every_enabled_component_beat_recently(client, settings):
    settings.DISCORD_TOKEN = ""
    stamp_all(age=3, bot=False)
    response = client.get("/healthz/deep")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok"
    assert body["components"]["scheduler"] == {"state": "ok", "age_seconds": 3}
    assert set(body["components"]) == {"database", "broker", "scheduler", "worker", "delivery", "bot"}


def test_a_late_scheduler_degrades_deep_but_never_healthz(client, settings):
    settings.DISCORD_TOKEN = ""
    settings.HEALTH_SCHEDULER_LATE_SECONDS = 60
    stamp_all(age=2, bot=False)
    heartbeats.record("scheduler", at=timezone.now() - dt.timedelta(seconds=61))
    deep = client.get("/healthz/deep")
    assert deep.status_code == 503
    assert deep.json()["components"]["scheduler"]["state"] == "late"
    assert deep.json()["components"]["scheduler"]["age_seconds"] >= 61
    assert deep.json()["components"]["worker"]["state"] == "ok"
    assert client.get("/healthz").status_code == 200
    settings.HEALTH_SCHEDULER_LATE_SECONDS = 300  # the threshold is a setting
    assert client.get("/healthz/deep").status_code == 200


def test_the_bot_counts_once_it_has_a_token(client, settings):
    settings.DISCORD_TOKEN = "a-token"
    stamp_all(age=1, bot=False)
    body = client.get("/healthz/deep").json()
    assert body["components"]["bot"] == {"state": "never", "age_seconds": None}
    heartbeats.record("bot", latency_seconds=0.042, last_event="MESSAGE_CREATE",
                      last_event_at=(timezone.now() - dt.timedelta(seconds=7)).isoformat())
    response = client.get("/healthz/deep")
    assert response.status_code == 200
    bot = response.json()["components"]["bot"]
    assert bot["state"] == "ok" and bot["latency_seconds"] == 0.042 and bot["last_event"] == "MESSAGE_CREATE"
    assert 7 <= bot["last_event_age_seconds"] <= 9


def test_unknown_component_is_refused():
    with pytest.raises(ValueError, match="unknown heartbeat component"):
        heartbeats.record("cron")


def test_heartbeat_task_stamps_its_component():
    heartbeat_task.apply(args=["delivery"]).get()
    row = Heartbeat.objects.get(component="delivery")
    assert (timezone.now() - row.beat_at).total_seconds() < 5


def test_beat_sends_a_heartbeat_to_each_worker_queue():
    entries = {entry["args"][0]: entry for entry in django_settings.CELERY_BEAT_SCHEDULE.values()
               if entry["task"] == "core.tasks.heartbeat_task"}
    assert {component: entry["options"]["queue"] for component, entry in entries.items()} == heartbeats.QUEUES
    assert all(entry["schedule"] == django_settings.HEARTBEAT_INTERVAL_SECONDS for entry in entries.values())


@pytest.mark.django_db(transaction=True)  # the scheduler drops a stale connection first, as beat does
def test_scheduler_tick_stamps_at_most_every_few_seconds():
    scheduler = HeartbeatScheduler(app=celery_app, lazy=True)
    scheduler.stamp()
    first = Heartbeat.objects.get(component="scheduler").beat_at
    scheduler.stamp()  # within SCHEDULER_STAMP_SECONDS: no second write
    assert Heartbeat.objects.get(component="scheduler").beat_at == first


def test_probes_answer_plain_http_on_any_host_with_production_settings(client, settings):
    """SECURE_SSL_REDIRECT answered plain-HTTP probes with 301, and a probe asking for
    ``web:8000`` is not in ALLOWED_HOSTS: both endpoints must still answer."""
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["ops.example.org"]
    stamp_all(bot=False)
    settings.DISCORD_TOKEN = ""
    for host in ("web:8000", "localhost", "ops.example.org"):
        assert client.get("/healthz", HTTP_HOST=host).status_code == 200
        assert client.get("/healthz/deep", HTTP_HOST=host).status_code == 200
    assert client.get("/admin/", HTTP_HOST="ops.example.org").status_code == 301  # everything else: https
    assert client.get("/admin/", HTTP_HOST="web:8000").status_code == 400  # and host-checked
    response = client.get("/healthz/deep", HTTP_HOST="web:8000")
    assert "Set-Cookie" not in response.headers and response.headers["Cache-Control"].startswith("max-age=0")


def test_failures_name_the_exception_class_only(client, settings, monkeypatch):
    """A connection error's message names hosts and users: the endpoints show its class only."""
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://:hunter2-secret@127.0.0.1:1/0")
    for path in ("/healthz", "/healthz/deep"):
        response = client.get(path)
        assert response.status_code == 503
        text = response.content.decode()
        assert "hunter2" not in text and "127.0.0.1" not in text
    assert client.get("/healthz").json()["broker"] == "down: OperationalError"
    assert client.get("/healthz/deep").json()["components"]["broker"] == {"state": "down: OperationalError"}


def test_dashboard_system_panel_shows_the_same_states(admin_client, settings):
    settings.DISCORD_TOKEN = ""
    settings.GUILDOPS_VERSION = "abc1234"
    stamp_all(age=5, bot=False)
    heartbeats.record("scheduler", at=timezone.now() - dt.timedelta(seconds=600))
    Heartbeat.objects.filter(component="worker").delete()
    html = admin_client.get("/admin/").content.decode()
    panel = html.split('id="panel-system"', 1)[1].split("</div>", 1)[0]
    assert "Scheduler (Celery beat): LATE, last heartbeat 10 min ago (late after 60 s)" in panel
    assert "Worker (queue &quot;celery&quot;): never seen" in panel
    assert re.search(r"Delivery \(queue &quot;discord&quot;\): ok, last heartbeat [5-9] s ago", panel)
    assert "Discord bot (gateway): disabled (DISCORD_TOKEN is not set)" in panel
    assert "Version abc1234" in panel


def test_every_officer_sees_the_system_panel(client, officer):
    client.force_login(officer("Ark officers"))
    assert 'id="panel-system"' in client.get("/admin/").content.decode()


# -- the real drill --------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_beat_through_the_broker_to_both_queues_then_a_hung_beat_is_late(fake_discord, tmp_path, client, settings):
    """A real beat and one real worker per queue: every clock turns ``ok`` through the real
    broker. Then beat hangs (SIGSTOP: the process stays "Up", like celery#7251): within its
    threshold the scheduler reads ``late`` on ``/healthz/deep`` and the dashboard, ``/healthz``
    stays 200. SIGCONT: ``ok`` again."""
    from tests.bot.celery_workers import celery_worker, wait_for

    settings.DISCORD_TOKEN = ""
    settings.HEALTH_SCHEDULER_LATE_SECONDS = 10
    db = connection.settings_dict
    env = {**os.environ, "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
           "HEARTBEAT_INTERVAL_SECONDS": "5"}
    beat_log = tmp_path / "beat.log"
    with celery_worker(fake_discord, tmp_path, "celery", HEARTBEAT_INTERVAL_SECONDS="5"), \
            celery_worker(fake_discord, tmp_path, "discord", HEARTBEAT_INTERVAL_SECONDS="5"), \
            open(beat_log, "w") as log_file:
        beat = subprocess.Popen([sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel=INFO",
                                 "-s", str(tmp_path / f"beat-{uuid.uuid4().hex[:6]}")],
                                cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
        try:
            def components() -> dict:
                return client.get("/healthz/deep").json()["components"]

            def all_ok() -> bool:
                return all(components()[c]["state"] == "ok" for c in ("scheduler", "worker", "delivery"))

            wait_for(lambda: all_ok() or beat.poll() is not None, 90, "every clock ok")
            assert beat.poll() is None, beat_log.read_text()[-3000:]
            assert client.get("/healthz/deep").status_code == 200
            os.kill(beat.pid, signal.SIGSTOP)  # hung, but its process is still there
            wait_for(lambda: components()["scheduler"]["state"] == "late", 30, "the scheduler to be late")
            assert components()["scheduler"]["age_seconds"] <= settings.HEALTH_SCHEDULER_LATE_SECONDS + 5
            assert client.get("/healthz/deep").status_code == 503
            assert client.get("/healthz").status_code == 200
            os.kill(beat.pid, signal.SIGCONT)
            wait_for(lambda: components()["scheduler"]["state"] == "ok", 30, "the scheduler to be back")
        finally:
            if beat.poll() is None:
                os.kill(beat.pid, signal.SIGCONT)
                beat.terminate()
                beat.wait(timeout=30)
