"""A real Celery worker, in its own process, against the real Redis, executing a real task."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction

from bot import outbox
from bot.models import OutboxMessage
from bot.tasks import deliver_outbox_task

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_real_worker_delivers_the_outbox_over_redis(fake_discord):
    assert django_settings.CELERY_BROKER_URL.startswith("redis://"), "the test command provides REDIS_URL"
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DISCORD_API_BASE": fake_discord.base_url,
        "DISCORD_TOKEN": fake_discord.token,
    }
    with transaction.atomic():
        row = outbox.post_message(123456789, content="sent by a real worker")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--without-heartbeat",
         "--without-gossip", "--without-mingle", "--loglevel=INFO", "-n", f"test-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deliver_outbox_task.delay()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            row.refresh_from_db()
            if row.status == OutboxMessage.Status.SENT:
                break
            time.sleep(0.3)
    finally:
        worker.terminate()
        output = worker.communicate(timeout=30)[0]
    assert row.status == OutboxMessage.Status.SENT, output[-3000:]
    assert [m["content"] for m in fake_discord.posted(123456789)] == ["sent by a real worker"]
    assert "bot.tasks.deliver_outbox_task" in output
