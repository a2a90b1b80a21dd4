"""Bytes transfers per second through ``economy.services.transfer`` vs pgbench's TPC-B.

8 client threads (each its own database connection) move random amounts between 1,000
members for BENCH_SECONDS (default 10); then pgbench runs its built-in TPC-B script
(``-i -s 8`` into a separate database, ``-c 8 -j 2 -T BENCH_SECONDS``) against the same
server; the two alternate BENCH_ROUNDS times (default 2) and the means are compared. Both are
a handful of row updates plus one insert per transaction, so the ratio says what the service
(Python, Django, our indexes and locking order) costs on top. A transfer is one statement on
PostgreSQL (``economy_transfer()``, migration 0003). Afterwards the total of all balances
must be unchanged and no balance below 0.

    bench/run.sh economy_transfers
    DATABASE_URL=postgres://postgres@127.0.0.1:55432/economy_bench .venv/bin/python -m bench.economy_transfers
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import threading
import time

from bench._setup import report, setup_django

GUILD = 424_242_424_242_424_242
USERS = 1000
START = 1000
CLIENTS = 8
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
GOAL = 0.5


def pgbench_binary() -> str:
    found = shutil.which("pgbench")
    return found or "/usr/lib/postgresql/15/bin/pgbench"


def prepare() -> list[int]:
    from django.db import transaction

    from economy.models import BytesBalance, BytesConfig, BytesTransaction

    users = [10_000 + i for i in range(USERS)]
    with transaction.atomic():  # benchmark fixture, not domain state
        BytesTransaction.objects.filter(guild_id=GUILD).delete()
        BytesBalance.objects.filter(guild_id=GUILD).delete()
        BytesConfig.objects.update_or_create(guild_id=GUILD, defaults={
            "starting_balance": 0, "max_transfer": 10_000, "transfer_cooldown_hours": 0, "role_rewards": {}})
        BytesBalance.objects.bulk_create([BytesBalance(guild_id=GUILD, user_id=u, balance=START) for u in users])
    return users


def run_transfers(users: list[int]) -> tuple[float, int, int, list[BaseException]]:
    from django.db import connections

    from economy import services

    done = [0] * CLIENTS
    refused = [0] * CLIENTS
    errors: list[BaseException] = []
    barrier = threading.Barrier(CLIENTS + 1)
    stop = threading.Event()

    def client(i: int) -> None:
        rng = random.Random(i)
        try:
            services.get_config(GUILD)  # open the connection before the clock starts
            barrier.wait()
            while not stop.is_set():
                giver, receiver = rng.sample(users, 2)
                try:
                    services.transfer(GUILD, giver, f"u{giver}", receiver, f"u{receiver}", rng.randint(1, 50), "bench")
                    done[i] += 1
                except services.EconomyError:
                    refused[i] += 1
        except BaseException as exc:  # reported, the bench fails
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    time.sleep(SECONDS)
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return sum(done) / elapsed, sum(done), sum(refused), errors


class PgBench:
    """pgbench's TPC-B on a scratch database of the same server: ``-i -s 8`` once, then runs."""

    def __init__(self) -> None:
        from django.db import connection

        db = connection.settings_dict
        self.name = f"{db['NAME']}_pgbench"[:63]
        self.env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
        self.base = [pgbench_binary(), "-h", db.get("HOST") or "127.0.0.1", "-p", str(db.get("PORT") or 5432),
                     "-U", db.get("USER") or "postgres"]

    def _sql(self, statement: str) -> None:
        from django.db import connection

        with connection.cursor() as cursor:  # autocommit: CREATE DATABASE cannot run in a transaction
            cursor.execute(statement)

    def init(self) -> None:
        self._sql(f'DROP DATABASE IF EXISTS "{self.name}"')
        self._sql(f'CREATE DATABASE "{self.name}"')
        subprocess.run([*self.base, "-i", "-s", "8", "-q", self.name], check=True, env=self.env, capture_output=True)

    def run(self) -> float:
        out = subprocess.run([*self.base, "-c", str(CLIENTS), "-j", "2", "-T", str(int(SECONDS)), self.name],
                             check=True, env=self.env, capture_output=True, text=True).stdout
        found = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out) or re.search(
            r"tps = ([\d.]+)", out)
        if not found:
            raise SystemExit(f"could not read pgbench's tps from:\n{out}")
        return float(found.group(1))

    def drop(self) -> None:
        self._sql(f'DROP DATABASE IF EXISTS "{self.name}"')


def verify() -> tuple[int, int]:
    from django.db.models import Min, Sum

    from economy.models import BytesBalance

    totals = BytesBalance.objects.filter(guild_id=GUILD).aggregate(total=Sum("balance"), low=Min("balance"))
    return totals["total"], totals["low"]


def main() -> None:
    setup_django()
    from django.conf import settings

    settings.DEBUG = False  # as in production: no per-query logging in the clients
    users = prepare()
    pgbench = PgBench()
    pgbench.init()
    project, anchor, done, refused = [], [], 0, 0
    # alternate the two so a neighbour's load on the shared machine hits both alike
    for _ in range(ROUNDS):
        tps, n_done, n_refused, errors = run_transfers(users)
        if errors:
            raise SystemExit(f"FAILED: {len(errors)} client(s) crashed: {errors[:3]!r}")
        project.append(tps)
        done, refused = done + n_done, refused + n_refused
        anchor.append(pgbench.run())
    pgbench.drop()
    total, low = verify()
    print(f"economy transfers: {done:,} transfers ({refused:,} refused for lack of bytes) in {ROUNDS} x "
          f"{SECONDS:g} s by {CLIENTS} clients; per round {', '.join(f'{t:,.0f}' for t in project)} tps vs "
          f"pgbench {', '.join(f'{t:,.0f}' for t in anchor)} tps; total {total:,} (expected {USERS * START:,}), "
          f"lowest balance {low}", flush=True)
    if total != USERS * START or low < 0:
        raise SystemExit("FAILED: bytes were created, lost, or a balance went below 0")
    report("economy transfers", sum(project) / ROUNDS, sum(anchor) / ROUNDS, "tps",
           anchor_name=f"pgbench TPC-B -s 8 -c {CLIENTS} -j 2", goal=GOAL)


if __name__ == "__main__":
    main()
