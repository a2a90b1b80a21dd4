"""Real Celery workers for the delivery tests: ``celery -A config worker`` processes on the
test database and the test command's Redis, each on a queue of its own (tests running in
parallel never take each other's tasks), started in a session of their own so a test can
kill a worker with everything it started, as ``docker kill`` does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings as django_settings
from django.db import connection

from tests import waiting

ROOT = Path(__file__).resolve().parents[2]


def own_queue() -> str:
    return f"discord-test-{uuid.uuid4().hex[:10]}"


@contextmanager
def celery_worker(fake_discord, tmp_path: Path, queues: str, *, pool: str = "solo", concurrency: int = 1,
                  **env_extra: str) -> Iterator[subprocess.Popen]:
    """``celery -A config worker -Q queues`` on the test database; waits until it is ready;
    stops it (if the test did not) and shows its log on failure."""
    assert django_settings.CELERY_BROKER_URL.startswith("redis://"), "the test command provides REDIS_URL"
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DISCORD_API_BASE": fake_discord.base_url,
        "DISCORD_TOKEN": fake_discord.token,
        **env_extra,
    }
    log_path = tmp_path / f"worker-{queues}-{uuid.uuid4().hex[:6]}.log"
    with open(log_path, "w") as log_file:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", f"--pool={pool}", "--concurrency",
             str(concurrency), "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel=INFO",
             "-Q", queues, "-n", f"{queues}-{uuid.uuid4().hex[:8]}@%h"],
            cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )
    worker.log_path = log_path  # type: ignore[attr-defined]
    try:
        wait_for(lambda: " ready." in log_path.read_text(), 90, "worker start", worker)
        yield worker
    finally:
        if worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                kill(worker)


def kill(worker: subprocess.Popen) -> None:
    """SIGKILL to the worker and every process it started (its pool), like ``docker kill``."""
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)


def wait_for(condition: Callable[[], object], seconds: float, what: str, *workers: subprocess.Popen):
    return waiting.wait_until(condition, seconds, what, every=0.1, context=lambda: "\n".join(
        w.log_path.read_text()[-3000:] for w in workers))  # type: ignore[attr-defined]


class Feeder:
    """Keeps one delivery task queued on ``queue`` (what commits' kicks and the beat sweep
    do in production), so a worker runs delivery again as soon as its last run ended."""

    def __init__(self, queue: str) -> None:
        from bot.tasks import deliver_outbox_task

        self.task = deliver_outbox_task
        self.queue = queue
        self.pending = None

    def tick(self) -> None:
        if self.pending is None or self.pending.ready():
            self.pending = self.task.apply_async(queue=self.queue, ignore_result=False)

    def until(self, condition: Callable[[], object], seconds: float, what: str, *workers: subprocess.Popen):
        def fed() -> object:
            self.tick()
            return condition()
        return wait_for(fed, seconds, what, *workers)
