"""Ratmas draw of 10,000 participants with exclusions (issue target: ≤ 1 s).

Figures, each beside an anchor measured in the same run:
- ``draw (sparse)``: ratmas.matching.draw on 10,000 people, 2 random exclusions each plus
  last year's pairs to avoid (the rejection sampler's case).
- ``draw (dense cluster)``: as above plus 300 people who all exclude one another (90,000 pairs), which
  forces the matching fallback (augmenting paths + swap mixing).
- ``generate_pairings (DB)``: the whole service on PostgreSQL — load 10,000 participants and
  20,000 exclusions, draw, replace the pairings (10,000 inserts), commit.
Anchor: the plainest possible derangement of 10,000 — ``random.shuffle`` retried until no
one draws themselves, no exclusions at all — i.e. the floor any Python draw must pay.
Run: ``bench/run.sh ratmas_pairing`` (fresh PostgreSQL) or ``python -m bench.ratmas_pairing``.
"""

from __future__ import annotations

import random
import statistics
import time

from bench._setup import median_seconds, report, setup_django

N = 10_000
EXCLUSIONS_EACH = 2
REPEATS = 5
TARGET_SECONDS = 1.0


def timed(fn, repeats: int = REPEATS) -> float:
    return median_seconds(fn, repeats)


def shuffle_derangement(ids: list[int], rng: random.Random) -> list[int]:
    while True:
        perm = ids[:]
        rng.shuffle(perm)
        if all(a != b for a, b in zip(ids, perm, strict=True)):
            return perm


def instance(rng: random.Random, cluster: int = 0) -> tuple[list[int], dict[int, set[int]]]:
    ids = list(range(1, N + 1))
    forbidden = {g: set(rng.sample(ids, EXCLUSIONS_EACH)) - {g} for g in ids}
    last_year = shuffle_derangement(ids, rng)
    for g, r in zip(ids, last_year, strict=True):
        forbidden[g].add(r)
    group = ids[:cluster]
    for g in group:
        forbidden[g].update(r for r in group if r != g)
    return ids, forbidden


def verdict(seconds: float) -> None:
    print(f"  target ≤ {TARGET_SECONDS:g} s: {'MET' if seconds <= TARGET_SECONDS else 'NOT MET'} "
          f"({seconds:.3f} s)", flush=True)


def bench_db(rng: random.Random) -> float:
    import datetime as dt

    from django.utils import timezone

    from ratmas import services
    from ratmas.models import Event, Exclusion, Participant

    guild = 900_000_000_000_000_001
    Event.objects.filter(guild_id=guild).delete()
    now = timezone.now()
    event = services.create_event(guild, now + dt.timedelta(days=1), now + dt.timedelta(days=2),
                                  now + dt.timedelta(days=3))
    # Fixture rows in bulk (10,000 service joins would measure the set-up, not the draw).
    people = Participant.objects.bulk_create(
        [Participant(event=event, user_id=i, display_name=f"P{i}") for i in range(1, N + 1)], batch_size=2000)
    Exclusion.objects.bulk_create(
        [Exclusion(event=event, giver=p, receiver=q) for p in people
         for q in rng.sample(people, EXCLUSIONS_EACH) if q is not p], batch_size=5000, ignore_conflicts=True)
    services.set_status(event, Event.Status.LOCKED)
    start = time.perf_counter()
    plan = services.generate_pairings(event, seed=1)
    seconds = time.perf_counter() - start
    assert len(plan.pairs) == N and event.pairings.count() == N
    Event.objects.filter(pk=event.pk).delete()
    return seconds


def main() -> None:
    setup_django()
    from ratmas import matching

    rng = random.Random(2026)
    ids = list(range(1, N + 1))
    anchor = timed(lambda: shuffle_derangement(ids, rng))

    sparse_ids, sparse = instance(rng)
    sparse_time = timed(lambda: matching.draw(sparse_ids, sparse, rng))
    method = matching.draw(sparse_ids, sparse, random.Random(1)).method
    report(f"ratmas draw 10k (sparse, {method})", sparse_time, anchor, "s",
           anchor_name="random.shuffle derangement of 10k, no exclusions", higher_is_better=False)
    verdict(sparse_time)

    dense_ids, dense = instance(rng, cluster=300)
    dense_time = timed(lambda: matching.draw(dense_ids, dense, rng))
    method = matching.draw(dense_ids, dense, random.Random(1)).method
    report(f"ratmas draw 10k (dense cluster, {method})", dense_time, anchor, "s",
           anchor_name="random.shuffle derangement of 10k, no exclusions", higher_is_better=False)
    verdict(dense_time)

    db_time = statistics.median(bench_db(rng) for _ in range(3))
    report("ratmas generate_pairings 10k (PostgreSQL, incl. 10k inserts)", db_time, anchor, "s",
           anchor_name="random.shuffle derangement of 10k, no exclusions", higher_is_better=False)
    verdict(db_time)


if __name__ == "__main__":
    main()
