"""A real Celery delivery worker killed -9 between Discord's answer to a scheduled event's
create and its record (issue 26): there is no nonce, so the retry lists the guild's events and
adopts the one the dead worker made. Exactly one event, and the edit queued meanwhile lands on it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone

from bot import outbox
from bot.delivery import deliver_due
from bot.models import OutboxMessage, ScheduledEvent
from bot.tasks import deliver_outbox_task
from tests.bot.celery_workers import celery_worker, kill, own_queue, wait_for

GUILD = 424_242_000_000_000_009
EVENTS = r"/guilds/\d+/scheduled-events"
Status = OutboxMessage.Status
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def mirror(start: dt.datetime) -> OutboxMessage | None:
    with transaction.atomic():
        return outbox.mirror_event("raids.raidevent:1", guild_id=GUILD, name="Heroic Progression",
                                   description="Raid night", location="World of Warcraft", start=start,
                                   end=start + dt.timedelta(hours=3), topic="raids.scheduled_event")


def test_worker_killed_between_discords_answer_and_the_record_leaves_one_event(fake_discord, tmp_path):
    start = (timezone.now() + dt.timedelta(days=2)).replace(second=0, microsecond=0)
    row = mirror(start)
    fake_discord.hold_answer_next("POST", EVENTS, 20)
    queue_name = own_queue()
    with celery_worker(fake_discord, tmp_path, queue_name) as worker:
        deliver_outbox_task.apply_async(queue=queue_name)
        wait_for(lambda: fake_discord.events_of(GUILD), 60, "Discord to create the event", worker)
        kill(worker)
        killed = timezone.now()
    row.refresh_from_db()
    assert row.status == Status.SENDING and row.attempts == 1
    assert timezone.now() < row.next_attempt_at <= killed + dt.timedelta(seconds=django_settings.OUTBOX_LEASE_SECONDS)
    moved = mirror(start + dt.timedelta(hours=1))  # the officer moves the raid meanwhile
    assert moved.kind == OutboxMessage.Kind.EVENT_EDIT
    assert deliver_due().claimed == 0  # the lease holds, and the edit waits for its create
    OutboxMessage.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())  # the lease lapses
    report = deliver_due()
    assert (report.sent, report.adopted) == (2, 1)
    [event] = fake_discord.events_of(GUILD)
    row.refresh_from_db()
    assert row.status == Status.SENT and row.attempts == 2 and row.uncertain_since is not None
    assert row.sent_message_id == int(event["id"]) == ScheduledEvent.objects.get().discord_event_id
    assert dt.datetime.fromisoformat(event["scheduled_start_time"]) == start + dt.timedelta(hours=1)
    assert len(fake_discord.calls("POST", EVENTS)) == 1
