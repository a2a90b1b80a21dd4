"""Outbox throughput: messages/s delivered vs the floor Discord's rate limits allow.

The fake Discord API (tests/fakes/discord_api.py, ``enforce_limits()``) holds the bot to
Discord's real limits, 50 requests/s globally and 5 message creates (and 5 edits) per 5 s per
channel, answering 429 like Discord, and adds 80 ms to every answer. Queued at once, in a
shuffled order: 5,000 channel messages over 200 channels, 1,000 DMs to 1,000 members, and 5
edits of each of 20 existing messages. One real Celery worker reads the ``discord`` queue with
two processes (the README's delivery worker); the benchmark keeps two delivery tasks queued
(what the kicks and the beat sweep do) until every row is sent.

Anchor: the floor, the time the limits alone impose. Every message create, edit and DM
channel open is one request (a DM needs its channel first), so 7,100 requests at 50/s take
142 s; a channel's 25 messages at 5 per 5 s need only 20 s, so the global limit is the floor.
Figure: delivered operations/s, vs floor operations/s; ratio = floor time / measured time.
Checks: no message posted twice, each edited message shows its last edit and received its
edits in queue order, and no global 429.

    bench/run.sh outbox_drain
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._setup import report, setup_django

ROOT = Path(__file__).resolve().parents[1]
CHANNELS = int(os.environ.get("BENCH_CHANNELS", "200"))
PER_CHANNEL = int(os.environ.get("BENCH_PER_CHANNEL", "25"))
DMS = int(os.environ.get("BENCH_DMS", "1000"))
EDITED = 20
EDITS_EACH = 5
GLOBAL_PER_SECOND = 50
TOPIC = "bench.outbox_drain"
GOAL = 0.8
CHANNEL0 = 880_000_000_000_000_000
USER0 = 990_000_000_000_000_000


def serve_fake(conn) -> None:
    """The fake Discord in a process of its own, at a higher CPU priority when allowed: it
    stands in for Discord's servers, which do not share this machine's two cores, so its
    accounting must not see a burst where only its own process was waiting for a CPU."""
    import bisect
    import contextlib
    import logging

    from tests.fakes.discord_api import BOT_USER, FakeDiscord

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log line per request

    with contextlib.suppress(OSError):
        os.nice(-10)
    fake = FakeDiscord().start()
    fake.enforce_limits(global_per_second=GLOBAL_PER_SECOND, route_limit=5, route_period=5.0, latency=0.08)
    conn.send(fake.base_url)
    while True:
        command = conn.recv()
        if isinstance(command, tuple):  # (name, *args): the recovery benchmark's controls
            name, *args = command
            if name == "reset":  # a fresh Discord for the next run; nonce dedupe for args[0] seconds
                fake.reset()
                fake.enforce_limits(global_per_second=GLOBAL_PER_SECOND, route_limit=5, route_period=5.0,
                                    latency=0.08)
                fake.nonce_window = args[0]
                conn.send("ok")
            elif name == "hold":  # carry out the next args[0] message creates, hold each answer args[1] s
                fake.hold_answer_next("POST", r"/channels/\d+/messages", args[1], times=args[0])
                conn.send("ok")
            elif name == "holding":  # how many of those are still to come
                with fake.lock:
                    conn.send(sum(entry[3] for entry in fake.held_answers))
            elif name == "first_after":  # the first request Discord saw at or after args[0] (monotonic)
                with fake.lock:
                    conn.send(next((t for t in fake.limits.arrivals if t >= args[0]), None))
            continue
        if command == "seed":  # messages the bot posted earlier (say, rosters), to be edited
            seeded = []
            for e in range(EDITED):
                channel, message_id = CHANNEL0 + e, fake.new_id()
                fake.messages.setdefault(channel, {})[message_id] = {
                    "id": str(message_id), "type": 0, "channel_id": str(channel), "content": f"roster {e} v0",
                    "embeds": [], "components": [], "author": BOT_USER}
                seeded.append((channel, message_id))
            conn.send(seeded)
        elif command == "state":
            with fake.lock:
                arrivals = sorted(fake.limits.arrivals)
                busiest = max((bisect.bisect_left(arrivals, t + 1.0) - i for i, t in enumerate(arrivals)), default=0)
                gaps = [(b - a, a - arrivals[0]) for a, b in zip(arrivals, arrivals[1:], strict=False)]
                conn.send({"contents": [m["content"] for msgs in fake.messages.values() for m in msgs.values()],
                           "final": {i: m["content"] for msgs in fake.messages.values() for i, m in msgs.items()},
                           "patches": [(c.path, (c.json or {}).get("content")) for c in fake.requests
                                       if c.method == "PATCH"],
                           "refused": dict(fake.refused), "busiest": busiest,
                           "max_gap": max(gaps, default=(0.0, 0.0))})
        else:
            fake.stop()
            conn.send("stopped")
            return


def queue_workload(seeded: list[tuple[int, int]]) -> dict[int, list[str]]:
    """Queue every row in one transaction (benchmark fixture); return the edits per message."""
    from django.conf import settings
    from django.db import transaction

    from bot import outbox
    from bot.models import OutboxMessage

    settings.OUTBOX_KICK_ON_COMMIT = False  # the benchmark kicks delivery itself
    OutboxMessage.objects.filter(topic=TOPIC).delete()
    rng = random.Random(7)
    ops: list[tuple] = [("post", CHANNEL0 + c, f"announcement {i} for channel {c}")
                        for c in range(CHANNELS) for i in range(PER_CHANNEL)]
    ops += [("dm", USER0 + u, f"reminder for member {u}") for u in range(DMS)]
    edits: dict[int, list[str]] = {}
    edit_ops = []
    for e, (channel, message_id) in enumerate(seeded):
        edits[message_id] = [f"roster {e} v{k}" for k in range(1, EDITS_EACH + 1)]
        edit_ops.append([("edit", channel, message_id, body) for body in edits[message_id]])
    rng.shuffle(ops)
    for sequence in edit_ops:  # each message's edits keep their order, spread through the queue
        slots = sorted(rng.sample(range(len(ops) + 1), len(sequence)), reverse=True)
        for slot, op in zip(slots, reversed(sequence), strict=True):
            ops.insert(slot, op)
    with transaction.atomic():
        for op in ops:
            if op[0] == "post":
                outbox.post_message(op[1], content=op[2], topic=TOPIC)
            elif op[0] == "dm":
                outbox.send_dm(op[1], content=op[2], topic=TOPIC)
            else:
                outbox.edit_message(op[1], op[2], content=op[3], topic=TOPIC)
    return edits


def start_worker(base_url: str, token: str, log_name: str = "outbox_drain_worker.log", **env_extra: str
                 ) -> subprocess.Popen:
    """The README's delivery worker (``-Q discord``, 2 processes), in a session of its own so
    the recovery benchmark can kill it with its pool, as ``docker kill`` does."""
    from django.db import connection

    db = connection.settings_dict
    env = {**os.environ,
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
           "DISCORD_API_BASE": base_url, "DISCORD_TOKEN": token, **env_extra}
    log = open(Path(tempfile.gettempdir()) / log_name, "a")  # noqa: SIM115
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "discord", "--concurrency", "2",
         "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel=INFO",
         "-n", f"bench-{os.getpid()}-{time.monotonic_ns()}@%h"], cwd=ROOT, env=env, stdout=log,
        stderr=subprocess.STDOUT, start_new_session=True)
    worker.log_path = log.name  # type: ignore[attr-defined]
    return worker


def drain(total: int, on_progress=None) -> float:
    """Keep two delivery tasks queued until every row is sent; seconds from the first kick.
    ``on_progress(sent)`` may disturb the worker; it returns True when it replaced it (the
    tasks the dead worker held are then forgotten, as their results never come)."""
    from bot.models import OutboxMessage
    from bot.tasks import deliver_outbox_task

    rows = OutboxMessage.objects.filter(topic=TOPIC)
    started = time.perf_counter()
    running = [deliver_outbox_task.apply_async(ignore_result=False) for _ in range(2)]
    while True:
        done = rows.filter(status=OutboxMessage.Status.SENT).count()
        if done == total:
            return time.perf_counter() - started
        if on_progress is not None and on_progress(done):
            running = []
        if rows.filter(status=OutboxMessage.Status.FAILED).exists():
            raise SystemExit(f"rows failed: {list(rows.filter(status='failed').values_list('last_error', flat=True)[:5])}")
        if time.perf_counter() - started > 1200:
            raise SystemExit(f"not drained after 20 minutes: {done} of {total} sent")
        running = [r for r in running if not r.ready()]
        while len(running) < 2:
            running.append(deliver_outbox_task.apply_async(ignore_result=False))
        time.sleep(0.25)


def check(state: dict, edits: dict[int, list[str]]) -> list[str]:
    from bot.models import OutboxMessage

    problems = []
    contents = state["contents"]
    duplicates = len(contents) - len(set(contents))
    if duplicates:
        problems.append(f"{duplicates} duplicate messages")
    expected = CHANNELS * PER_CHANNEL + DMS + EDITED
    if len(contents) != expected:
        problems.append(f"{len(contents)} messages in the fake, expected {expected}")
    sent_ids = list(OutboxMessage.objects.filter(topic=TOPIC, sent_message_id__isnull=False).values_list(
        "sent_message_id", flat=True))
    if len(set(sent_ids)) != len(sent_ids) - EDITED * (EDITS_EACH - 1):  # edits answer with the same message
        problems.append("two rows recorded the same message id")
    for message_id, bodies in edits.items():
        seen = [body for path, body in state["patches"] if path.endswith(f"/messages/{message_id}") and body]
        applied = [b for i, b in enumerate(seen) if i == 0 or b != seen[i - 1]]  # a 429'd retry repeats one
        if applied != bodies:
            problems.append(f"edits of {message_id} arrived as {seen}")
        if state["final"][message_id] != bodies[-1]:
            problems.append(f"message {message_id} ends as {state['final'][message_id]!r}")
    return problems


def main() -> None:
    import multiprocessing

    ours, theirs = multiprocessing.Pipe()
    fake = multiprocessing.get_context("fork").Process(target=serve_fake, args=(theirs,), daemon=True)
    fake.start()  # before Django opens any connection
    base_url = ours.recv()
    setup_django()
    from tests.fakes.discord_api import FakeDiscord

    worker = start_worker(base_url, FakeDiscord.token)
    try:
        ours.send("seed")
        edits = queue_workload(ours.recv())
        total = CHANNELS * PER_CHANNEL + DMS + EDITED * EDITS_EACH
        deadline = time.monotonic() + 120
        while " ready." not in Path(worker.log_path).read_text():  # type: ignore[attr-defined]
            if time.monotonic() > deadline or worker.poll() is not None:
                raise SystemExit(Path(worker.log_path).read_text()[-3000:])  # type: ignore[attr-defined]
            time.sleep(0.2)
        elapsed = drain(total)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    ours.send("state")
    state = ours.recv()
    ours.send("stop")
    ours.recv()
    requests_needed = CHANNELS * PER_CHANNEL + 2 * DMS + EDITED * EDITS_EACH
    floor_seconds = max(requests_needed / GLOBAL_PER_SECOND, (PER_CHANNEL - 1) // 5 * 5.0)
    problems = check(state, edits)
    refused = state["refused"]
    print(f"outbox_drain: {total:,} operations ({CHANNELS * PER_CHANNEL:,} channel messages over {CHANNELS} channels, "
          f"{DMS:,} DMs, {EDITED * EDITS_EACH} edits) in {elapsed:.1f} s with 2 worker processes; "
          f"floor {floor_seconds:.0f} s ({requests_needed:,} requests at {GLOBAL_PER_SECOND}/s); "
          f"most requests Discord saw in any one second: {state['busiest']}; "
          f"requests Discord refused: {refused.get('global', 0)} global 429, {refused.get('route', 0)} route 429; "
          f"{'no duplicates, edits in order' if not problems else 'PROBLEMS: ' + '; '.join(problems)}", flush=True)
    report("outbox_drain", total / elapsed, total / floor_seconds, "ops/s", anchor_name="rate-limit floor",
           goal=GOAL)
    if problems or refused.get("global"):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
