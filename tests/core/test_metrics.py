"""``GET /metrics``: off without ``METRICS_TOKEN``, refused without its Bearer token, every named
series in valid Prometheus text, bounded queries however many rows, task outcomes counted by a
real worker (and not by eager runs)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from prometheus_client.parser import text_string_to_metric_families

from bot import guard
from bot.models import OutboxMessage
from core import heartbeats, metrics
from core.models import TaskRunStat
from core.tasks import heartbeat_task

TOKEN = "scrape-token-7f3a9c1e"
pytestmark = pytest.mark.django_db


@pytest.fixture
def on(settings):
    settings.METRICS_TOKEN = TOKEN
    guard.reset()  # the counts under this test's own keys (tests/conftest.py gives each test its own)
    yield
    guard.reset()


def scrape(client, **headers) -> dict[str, list]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return {family.name: family.samples for family in text_string_to_metric_families(response.content.decode())}


def value(families: dict, family: str, sample: str | None = None, **labels) -> float | None:
    for s in families.get(family, []):
        if (sample is None or s.name == sample) and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return None


def test_off_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_refused_without_the_right_bearer_token(client, on):
    for header in (None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", TOKEN):
        response = client.get("/metrics", **({"HTTP_AUTHORIZATION": header} if header else {}))
        assert response.status_code == 401, header
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert b"guildops_" not in response.content
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"bearer {TOKEN}").status_code == 200  # scheme is case-blind


def test_every_named_series(client, on, settings):
    settings.GUILDOPS_VERSION = "abc1234"
    now = timezone.now()
    rows = [
        OutboxMessage(kind="dm", user_id=1, status="pending", next_attempt_at=now),
        OutboxMessage(kind="dm", user_id=2, status="pending", next_attempt_at=now),
        OutboxMessage(kind="channel_message", channel_id=3, status="pending", next_attempt_at=now),
        OutboxMessage(kind="dm", user_id=4, status="failed", failed_at=now - dt.timedelta(minutes=5), next_attempt_at=now),
        OutboxMessage(kind="dm", user_id=5, status="failed", failed_at=now - dt.timedelta(hours=2), next_attempt_at=now),
        OutboxMessage(kind="dm", user_id=6, status="sent", sent_at=now, next_attempt_at=now),
    ]
    OutboxMessage.objects.bulk_create(rows)
    OutboxMessage.objects.filter(user_id=1).update(created_at=now - dt.timedelta(minutes=10))
    for status in (200, 200, 204, 401, 403, 429):
        guard.record_answer(status)
    metrics.record_task_run("ark.tasks.ark_lifecycle_task", "success", 0.25)
    metrics.record_task_run("ark.tasks.ark_lifecycle_task", "success", 0.75)
    metrics.record_task_run("ark.tasks.ark_lifecycle_task", "failure", 2.0)
    every_minute = IntervalSchedule.objects.create(every=60, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(name="ark: lifecycle", task="ark.tasks.ark_lifecycle_task", interval=every_minute)
    PeriodicTask.objects.create(name="raids: auto-book", task="raids.tasks.auto_book_task", interval=every_minute)
    heartbeats.record("scheduler", at=now - dt.timedelta(seconds=12))
    settings.DISCORD_TOKEN = ""

    m = scrape(client)
    assert value(m, "guildops_outbox_pending", kind="dm") == 2
    assert value(m, "guildops_outbox_pending", kind="channel_message") == 1
    assert value(m, "guildops_outbox_pending", kind="ban_member") == 0  # every kind, so alerts see zeros
    assert 600 <= value(m, "guildops_outbox_oldest_pending_age_seconds") < 660
    assert value(m, "guildops_outbox_failed_last_hour") == 1
    assert value(m, "guildops_discord_answers", status="200") == 2
    assert value(m, "guildops_discord_answers", status="429") == 1
    assert value(m, "guildops_discord_invalid_requests_window", status="403") == 1
    assert sum(s.value for s in m["guildops_discord_invalid_requests_window"]) == 3
    assert value(m, "guildops_discord_invalid_request_limit") == settings.DISCORD_INVALID_REQUEST_LIMIT
    assert value(m, "guildops_discord_delivery_paused") == 0
    lifecycle = {"task": "ark.tasks.ark_lifecycle_task"}
    assert value(m, "guildops_celery_task_runs", outcome="success", **lifecycle) == 2
    assert value(m, "guildops_celery_task_runs", outcome="failure", **lifecycle) == 1
    assert value(m, "guildops_celery_task_seconds", outcome="success", **lifecycle) == pytest.approx(1.0)
    last = value(m, "guildops_periodic_job_last_success_timestamp_seconds", job="ark: lifecycle")
    assert abs(last - now.timestamp()) < 60
    assert value(m, "guildops_periodic_job_last_success_timestamp_seconds", job="raids: auto-book") is None
    assert 12 <= value(m, "guildops_heartbeat_age_seconds", component="scheduler") < 20
    assert value(m, "guildops_heartbeat_late", component="scheduler") == 0
    assert value(m, "guildops_heartbeat_late", component="worker") == 1  # never seen
    assert value(m, "guildops_heartbeat_late", component="bot") is None  # disabled without a token
    assert value(m, "guildops_build_info", version="abc1234") == 1


def test_plain_http_on_any_host_with_production_settings(client, on, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["ops.example.org"]
    assert client.get("/metrics", HTTP_HOST="web:8000", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
    assert client.get("/metrics", HTTP_HOST="web:8000").status_code == 401


def test_a_scrape_is_a_fixed_number_of_queries(client, on, django_assert_max_num_queries):
    now = timezone.now()
    OutboxMessage.objects.bulk_create([OutboxMessage(kind="dm", user_id=i, status=("pending", "sent", "failed")[i % 3],
                                                     sent_at=now, failed_at=now, next_attempt_at=now)
                                       for i in range(3000)])
    for i in range(50):
        metrics.record_task_run(f"app.tasks.t{i}_task", "success", 0.1)
    with django_assert_max_num_queries(5):  # outbox pending, failed, task counts, periodic jobs, heartbeats
        scrape(client)


def test_eager_runs_are_not_counted():
    heartbeat_task.apply(args=["worker"]).get()
    assert not TaskRunStat.objects.exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_counts_outcomes_and_durations(fake_discord, tmp_path, client, on):
    from tests.bot.celery_workers import celery_worker, wait_for

    with celery_worker(fake_discord, tmp_path, "celery") as worker:
        heartbeat_task.apply_async(args=["worker"], queue="celery")
        heartbeat_task.apply_async(args=["no-such-component"], queue="celery")
        wait_for(lambda: TaskRunStat.objects.filter(task="core.tasks.heartbeat_task").count() == 2, 60,
                 "both runs counted", worker)
    counted = {row.outcome: row for row in TaskRunStat.objects.filter(task="core.tasks.heartbeat_task")}
    assert counted["success"].runs == 1 and counted["failure"].runs == 1
    assert 0 < counted["success"].seconds_total < 5
    m = scrape(client)
    assert value(m, "guildops_celery_task_runs", task="core.tasks.heartbeat_task", outcome="failure") == 1
