"""The bot's contract with Discord, end to end (``manage.py runbot`` as a process against the
fake gateway and REST API): heartbeats, a dropped connection resumed without losing events,
slow work deferred within 3 seconds and answered later, server commands used in a DM, unknown
and stale buttons, option values discord.py cannot convert, and a clean SIGTERM (the fixture)."""

from __future__ import annotations

import threading
import time

import pytest

from bot.interactions import GUILD_ONLY, STALE_BUTTON
from tests import factories
from tests.bot.conftest import People
from tests.fakes.discord_api import DEFERRED_CHANNEL_MESSAGE

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ark_match():
    return factories.ark_match(factories.bot_ark_alliance({1: People.alice, 2: People.bob}, player_cap=5, sub_cap=2))


def test_heartbeats_are_acknowledged_and_the_bot_identified_once(bot):
    deadline = time.monotonic() + 10
    while bot.gateway.heartbeats < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert bot.gateway.heartbeats >= 2  # HELLO said every 2 s; each got its ACK (or discord.py reconnects)
    assert bot.gateway.identifies == 1
    identify = next(p for p in bot.gateway.received if p["op"] == 2)
    intents = identify["d"]["intents"]
    assert intents & (1 << 1) and intents & (1 << 15)  # GUILD_MEMBERS and MESSAGE_CONTENT (privileged)


def test_slow_work_is_deferred_within_3_seconds_then_answered(bot, ark_match):
    """The match row is held locked by another transaction, so the signup waits: the bot must
    acknowledge (deferred, "thinking…") in time, and edit the answer once the lock is gone."""
    from django.db import connections, transaction

    from ark.models import Match, Signup

    locked, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        try:
            with transaction.atomic():
                Match.objects.select_for_update().get(pk=ark_match.pk)
                locked.set()
                release.wait(30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    assert locked.wait(10)
    try:
        token = bot.send(bot.gateway.button(f"ark:join_player:{ark_match.pk}", member=People.alice))
        deadline = time.monotonic() + 10
        while not bot.rest.answers_to(token) and time.monotonic() < deadline:
            time.sleep(0.02)
        [ack] = bot.rest.answers_to(token)
        assert ack.type == DEFERRED_CHANNEL_MESSAGE and ack.ephemeral  # deferred while the work waits on the lock
        time.sleep(3.5)  # past Discord's deadline: only an edit of the original can answer now
        assert not Signup.objects.exists()
    finally:
        release.set()
        holder.join(30)
    result = bot.wait(token)
    assert [a.kind for a in result.answers] == ["callback", "edit_original"]
    assert "Gov1 is signed up as **Player**" in result.text and result.ephemeral
    assert bot.rest.original(token)["content"] == result.text


def test_a_server_command_used_in_a_dm_gets_a_sentence(bot):
    result = bot.ask(bot.gateway.slash("bytes balance", user=People.alice))
    assert result.callback is not None
    assert result.text == GUILD_ONLY and result.ephemeral
    # /ark works in a DM (it only needs the member's id)
    result = bot.ask(bot.gateway.slash("ark governor list", user=People.alice))
    assert result.text == "No governor registered yet."


def test_unknown_and_stale_buttons_are_answered(bot, ark_match):
    gw = bot.gateway
    for custom_id in ("poll:vote:1", "ark:teleport:1", "no-prefix-at-all"):
        result = bot.ask(gw.button(custom_id, member=People.alice))
        assert result.callback is not None, custom_id
        assert result.text == STALE_BUTTON and result.ephemeral, custom_id
    result = bot.ask(gw.button("ark:join_player:999999", member=People.alice))  # a deleted match
    assert result.text == "Ark match #999999 does not exist." and result.ephemeral, result.text


def test_an_option_discordpy_cannot_convert_goes_through_tree_on_error(bot):
    payload = bot.gateway.slash("bytes send", {"member": People.bob, "amount": 5}, member=People.alice)
    del payload["data"]["resolved"]  # the member option's user is missing from "resolved"
    result = bot.ask(payload)
    assert result.callback is not None
    assert result.text.startswith("I could not understand") and result.ephemeral
    assert "refused" in bot.log() and "TransformerError" in bot.log()


def test_dropped_connection_resumes_and_keeps_answering(bot):
    gw = bot.gateway
    sessions, identifies = gw.session_id, gw.identifies
    gw.drop()
    # sent while the bot is away: Discord keeps it and replays it after RESUME
    token = bot.send(gw.slash("raid next", member=People.alice))
    gw.wait_ready(30)
    result = bot.wait(token, timeout=30)
    assert result.text.startswith("No raid is booked yet.")
    assert gw.resumes >= 1 and gw.identifies == identifies and gw.session_id == sessions
    resume = [p for p in gw.received if p["op"] == 6][-1]
    assert resume["d"]["session_id"] == sessions and resume["d"]["seq"] >= 2
    result = bot.ask(gw.slash("raid attendance", member=People.bob))
    assert result.callback is not None and result.text == "There is no current raid season."
