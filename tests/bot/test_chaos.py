"""Chaos, kept in the suite (issue #23): ``manage.py runbot`` against a fake gateway that
interleaves malformed events (recorded payloads: missing fields, a wrong type, an event type
discord.py does not know, a member chunk over 1 MB; tests/bot/recorded_payloads.py) with normal
traffic, drops the connection mid-stream, and sends RECONNECT (op 7) and INVALID_SESSION (op 9)
with ``d: true`` and ``d: false`` — ten rounds in a row, one bot process.

Throughout: every valid interaction gets exactly one callback within 3 s (those sent while the
bot was away included: Discord replays them after RESUME, and they are handled once), the
malformed ones are each logged once and cost nothing else, and the process never exits.

The fake's heartbeat interval is 0.6 s, so a connection counts as healthy after 0.6 s
(bot.gateway resets its backoff then) and each round stays short."""

from __future__ import annotations

import itertools
import logging
import statistics
import time

import pytest

from tests import waiting
from tests.bot import recorded_payloads as recorded
from tests.bot.conftest import ARK_ROLE, People, assert_every_interaction_acknowledged_once
from tests.factories import bot_guild
from tests.fakes.bot_process import BotProcess
from tests.fakes.discord_gateway import FakeGateway

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
figures = logging.getLogger("figures")  # measured values: shown with -o log_cli=true
ROUNDS = 10
HEALTHY = 0.7  # a little over the heartbeat interval: the connection counts as healthy again
_ids = itertools.count(760_000_000_000_000_000)


@pytest.fixture(scope="module")
def chaos_bot(django_db_setup, django_db_blocker):
    from django.db import connection

    with django_db_blocker.unblock():
        db = connection.settings_dict
        url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    guild = bot_guild(vars(People).values())
    process = BotProcess(guild, url, env={"ARK_OFFICER_ROLE_ID": str(ARK_ROLE)}, heartbeat_interval_ms=600).start()
    yield process
    code = process.stop()
    assert code == 0, process.log()[-3000:]
    assert_every_interaction_acknowledged_once(process)


Events = list[tuple[str, dict]]


def traffic(gw: FakeGateway, round_no: int, *, interactions: int = 4, malformed: bool = True,
            huge: bool = False) -> Events:
    """Normal traffic (slash commands, messages) with the recorded malformed events between."""
    events: Events = []
    for i in range(interactions):
        command = gw.slash("raid next" if i % 2 else "ark governor list", member=People.alice if i % 2 else People.bob)
        events.append(("INTERACTION_CREATE", command))
        events.append(("MESSAGE_CREATE", gw.message_create(People.bob, f"round {round_no}, message {i}")))
    if malformed:
        bad: Events = [("INTERACTION_CREATE", recorded.old_interaction(gw, People.alice)),
                       ("GUILD_MEMBER_ADD", recorded.member_join_without_flags(gw, next(_ids), "oldshape")),
                       ("GUILD_MEMBER_ADD", recorded.member_join_roles_null(gw, next(_ids), "nullroles")),
                       ("VOICE_CHANNEL_STATUS_UPDATE", recorded.voice_channel_status(gw))]
        if huge:
            bad.append(("GUILD_MEMBERS_CHUNK", recorded.huge_member_chunk(gw)))
        for k, event in enumerate(bad):
            events.insert(min(len(events), 1 + 3 * k), event)
    return events


def unreadable(event: str, data: dict) -> bool:
    """One of the recorded payloads discord.py 2.7 cannot read."""
    return (event == "INTERACTION_CREATE" and "attachment_size_limit" not in data) or (
        event == "GUILD_MEMBER_ADD" and ("flags" not in data or data.get("roles") is None))


def wait_until(condition, seconds: float, what: str, bot: BotProcess) -> None:
    waiting.wait_until(condition, seconds, what, every=0.01, context=lambda: bot.log()[-3000:])

def test_chaos_ten_rounds_in_a_row(chaos_bot):
    bot, gw = chaos_bot, chaos_bot.gateway
    log_start = len(bot.log())
    valid: list[str] = []
    malformed_sent = 0
    back_after: dict[str, list[float]] = {"drop": [], "op 7": [], "op 9 true": [], "op 9 false": []}

    def send(events: Events, spread: float = 0.2) -> None:
        nonlocal malformed_sent
        gw.dispatch_many(events, spread=spread)
        valid.extend(d["token"] for e, d in events if e == "INTERACTION_CREATE" and not unreadable(e, d))
        malformed_sent += sum(unreadable(e, d) for e, d in events)

    def back(kind: str, counter: str, before: int, since: float) -> None:
        wait_until(lambda: getattr(gw, counter) > before and gw._ready.is_set(), 15, f"the bot back after {kind}", bot)
        back_after[kind].append(time.monotonic() - since)

    for round_no in range(ROUNDS):
        # traffic, then a drop in the middle of it: the second half is sent while the bot is away
        events = traffic(gw, round_no, huge=round_no % 2 == 0)
        half = len(events) // 2
        send(events[:half])
        resumes, replayed, at = gw.resumes, gw.replayed, time.monotonic()
        gw.drop(unreachable_for=0.3)
        send(events[half:], spread=0)
        back("drop", "resumes", resumes, at)
        assert gw.replayed - replayed == len(events) - half  # all sent while away, replayed once
        time.sleep(HEALTHY)

        # RECONNECT (op 7): traffic sent right behind it reaches the bot after its RESUME
        resumes, at = gw.resumes, time.monotonic()
        gw.request_reconnect()
        send(traffic(gw, round_no, interactions=2, malformed=False), spread=0)
        back("op 7", "resumes", resumes, at)
        time.sleep(HEALTHY)

        # INVALID_SESSION d: true — resumable
        resumes, at = gw.resumes, time.monotonic()
        gw.invalidate_session(True)
        send(traffic(gw, round_no, interactions=2), spread=0)
        back("op 9 true", "resumes", resumes, at)
        time.sleep(HEALTHY)

        # INVALID_SESSION d: false — a new session (what Discord sends meanwhile is gone with the old one)
        identifies, at = gw.identifies, time.monotonic()
        gw.invalidate_session(False)
        back("op 9 false", "identifies", identifies, at)
        send(traffic(gw, round_no, interactions=2))
        assert bot.proc.poll() is None, f"runbot exited in round {round_no}:\n{bot.log()[-3000:]}"
        time.sleep(HEALTHY)

    results = {token: bot.wait(token, timeout=15) for token in valid}
    late = {t: r.acked_after for t, r in results.items() if r.acked_after is None or r.acked_after >= 3.0}
    assert not late, f"{len(late)} of {len(valid)} interactions unanswered or late: {list(late.values())[:5]}"
    for token, result in results.items():
        assert [a.kind for a in result.answers].count("callback") == 1, (token, result.answers)
    acked = sorted(r.acked_after for r in results.values())
    log = bot.log()[log_start:]
    assert bot.proc.poll() is None
    assert log.count("could not be read by discord.py") == malformed_sent  # each bad event once
    assert "Unclosed connection" not in log and "already been acknowledged" not in log
    assert "unexpected error on the gateway connection" not in log
    figures.warning("chaos: %d rounds, %d valid interactions acknowledged in median %.0f ms, p95 %.0f ms, max %.0f "
                    "ms; %d malformed events skipped; back after: %s", ROUNDS, len(valid),
                    statistics.median(acked) * 1000, acked[int(len(acked) * 0.95)] * 1000, acked[-1] * 1000,
                    malformed_sent, {k: f"max {max(v) * 1000:.0f} ms" for k, v in back_after.items()})
    assert max(max(v) for v in back_after.values()) < 5.0
