"""A full Blizzard sync of a 1,000-member guild (roster + 1,000 profiles, then the database
write) against the fake Battle.net (tests/fakes/blizzard_api.py) enforcing Blizzard's 100
requests/s (429 beyond it) with 50 ms latency per answer. The floor is the rate limit: the 1,001
requests a sync needs take 10.01 s at 100/s. Goal: ≤ 1.2× the floor, no 429 answered, database work included.

Two runs: the first sync into an empty database (1,000 characters created), then the next
sync after half the guild logged in (500 profiles changed, 500 not), which is what the
six-hourly run does from then on. Each run is measured and judged on its own. Everything
written is rolled back. Run: ``python -m bench.guildsync_roster_sync``
(``bench/run.sh guildsync_roster_sync`` on a fresh PostgreSQL).
"""

from __future__ import annotations

import time
from typing import Any

from bench._setup import setup_django

MEMBERS, RATE, LATENCY, GOAL = 1000, 100, 0.05, 1.2


class RollbackError(Exception):
    pass


def main() -> None:
    setup_django()
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the fake's access log: 1,000 lines
    from django.conf import settings
    from django.db import transaction

    from guildsync.clients import BlizzardClient, clear_token_cache
    from guildsync.services import db_sync
    from tests.fakes.blizzard_api import FakeBlizzard

    fake = FakeBlizzard().start()
    runs = []
    try:
        for i in range(MEMBERS):
            fake.add_character(f"Member{i:04d}", class_id=1 + i % 13, rank=i % 10, spec=(71, "Arms") if i % 13 == 0
                               else None)
        fake.rate_limit, fake.latency = RATE, LATENCY
        settings.BLIZZARD_REALM_SLUG, settings.BLIZZARD_GUILD_SLUG = "twisting-nether", "stormwatch"
        clear_token_cache()
        # one client for both runs: one pacer, as one worker process paces all its requests
        client = BlizzardClient(client_id=fake.client_id, client_secret=fake.client_secret, api_base=fake.base_url,
                                oauth_url=fake.oauth_url, requests_per_second=RATE)
        try:
            with transaction.atomic():
                for label in ("first sync (empty database)", "next sync (half the guild logged in since)"):
                    if runs:
                        log_in_half_the_guild(fake)
                    throttled_before, sent_before = fake.throttled, client.request_count
                    started = time.monotonic()
                    fetch = client.fetch_guild()
                    fetched = time.monotonic()
                    stats = db_sync.sync_blizzard_roster(fetch.characters)
                    written = time.monotonic()
                    runs.append((label, client.request_count - sent_before, fake.throttled - throttled_before,
                                 fetched - started, written - fetched, stats))
                raise RollbackError
        except RollbackError:
            pass
    finally:
        fake.stop()
    needed = 1 + MEMBERS  # the roster, then one profile each; a retried request is not needed work
    floor = needed / RATE
    print(f"guildsync_roster_sync: {MEMBERS} members, busiest second at the fake over both runs: "
          f"{fake.busiest_window(1.0)} requests (quota {RATE})", flush=True)
    for label, sent, throttled, fetch_s, db_s, stats in runs:
        total = fetch_s + db_s
        ratio = total / floor
        verdict = "MET" if ratio <= GOAL and not throttled else "NOT MET"
        print(f"guildsync_roster_sync: {label}: {sent} API requests sent ({needed} needed), 429 answered: "
              f"{throttled}, fetch {fetch_s:.2f} s + database {db_s:.2f} s (created {stats.created}, "
              f"synced again {stats.updated})", flush=True)
        print(f"guildsync_roster_sync: {label}: project {total:,.3f} s | anchor rate-limit floor ({needed} "
              f"requests at {RATE}/s) {floor:,.3f} s | ratio {ratio:,.2f}  goal ≤ {GOAL:g} with no 429: {verdict}",
              flush=True)


def log_in_half_the_guild(fake: Any) -> None:
    """Every other member played since the last run: a new login time and a better item level,
    so the next sync has 500 characters whose profile changed (and 500 that didn't)."""
    with fake.lock:
        for n, profile in enumerate(fake.profiles.values()):
            if n % 2 == 0:
                profile["last_login_timestamp"] += 3_600_000
                profile["equipped_item_level"] += 1
                profile["average_item_level"] += 1

if __name__ == "__main__":
    main()
