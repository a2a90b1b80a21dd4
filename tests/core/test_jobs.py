"""core.jobs: a job asked for after a commit is never lost. With the broker down it waits as a
pending row; the periodic sweep hands it over once the broker is back. The broker here is
kombu's filesystem transport (the run command's embedded broker) in a temporary folder: down
while its folder is missing (the FileNotFoundError of a real outage), up once it exists."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone

from config.celery import app as celery_app
from core import jobs
from core.models import PendingJob
from guildsync.models import SyncLock
from guildsync.services import arrivals

pytestmark = pytest.mark.django_db
TASK = "guildsync.tasks.matching_on_arrival_task"


def _reset_connections() -> None:
    """Celery keeps its broker connections and producers in pools: drop them so that the next
    publish connects to the broker now configured."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def filesystem_broker(folder: Path) -> Iterator[Path]:
    conf = celery_app.conf
    saved = conf.broker_url, conf.broker_transport_options
    conf.broker_url = "filesystem://localhost//"
    conf.broker_transport_options = {"data_folder_in": str(folder), "data_folder_out": str(folder),
                                     "control_folder": str(folder.parent / "control"), "store_processed": False}
    _reset_connections()
    try:
        yield folder
    finally:
        conf.broker_url, conf.broker_transport_options = saved
        _reset_connections()


def task_names(folder: Path) -> list[str]:
    """The tasks of the messages the broker holds (kombu's filesystem transport: a file each)."""
    if not folder.exists():
        return []
    return [json.loads(p.read_text())["headers"]["task"] for p in sorted(folder.glob("*.msg"))]


@pytest.fixture
def broker(tmp_path):
    with filesystem_broker(tmp_path / "queue") as folder:
        yield folder


def test_a_job_the_broker_takes_leaves_no_row(broker, django_capture_on_commit_callbacks):
    broker.mkdir()
    with django_capture_on_commit_callbacks(execute=True):
        jobs.send_on_commit(TASK, countdown=30)
        assert PendingJob.objects.count() == 1  # written with the caller's change
    assert task_names(broker) == [TASK]
    assert not PendingJob.objects.exists()


def test_a_rolled_back_caller_asks_for_nothing(broker, django_capture_on_commit_callbacks):
    broker.mkdir()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        jobs.send_on_commit(TASK)
        raise RuntimeError("the caller's change failed")
    assert task_names(broker) == [] and not PendingJob.objects.exists()


def test_with_the_broker_down_the_job_waits_and_the_sweep_sends_it_once_back(broker, caplog,
                                                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        jobs.send_on_commit(TASK, countdown=30)
    [row] = PendingJob.objects.all()
    assert row.attempts == 1 and "FileNotFoundError" in row.last_error
    assert "kept as pending job" in caplog.text
    later = timezone.now() + dt.timedelta(minutes=1)
    assert jobs.sweep_pending(later) == {"sent": 0, "failed": 1, "pending": 1}  # still down
    assert PendingJob.objects.get().attempts == 2
    broker.mkdir()  # the broker is back
    assert jobs.sweep_pending(timezone.now()) == {"sent": 0, "failed": 0, "pending": 1}  # too young: its own send may be on the way
    assert jobs.sweep_pending(later) == {"sent": 1, "failed": 0, "pending": 0}
    assert task_names(broker) == [TASK]
    assert jobs.sweep_pending(later + dt.timedelta(minutes=1)) == {"sent": 0, "failed": 0, "pending": 0}
    assert task_names(broker) == [TASK]  # sent once


def test_a_member_arrival_with_the_broker_down_keeps_its_run_coming(broker, django_capture_on_commit_callbacks):
    """The issue's failure: the ``matching_due`` mark set, the task lost, no later arrival
    scheduling matching again. Now the mark is backed by a pending job the sweep sends."""
    with django_capture_on_commit_callbacks(execute=True):
        assert arrivals.request_matching() is True  # broker down: no exception to the caller
    assert SyncLock.objects.get(name=arrivals.DUE_ROW).locked_until is not None
    assert arrivals.request_matching() is False  # a run is due: one job for the burst
    [row] = PendingJob.objects.all()
    assert row.task_name == arrivals.MATCHING_TASK
    broker.mkdir()
    assert jobs.sweep_pending(timezone.now() + dt.timedelta(minutes=2))["sent"] == 1
    assert task_names(broker) == [arrivals.MATCHING_TASK]
