"""Delivery recovers in seconds: the outbox drain undisturbed, with the worker killed -9
twice, and with the worker stopped by SIGTERM (issue 22).

The workload and the fake Discord are ``bench/outbox_drain``'s (Discord's real limits, 80 ms
per answer; 5,000 channel messages over 200 channels, 1,000 DMs and 100 edits of 20 messages,
queued shuffled; ``BENCH_*`` variables shrink it), drained by the README's delivery worker
(``-Q discord``, 2 processes) with two delivery tasks kept queued, three times on a fresh fake
and fresh rows:

1. undisturbed;
2. killed: when a third and when two thirds of the rows are sent, Discord is told to carry
   out the next 30 message creates and hold their answers; once it did, the worker and its
   pool are killed with SIGKILL (``docker kill``) and a new worker is started at once. The
   fake's nonce dedupe lasts 2 s only (``OUTBOX_NONCE_TRUST_SECONDS=1``), so the rows whose
   answers were lost are found in the channels' history, not deduped by their nonce;
3. SIGTERM: when half the rows are sent the worker gets SIGTERM (``docker stop``); when it
   has exited a new worker is started, as ``docker compose up`` replaces a container.

Printed per run: rows, messages in Discord, duplicates, missing, time to drain, and the
longest pause between two requests Discord saw. For the SIGTERM run the pause is split into
its parts: SIGTERM to exit, the new worker's start (Python, Django, Celery: not delivery's
doing) and the new worker's ready to its first request. Goals: killed ≤ 1.3 × undisturbed
with 0 duplicates and 0 missing; SIGTERM: the worker exits within 10 s, and the next worker
sends the rest without waiting for a lease: stop + ready-to-first-request ≤ one lease
(``OUTBOX_LEASE_SECONDS``, 15 s).

    bench/run.sh outbox_drain_recovery
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from bench import outbox_drain as od
from bench._setup import report, setup_django

HELD = 30  # message creates Discord carried out whose answers the killed worker never got
NONCE_WINDOW = 2.0
GOAL_RATIO = 1.3
STOP_GOAL_SECONDS = 10.0
WORKER_ENV = {"OUTBOX_NONCE_TRUST_SECONDS": "1"}


class Run:
    def __init__(self, ours, base_url: str, token: str, name: str) -> None:
        self.ours, self.base_url, self.token, self.name = ours, base_url, token, name
        self.log_name = f"outbox_drain_recovery_{name}.log"
        (Path(od.tempfile.gettempdir()) / self.log_name).write_text("")
        self.worker = None
        self.stop_seconds: float | None = None
        self.restarts = 0
        self.signalled_at: float | None = None
        self.exited_at: float | None = None
        self.ready_at: float | None = None

    def ask(self, *command):
        self.ours.send(command)
        return self.ours.recv()

    def start_worker(self) -> None:
        self.worker = od.start_worker(self.base_url, self.token, self.log_name, **WORKER_ENV)

    def wait_ready(self) -> None:
        log = Path(od.tempfile.gettempdir()) / self.log_name
        deadline = time.monotonic() + 120
        while log.read_text().count(" ready.") <= self.restarts:
            if time.monotonic() > deadline or self.worker.poll() is not None:
                raise SystemExit(log.read_text()[-3000:])
            time.sleep(0.2)

    def kill_with_answers_held(self) -> None:
        self.ask("hold", HELD, 30.0)
        deadline = time.monotonic() + 60
        while self.ask("holding") > 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait(timeout=30)
        self.restarts += 1
        self.start_worker()  # at once, as a restart policy does

    def terminate(self) -> None:
        self.signalled_at = time.monotonic()
        self.worker.send_signal(signal.SIGTERM)  # the main process only, like docker stop
        self.worker.wait(timeout=60)
        self.exited_at = time.monotonic()
        self.stop_seconds = self.exited_at - self.signalled_at
        self.restarts += 1
        self.start_worker()

    def watch_ready(self) -> None:
        """After a SIGTERM restart: note when the new worker says it is ready."""
        log = Path(od.tempfile.gettempdir()) / self.log_name
        if self.exited_at is not None and self.ready_at is None and log.read_text().count(" ready.") > self.restarts:
            self.ready_at = time.monotonic()

    def drain(self, total: int, disturb: str) -> tuple[float, dict, dict]:
        self.ask("reset", NONCE_WINDOW)
        self.ours.send("seed")
        edits = od.queue_workload(self.ours.recv())
        self.start_worker()
        self.wait_ready()
        marks = {"kill": [total // 3, 2 * total // 3], "term": [total // 2], "none": []}[disturb]

        def on_progress(sent: int) -> bool:
            self.watch_ready()
            if not marks or sent < marks[0]:
                return False
            marks.pop(0)
            self.terminate() if disturb == "term" else self.kill_with_answers_held()
            return True

        try:
            elapsed = od.drain(total, on_progress)
        finally:
            self.worker.terminate()
            self.worker.wait(timeout=60)
        self.ours.send("state")
        return elapsed, self.ours.recv(), edits


def main() -> None:
    import multiprocessing

    ours, theirs = multiprocessing.Pipe()
    fake = multiprocessing.get_context("fork").Process(target=od.serve_fake, args=(theirs,), daemon=True)
    fake.start()
    base_url = ours.recv()
    setup_django()
    from django.conf import settings

    from bot.models import OutboxMessage
    from tests.fakes.discord_api import FakeDiscord

    total = od.CHANNELS * od.PER_CHANNEL + od.DMS + od.EDITED * od.EDITS_EACH
    expected_messages = od.CHANNELS * od.PER_CHANNEL + od.DMS + od.EDITED
    results = {}
    for name, disturb in [("undisturbed", "none"), ("killed twice", "kill"), ("SIGTERM", "term")]:
        run = Run(ours, base_url, FakeDiscord.token, disturb)
        elapsed, state, edits = run.drain(total, disturb)
        contents = state["contents"]
        duplicates = len(contents) - len(set(contents))
        missing = expected_messages - len(set(contents))
        problems = od.check(state, edits)
        attempts = list(OutboxMessage.objects.filter(topic=od.TOPIC).values_list("attempts", flat=True))
        gap, at = state["max_gap"]
        resumed = None
        if run.ready_at is not None:
            ours.send(("first_after", run.ready_at - 0.25))  # the log is polled every 0.25 s
            first = ours.recv()
            resumed = (first - run.ready_at) if first is not None else None
            print(f"outbox_drain_recovery [{name}]: SIGTERM → exit {run.stop_seconds:.1f} s; new worker start "
                  f"{run.ready_at - run.exited_at:.1f} s; its ready → first request {resumed:.1f} s", flush=True)
        results[name] = (elapsed, duplicates, missing, problems, gap, run.stop_seconds, resumed)
        print(f"outbox_drain_recovery [{name}]: {total:,} rows, {len(contents):,} messages in Discord "
              f"(expected {expected_messages:,}), {duplicates} duplicates, {missing} missing, drained in "
              f"{elapsed:.1f} s; longest pause between requests {gap:.1f} s (at {at:.0f} s); "
              f"rows sent after more than one attempt: {sum(1 for a in attempts if a > 1)}"
              + (f"; worker exited {run.stop_seconds:.1f} s after SIGTERM" if run.stop_seconds is not None else "")
              + f"; {'checks passed' if not problems else 'PROBLEMS: ' + '; '.join(problems)}", flush=True)
    base, killed, term = results["undisturbed"], results["killed twice"], results["SIGTERM"]
    lease = float(settings.OUTBOX_LEASE_SECONDS)
    delivery_pause = term[5] + (term[6] if term[6] is not None else float("inf"))
    print(f"outbox_drain_recovery: killed twice / undisturbed = {killed[0] / base[0]:.2f}× (goal ≤ {GOAL_RATIO}×); "
          f"SIGTERM: exit in {term[5]:.1f} s (goal < {STOP_GOAL_SECONDS:.0f} s); pause of delivery (exit + ready → "
          f"first request) {delivery_pause:.1f} s (goal ≤ one lease, {lease:.0f} s); longest pause with the new "
          f"worker's start {term[4]:.1f} s", flush=True)
    report("outbox_drain_recovery", killed[0], base[0], "s to drain with two kill -9", anchor_name="undisturbed drain",
           higher_is_better=False, goal=1 / GOAL_RATIO)
    ours.send("stop")
    ours.recv()
    failed = any(r[1] or r[2] or r[3] for r in results.values()) or killed[0] > GOAL_RATIO * base[0] \
        or term[5] >= STOP_GOAL_SECONDS or delivery_pause > lease
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
