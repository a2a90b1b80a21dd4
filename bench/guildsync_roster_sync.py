"""A full Blizzard sync of a 1,000-member guild (roster + 1,000 profiles, then the database
write) against the fake Battle.net (tests/fakes/blizzard_api.py) enforcing Blizzard's 100
requests/s (429 beyond it) with 50 ms latency per answer. The floor is the rate limit: the 1,001
requests a sync needs take 10.01 s at 100/s. Goal: ≤ 1.2× the floor, no 429 answered, database work included.

Everything written is rolled back. Run: ``python -m bench.guildsync_roster_sync``
(``bench/run.sh guildsync_roster_sync`` on a fresh PostgreSQL).
"""

from __future__ import annotations

import time

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
    try:
        for i in range(MEMBERS):
            fake.add_character(f"Member{i:04d}", class_id=1 + i % 13, rank=i % 10, spec=(71, "Arms") if i % 13 == 0
                               else None)
        fake.rate_limit, fake.latency = RATE, LATENCY
        settings.BLIZZARD_REALM_SLUG, settings.BLIZZARD_GUILD_SLUG = "twisting-nether", "stormwatch"
        clear_token_cache()
        client = BlizzardClient(client_id=fake.client_id, client_secret=fake.client_secret, api_base=fake.base_url,
                                oauth_url=fake.oauth_url, requests_per_second=RATE)
        started = time.monotonic()
        fetch = client.fetch_guild()
        fetched = time.monotonic()
        try:
            with transaction.atomic():
                stats = db_sync.sync_blizzard_roster(fetch.characters)
                written = time.monotonic()
                raise RollbackError
        except RollbackError:
            pass
    finally:
        fake.stop()
    needed = 1 + MEMBERS  # the roster, then one profile each; a retried request is not needed work
    floor = needed / RATE
    total = written - started
    busiest = fake.busiest_window(1.0)
    print(f"guildsync_roster_sync: {MEMBERS} members, {fetch.requests} API requests sent ({needed} needed), "
          f"429 answered: {fake.throttled}, busiest second at the fake: {busiest} requests, "
          f"fetch {fetched - started:.2f} s + database {written - fetched:.2f} s, created {stats.created}", flush=True)
    ratio = total / floor
    verdict = "MET" if ratio <= GOAL and not fake.throttled else "NOT MET"
    print(f"guildsync_roster_sync: project {total:,.3f} s | anchor rate-limit floor ({needed} requests at "
          f"{RATE}/s) {floor:,.3f} s | ratio {ratio:,.2f}  goal ≤ {GOAL:g} with no 429: {verdict}", flush=True)


if __name__ == "__main__":
    main()
