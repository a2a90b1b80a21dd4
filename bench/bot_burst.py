"""A registration rush through the real bot: ``manage.py runbot`` as a process, the fake
Discord gateway dispatching real INTERACTION_CREATE payloads, the fake REST API recording
when each answer arrives.

500 members press *Join as Player* on one Ark match (30 players, 15 subs) within 1 second,
while 50 chat messages per second go through auto-moderation (4 rules, one of them a regex)
for the whole burst. A member told that the player slots are taken presses *Join as Sub* as
soon as they read it, as members do. For every press it measures, from the dispatch:

- the acknowledgement (first callback: an answer, or a deferral), Discord's 3-second deadline;
- the final answer (the callback's message, or the edit of the deferred one).

Project: the bot as configured (``DISCORD_DB_THREADS``, default 2). Anchor, same run: the same
burst with the bot's database pool forced to 1 thread (``DISCORD_DB_THREADS=1``), which is
the old design's single ``sync_to_async`` thread. Both keep their connections
(``DATABASE_CONN_MAX_AGE=600``, as the README advises for the bot). Goal: no acknowledgement after 3 s, p99 of
acknowledgements ≤ 1 s, every final answer within 10 s, exactly 30 players and 15 subs, no
member or governor twice.

    bench/run.sh bot_burst
    DATABASE_URL=postgres://... .venv/bin/python -m bench.bot_burst   (BENCH_MEMBERS, BENCH_CHAT_RATE)
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import random
import re
import statistics
import threading
import time

from bench._setup import report, setup_django

MEMBERS = int(os.environ.get("BENCH_MEMBERS", "500"))
CHAT_RATE = float(os.environ.get("BENCH_CHAT_RATE", "50"))  # messages per second
PRESS_WINDOW = 1.0  # seconds over which the presses arrive
PLAYER_CAP, SUB_CAP = 30, 15
GUILD_ID = 1_345_046_958_481_346_613
CHANNEL = 1_345_046_959_593_095_214
FIRST_MEMBER = 1_100_000_000_000_000_000
CHATTERS = 40
SUB_HINT = "join as Sub."
CHAT_LINES = ["gg everyone", "who is online for ark?", "LOOK AT THIS CAPS MESSAGE EVERYONE", "brb",
              "check https://example.org/guide", "see you at 12 UTC", "discord.gg/freegems", "lol",
              "anyone has a spare teleport?", "the boss fight was wild"]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def prepare(weekend: dt.date):
    """An alliance and a match on ``weekend``, MEMBERS governors (one per member), automod rules."""
    from ark import services
    from ark.models import Alliance, Governor
    from economy.models import AutoModRule

    alliance, _ = Alliance.objects.get_or_create(
        name="Burst Alliance", defaults={"registration_channel_id": CHANNEL, "confirmation_channel_id": CHANNEL + 1,
                                         "player_cap": PLAYER_CAP, "sub_cap": SUB_CAP})
    if not Governor.objects.filter(governor_id=FIRST_MEMBER).exists():
        Governor.objects.bulk_create([Governor(governor_id=FIRST_MEMBER + n, name=f"Burst{n:03d}",
                                               discord_user_id=FIRST_MEMBER + n) for n in range(MEMBERS)])
    if not AutoModRule.objects.filter(guild_id=GUILD_ID).exists():
        for rule_type, config in (("invites", {}), ("caps", {"min_length": 20, "max_ratio": 0.7}),
                                  ("spam", {"messages": 10, "seconds": 5}),
                                  ("keyword", {"keywords": ["freegems", "scam"]}),
                                  ("regex", {"pattern": r"\bfree\s+nitro\b"})):
            AutoModRule.objects.create(guild_id=GUILD_ID, rule_type=rule_type, config=config, action="warn")
    start = dt.datetime.combine(weekend, dt.time(12), tzinfo=dt.UTC)
    return services.create_match(alliance=alliance, ark_weekend_date=weekend, match_day="Sat",
                                 match_time_utc=start, signup_close_utc=start - dt.timedelta(hours=16),
                                 actor_discord_id=1)


def burst(label: str, threads: int, weekend: dt.date, database_url: str) -> dict:
    from ark.models import Signup
    from tests.fakes.bot_process import BotProcess, outcome
    from tests.fakes.discord_gateway import Guild, Member

    match = prepare(weekend)
    guild = Guild(GUILD_ID)
    guild.add_channel(CHANNEL, "ark-registration")
    members = [guild.add_member(Member(FIRST_MEMBER + n, f"member{n:03d}")) for n in range(MEMBERS)]
    chatters = members[:CHATTERS]
    bot = BotProcess(guild, database_url, keep_broker=True,
                     env={"DISCORD_DB_THREADS": str(threads), "DATABASE_CONN_MAX_AGE": "600"}).start()
    gw = bot.gateway
    registration = gw.bot_message(f"ark:join_player:{match.pk}", CHANNEL)
    presses = [gw.button(f"ark:join_player:{match.pk}", member=m, message=registration) for m in members]
    random.Random(7).shuffle(presses)
    sub_presses: dict[str, dict] = {}
    chat_sent = [0]
    stop_chat = asyncio.Event()

    async def chat() -> None:
        rng = random.Random(11)
        start = time.monotonic()
        while not stop_chat.is_set():
            due = start + chat_sent[0] / CHAT_RATE
            delay = due - time.monotonic()
            if delay > 0:
                try:
                    await asyncio.wait_for(stop_chat.wait(), delay)
                    return
                except TimeoutError:
                    pass
            author = chatters[chat_sent[0] % CHATTERS]
            await gw._dispatch("MESSAGE_CREATE", gw.message_create(author, rng.choice(CHAT_LINES), channel_id=CHANNEL))
            chat_sent[0] += 1

    async def press_all() -> None:
        start = time.monotonic()
        for i, payload in enumerate(presses):
            delay = start + PRESS_WINDOW * i / len(presses) - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            bot.rest.issue_interaction(int(payload["id"]), payload["token"])
            await gw._dispatch("INTERACTION_CREATE", payload)

    async def press_sub(member_payload: dict) -> None:
        member = next(m for m in members if m.id == int(member_payload["member"]["user"]["id"]))
        payload = gw.button(f"ark:join_sub:{match.pk}", member=member, message=registration)
        sub_presses[payload["token"]] = payload
        bot.rest.issue_interaction(int(payload["id"]), payload["token"])
        await gw._dispatch("INTERACTION_CREATE", payload)

    chat_task = asyncio.run_coroutine_threadsafe(chat(), gw.loop)
    time.sleep(1.0)  # the chat is flowing before the rush
    asyncio.run_coroutine_threadsafe(press_all(), gw.loop).result(60)
    pending = {p["token"]: p for p in presses}
    deadline = time.monotonic() + 60
    while pending and time.monotonic() < deadline:
        for token in list(pending):
            result = outcome(bot.rest, token)
            if result.answered_after is None:
                continue
            if (result.text or "").endswith(SUB_HINT):
                asyncio.run_coroutine_threadsafe(press_sub(pending[token]), gw.loop).result(10)
            del pending[token]
        for token in list(sub_presses):
            if outcome(bot.rest, token).answered_after is None:
                pending.setdefault(token, sub_presses[token])
        time.sleep(0.05)
    gw.loop.call_soon_threadsafe(stop_chat.set)
    chat_task.result(10)
    results = [outcome(bot.rest, p["token"]) for p in presses] + [outcome(bot.rest, t) for t in sub_presses]
    time.sleep(2.0)  # let auto-moderation finish what is queued, then stop (SIGTERM logs its counts)
    code = bot.stop()
    lane = re.findall(r"gateway events: (\{.*?\}); longest wait ([\d.]+) s", bot.log())
    signups = list(Signup.objects.filter(match=match, status="Active").values_list("slot", "governor_id",
                                                                                     "discord_user_id"))
    acks = [r.acked_after for r in results if r.acked_after is not None]
    finals = [r.answered_after for r in results if r.answered_after is not None]
    figures = {
        "acks": acks, "finals": finals, "unanswered": len(results) - len(finals), "unacked": len(results) - len(acks),
        "players": sum(1 for s in signups if s[0] == "Player"), "subs": sum(1 for s in signups if s[0] == "Sub"),
        "duplicates": (len(signups) - len({s[1] for s in signups})) + (len(signups) - len({s[2] for s in signups})),
        "presses": len(presses), "sub_presses": len(sub_presses), "chat": chat_sent[0], "exit": code,
        "deferred": sum(1 for r in results if r.callback is not None and r.callback.type == 5),
        "lane": lane[-1] if lane else ("no summary logged", "?"),
    }
    print_run(label, threads, figures)
    return figures


def print_run(label: str, threads: int, f: dict) -> None:
    def line(name: str, values: list[float], limit: float) -> str:
        return (f"  {name}: n={len(values)} p50 {statistics.median(values):.3f} s, p95 {percentile(values, 95):.3f} s, "
                f"p99 {percentile(values, 99):.3f} s, max {max(values):.3f} s; after {limit:g} s: "
                f"{sum(1 for v in values if v > limit)}")
    print(f"{label} (DISCORD_DB_THREADS={threads}): {f['presses']} Join-as-Player presses in {PRESS_WINDOW:g} s "
          f"+ {f['sub_presses']} Join-as-Sub, {f['chat']} chat messages at {CHAT_RATE:g}/s; "
          f"{f['deferred']} deferred, {f['unacked']} never acknowledged, {f['unanswered']} never answered",
          flush=True)
    print(line("acknowledgement", f["acks"], 3), flush=True)
    print(line("final answer", f["finals"], 10), flush=True)
    print(f"  roster: {f['players']} players (cap {PLAYER_CAP}), {f['subs']} subs (cap {SUB_CAP}), "
          f"{f['duplicates']} duplicate(s); automod lane {f['lane'][0]}, longest wait {f['lane'][1]} s; "
          f"bot exit code {f['exit']}", flush=True)


def main() -> None:
    setup_django()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the fake REST API's access log
    from django.db import connection

    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    from django.conf import settings

    base = date_after(dt.date(2031, 1, 4))
    project = burst("project", settings.DISCORD_DB_THREADS, base, url)
    anchor = burst("anchor", 1, base + dt.timedelta(days=7), url)
    connection.close()
    report("bot_burst ack p99", percentile(project["acks"], 99), percentile(anchor["acks"], 99), "s",
           anchor_name="1 DB thread", higher_is_better=False)
    report("bot_burst final p99", percentile(project["finals"], 99), percentile(anchor["finals"], 99), "s",
           anchor_name="1 DB thread", higher_is_better=False)
    met = (not project["unacked"] and not project["unanswered"]
           and all(a <= 3 for a in project["acks"]) and percentile(project["acks"], 99) <= 1.0
           and all(f <= 10 for f in project["finals"]) and project["players"] == PLAYER_CAP
           and project["subs"] == SUB_CAP and project["duplicates"] == 0)
    print(f"bot_burst goal (0 acks after 3 s, ack p99 ≤ 1 s, finals ≤ 10 s, {PLAYER_CAP}+{SUB_CAP} roster, "
          f"no duplicate): {'MET' if met else 'NOT MET'}", flush=True)


def date_after(day: dt.date) -> dt.date:
    """A Saturday no earlier run of this benchmark used (each run books a new weekend)."""
    from ark.models import Match

    latest = Match.objects.filter(alliance__name="Burst Alliance").order_by("-ark_weekend_date").first()
    if latest is not None and latest.ark_weekend_date >= day:
        day = latest.ark_weekend_date + dt.timedelta(days=7)
    return day


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    main()
