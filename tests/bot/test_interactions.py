"""bot.interactions on its own: the paths of the reply helper the end-to-end tests cannot
provoke on demand (an unexpected exception, an error after a public deferral), the event
lane's overload accounting and the database pool's connection hygiene."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest

from bot import interactions
from core.errors import DomainError
from tests.discord_objects import DiscordHarness
from tests.factories import bot_guild, bot_people
from tests.fakes.discord_api import CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE
from tests.waiting import wait_until

ALICE = bot_people().alice


@pytest.fixture
def reply(fake_discord, db):
    """``reply(work, ephemeral=...)``: ``interactions.respond`` to a real ``/test`` interaction
    of Alice's; the answers as the fake Discord received them, as ``(kind, type, content,
    ephemeral)`` in order."""
    harness = DiscordHarness(fake_discord, bot_guild([ALICE]))

    def run(work, *, ephemeral=True):
        payload = harness.payloads.slash("test", member=ALICE)
        result = harness.handle(payload, lambda interaction: interactions.respond(interaction, work,
                                                                                  ephemeral=ephemeral))
        run.payload = payload
        return [(a.kind, a.type, a.content, a.ephemeral) for a in result.answers]

    return run


def test_quick_work_is_answered_with_one_callback(settings, reply):
    settings.DISCORD_DEFER_AFTER = 1.0

    async def work():
        return "done"
    assert reply(work) == [("callback", CHANNEL_MESSAGE, "done", True)]


def test_slow_work_is_deferred_then_the_original_edited(settings, reply):
    settings.DISCORD_DEFER_AFTER = 0.05

    async def work():
        await asyncio.sleep(0.3)
        return "done"
    assert reply(work, ephemeral=False) == [("callback", DEFERRED_CHANNEL_MESSAGE, None, False),
                                            ("edit_original", None, "done", False)]


def test_a_deferral_that_reached_discord_without_its_answer_is_answered_by_an_edit(settings, reply, fake_discord,
                                                                                   caplog):
    """The deferral is carried out but its answer is lost (a 502 from the proxy): discord.py
    retries it and meets 40060 "already acknowledged", so the bot believes it never deferred.
    The member sees "thinking…"; a second callback would be refused with 40060 again, so the
    answer edits the original message instead of being dropped."""
    settings.DISCORD_DEFER_AFTER = 0.05
    fake_discord.lose_answer_next("POST", r"/interactions/\d+/[^/]+/callback", 502)

    async def work():
        await asyncio.sleep(1.5)  # longer than discord.py's pause before it retries the 502
        return "done"
    with caplog.at_level(logging.INFO, logger="bot.interactions"):
        answers = reply(work, ephemeral=False)
    assert answers == [("callback", DEFERRED_CHANNEL_MESSAGE, None, False), ("edit_original", None, "done", False)]
    callbacks = fake_discord.calls("POST", r"/interactions/\d+/[^/]+/callback")
    assert len(callbacks) >= 3  # the deferral, discord.py's retry of it, the answer's callback (both refused)
    assert "the deferral had reached Discord; answered by editing it" in caplog.text


def test_an_error_after_a_public_deferral_stays_private(settings, reply):
    settings.DISCORD_DEFER_AFTER = 0.05

    async def work():
        await asyncio.sleep(0.3)
        raise DomainError("You can send at most 500 bytes at once.")
    assert reply(work, ephemeral=False) == [
        ("callback", DEFERRED_CHANNEL_MESSAGE, None, False),
        ("followup", None, "You can send at most 500 bytes at once.", True), ("delete_original", None, None, False)]


def test_an_unexpected_failure_is_logged_with_its_cause_and_answered_plainly(settings, caplog, reply):
    settings.DISCORD_DEFER_AFTER = 1.0

    async def work():
        raise RuntimeError("the cause")
    with caplog.at_level(logging.ERROR, logger="bot.interactions"):
        answers = reply(work, ephemeral=False)
    assert answers == [("callback", CHANNEL_MESSAGE, interactions.FAILED, True)]
    [record] = caplog.records
    assert f"interaction {reply.payload['id']} (test) by {ALICE.id} failed" in record.getMessage()
    assert "the cause" in str(record.exc_info[1])


def test_a_full_event_queue_skips_with_a_warning_and_a_count(settings, caplog):
    settings.DISCORD_EVENT_QUEUE = 2
    settings.DISCORD_EVENT_THREADS = 1
    lane = interactions.EventLane()
    release = threading.Event()
    done = []

    def slow(n):
        release.wait(5)
        done.append(n)

    async def scenario():
        for n in range(6):
            await lane.submit("automod", slow, n)
            await asyncio.sleep(0.01)  # the worker takes the first job; two wait; the rest are skipped
        release.set()
        await lane.drain()
        await lane.shutdown()

    with caplog.at_level(logging.WARNING, logger="bot.interactions"):
        asyncio.run(scenario())
    assert lane.stats["automod:skipped"] == 3 and lane.stats["automod:done"] == 3
    assert sorted(done) == [0, 1, 2]
    assert sum("skipped automod" in r.getMessage() for r in caplog.records) == 3


@pytest.mark.django_db(transaction=True)
def test_the_pool_runs_on_its_own_threads_and_closes_their_connections(settings):
    settings.DISCORD_DB_THREADS = 3
    pool = interactions.DatabasePool("test", "DISCORD_DB_THREADS")
    seen = []

    def query():
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            seen.append((threading.current_thread().name, cursor.fetchone()[0]))

    async def scenario():
        await asyncio.gather(*(pool.run(query) for _ in range(12)))
    asyncio.run(scenario())
    threads = {name for name, _ in seen}
    assert 1 <= len(threads) <= 3 and all(name.startswith("bot-test") for name in threads)
    pool.shutdown()
    from django.db import connection

    def backends_left() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [[pid for _, pid in seen]])
            return cursor.fetchone()[0]
    # CONN_MAX_AGE=0: each job closed its connection. The server's backend leaves
    # pg_stat_activity a moment after the client closed (asynchronously, later under load).
    wait_until(lambda: backends_left() == 0, 10, "the pool's connections to close")
