"""Time of one exact team draft (``ark.services.split_teams``) for a full Ark roster of 30
players with officers' constraints, against the issue's target of 50 ms per draft.

Runs BENCH_ROUNDS (default 20) rosters of random powers (20M–120M, fixed seeds) with one
"keep together", one "keep apart" and both captains (after one tiny warm-up draft that loads
numpy's lazily imported routines, as a running worker already has), and reports the median and the slowest; the
anchor is the 50 ms target (so the ratio is target ÷ slowest; ≥ 1 meets it). Pure Python,
no database.

    bench/run.sh ark_draft
"""

from __future__ import annotations

import os
import random
import time

from bench._setup import report, setup_django

TARGET_MS = 50.0


def main() -> None:
    setup_django()
    from ark.services import Rule, split_teams

    rounds = int(os.environ.get("BENCH_ROUNDS", "20"))
    rules = [Rule("together", 1, 2), Rule("apart", 3, 4), Rule("captain", 5, team=1), Rule("captain", 6, team=2)]
    split_teams({1: 1, 2: 2, 3: 3, 4: 4}, [])  # warm-up: numpy's lazily loaded routines, not a draft
    times = []
    for seed in range(rounds):
        rnd = random.Random(seed)
        powers = {i: rnd.randint(20_000_000, 120_000_000) for i in range(1, 31)}
        started = time.perf_counter()
        plan = split_teams(powers, rules)
        times.append((time.perf_counter() - started) * 1000)
        assert len(plan.team1) == len(plan.team2) == 15
    times.sort()
    report(f"ark draft of 30 players (median of {rounds})", times[len(times) // 2], TARGET_MS, "ms",
           anchor_name="issue #13 target", higher_is_better=False, goal=1)
    report(f"ark draft of 30 players (slowest of {rounds})", times[-1], TARGET_MS, "ms",
           anchor_name="issue #13 target", higher_is_better=False, goal=1)


if __name__ == "__main__":
    main()
