"""bot.gateway: discord.py's parser table is wrapped (an unreadable event is skipped, counted,
logged once with its traceback, the next one read); a listener that raises is counted; the
backoff; close codes no retry can fix stop runbot with a sentence naming the fix.

The first two tests are the guard against discord.py upgrades: they fail if discord.py stops
reading its parsers from ``ConnectionState.parsers`` (the table the wrapper replaces entries
of), renames the parsers, or stops calling them from ``received_message``."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging

import discord
import pytest
from discord.gateway import DiscordWebSocket
from discord.state import ConnectionState
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bot import gateway
from bot.interactions import STALE_FORM
from bot.runner import GuildOpsBot
from tests.bot import recorded_payloads as recorded
from tests.discord_objects import DiscordHarness
from tests.factories import bot_guild, bot_people
from tests.fakes.discord_api import CHANNEL_MESSAGE
from tests.fakes.discord_gateway import FakeGateway

People = bot_people()


def test_every_parser_of_discordpy_is_wrapped_in_the_table_its_websocket_reads():
    bot = GuildOpsBot()
    parsers = bot._connection.parsers
    names = {attr[6:].upper() for attr, _ in inspect.getmembers(ConnectionState) if attr.startswith("parse_")}
    assert {"INTERACTION_CREATE", "GUILD_MEMBER_ADD", "MESSAGE_CREATE", "READY", "RESUMED"} <= names
    assert set(parsers) == names
    assert all(getattr(parser, "isolated", False) for parser in parsers.values())
    assert gateway.isolate_parsers(bot) == 0  # idempotent
    # the websocket reads the very table that was wrapped, and calls it per dispatch
    assert "ws._discord_parsers = client._connection.parsers" in inspect.getsource(DiscordWebSocket.from_client)
    assert "self._discord_parsers[event]" in inspect.getsource(DiscordWebSocket.received_message)
    # the component router asks discord.py's view store whether a live view/modal claims an id
    store = bot._connection._view_store
    assert isinstance(store._modals, dict) and isinstance(store._views, dict)
    assert isinstance(store._dynamic_items, dict)


@pytest.fixture
def harness(fake_discord):
    return DiscordHarness(fake_discord, bot_guild(vars(People).values()))


def feed(harness: DiscordHarness, frames: list[dict]) -> DiscordWebSocket:
    """Frames through discord.py's own ``DiscordWebSocket.received_message`` wired as
    ``from_client`` wires it, then wait for what they started (listeners, answers)."""
    bot = harness.bot

    async def work() -> DiscordWebSocket:
        ws = DiscordWebSocket(None, loop=asyncio.get_running_loop())  # type: ignore[arg-type]
        ws._connection, ws._discord_parsers, ws._dispatch = bot._connection, bot._connection.parsers, bot.dispatch
        ws.shard_id = None
        before = asyncio.all_tasks()
        for frame in frames:
            await ws.received_message(json.dumps(frame))
        started = asyncio.all_tasks() - before
        if started:
            await asyncio.gather(*started, return_exceptions=True)
        return ws

    from asgiref.sync import async_to_sync
    return async_to_sync(harness._connected)(work)


@pytest.mark.django_db
def test_an_unreadable_event_is_skipped_logged_once_and_the_next_is_read(harness, caplog):
    gw = harness.payloads
    bad_join = recorded.member_join_without_flags(gw, 555_000_000_000_000_001, "oldshape")
    wrong_type = recorded.member_join_roles_null(gw, 555_000_000_000_000_002, "nullroles")
    good_join = recorded.member_join_recorded(gw, 555_000_000_000_000_003, "newshape")
    old = recorded.old_interaction(gw, People.alice)
    harness.rest.issue_interaction(int(old["id"]), old["token"])
    frames = [{"op": 0, "t": t, "s": s, "d": d} for s, (t, d) in enumerate([
        ("GUILD_MEMBER_ADD", bad_join), ("INTERACTION_CREATE", old), ("GUILD_MEMBER_ADD", wrong_type),
        ("VOICE_CHANNEL_STATUS_UPDATE", recorded.voice_channel_status(gw)), ("GUILD_MEMBER_ADD", good_join)], 1)]
    with caplog.at_level(logging.ERROR, logger="bot.gateway"):
        ws = feed(harness, frames)
    assert ws.sequence == 5  # every frame was read; none took the connection down
    stats = harness.bot.event_stats
    assert stats["parse_failures"] == 3
    assert stats["parse_failures:GUILD_MEMBER_ADD"] == 2 and stats["parse_failures:INTERACTION_CREATE"] == 1
    guild = harness.bot.get_guild(gw.guild.id)
    assert guild.get_member(555_000_000_000_000_003) is not None  # the next event was read normally
    assert guild.get_member(555_000_000_000_000_001) is None
    records = [r for r in caplog.records if "could not be read" in r.getMessage()]
    assert len(records) == 3 and all(r.exc_info for r in records)  # once each, with the traceback
    assert "KeyError: 'flags'" in caplog.text and "KeyError: 'attachment_size_limit'" in caplog.text
    assert old["token"] not in caplog.text
    # the member who sent the unreadable interaction still got an answer
    [answer] = harness.rest.answers_to(old["token"])
    assert answer.type == CHANNEL_MESSAGE and answer.ephemeral and answer.content == gateway.UNREADABLE_INTERACTION
    assert stats["unreadable_interactions_answered"] == 1


@pytest.mark.django_db
def test_a_listener_that_raises_is_counted_and_the_bot_carries_on(harness, caplog):
    async def broken(member):
        raise RuntimeError("listener bug")

    harness.bot.add_listener(broken, "on_member_join")
    join = recorded.member_join_recorded(harness.payloads, 555_000_000_000_000_009, "joiner")
    with caplog.at_level(logging.ERROR, logger="bot.gateway"):
        feed(harness, [{"op": 0, "t": "GUILD_MEMBER_ADD", "s": 1, "d": join}])
    assert harness.bot.event_stats["listener_failures"] == 1
    assert harness.bot.event_stats["listener_failures:on_member_join"] == 1
    assert "RuntimeError: listener bug" in caplog.text


@pytest.mark.django_db
def test_an_unknown_select_gets_the_stale_form_sentence(harness):
    gw = harness.payloads
    payload = gw.interaction(3, {"custom_id": "poll:choose:3", "component_type": 3, "values": ["a"]},
                             member=People.alice, message=gw.bot_message("poll:choose:3"))
    assert harness.ask(payload) == STALE_FORM


def test_backoff_is_immediate_then_jittered_doubling_capped_and_resets():
    low = gateway.Backoff(base=1.0, cap=60.0, rng=lambda: 0.0)
    high = gateway.Backoff(base=1.0, cap=60.0, rng=lambda: 0.999999)
    lows = [low.next_delay() for _ in range(10)]
    highs = [high.next_delay() for _ in range(10)]
    assert lows[0] == highs[0] == 0.0  # the first reconnect after a healthy connection: at once
    assert lows[1:4] == [0.5, 1.0, 2.0] and highs[1] == pytest.approx(1.0) and highs[3] == pytest.approx(4.0)
    assert max(highs) <= 60.0 and highs[-1] == pytest.approx(60.0) and lows[-1] == 30.0  # capped, jittered
    low.reset()
    assert low.next_delay() == 0.0


@pytest.mark.django_db
@pytest.mark.parametrize("code", [4004, 4010, 4011, 4012, 4013, 4014])
def test_a_close_code_no_retry_can_fix_stops_runbot_with_the_fix(code, fake_discord, settings):
    gw = FakeGateway(fake_discord, bot_guild()).start()
    gw.refuse_identify_with = code
    settings.DISCORD_GATEWAY_URL = gw.url
    try:
        with pytest.raises(CommandError) as refused:
            call_command("runbot")
    finally:
        gw.stop()
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = discord.gateway.yarl.URL("wss://gateway.discord.gg/")
    assert str(refused.value) == gateway.FATAL_CLOSES[code]
    assert f"close code {code}" in str(refused.value) and "start the bot again" in str(refused.value)
    assert gw.identifies == 0


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                 max_size=6), max_leaves=20)
PAYLOAD_KEYS = st.sampled_from(["id", "guild_id", "user", "member", "roles", "flags", "type", "token", "data",
                                "channel_id", "author", "content", "members", "attachment_size_limit"])


@hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(event=st.sampled_from(sorted(a[6:].upper() for a in dir(ConnectionState) if a.startswith("parse_"))),
       data=JSON | st.dictionaries(PAYLOAD_KEYS, JSON, max_size=8))
def test_no_payload_of_any_shape_escapes_the_parser_table(event, data, caplog):
    """Whatever ``d`` a dispatch carries, for every event discord.py parses: the wrapped parser
    returns (parsed, or skipped and counted), it never raises into the gateway reader."""
    bot = _fuzzed_bot()
    bot.event_stats.clear()
    with caplog.at_level(logging.CRITICAL, logger="bot.gateway"):
        bot._connection.parsers[event](data)
    assert bot.event_stats["parse_failures"] in (0, 1)


_bots: list[GuildOpsBot] = []


def _fuzzed_bot() -> GuildOpsBot:
    """One bot for all examples: its state keeps what earlier payloads left (more shapes met)."""
    if not _bots:
        _bots.append(GuildOpsBot())
    return _bots[0]
