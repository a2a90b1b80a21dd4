#!/opt/venv/bin/python
"""The container healthcheck: each process kind is checked the way that proves it works, and
cheaply (no Django start-up), since it runs every few seconds in every container.

- web: ``GET /healthz`` over plain HTTP (the web's own liveness: database and broker).
- worker, delivery, backup: the liveness file the Celery worker touches from its event loop
  (``core.liveness``) is fresh, so the worker's consumer is running, not just its process.
- beat: the scheduler's heartbeat (``core_heartbeat``, stamped on each tick) is fresh.
- bot: the gateway heartbeat row is fresh; without ``DISCORD_TOKEN`` the bot is disabled and
  the idle container is healthy.
- migrate and one-off commands: healthy while running.

The deep view of all of them together is ``GET /healthz/deep`` (README, "Run it on a server").
Exit 0 = healthy, 1 = unhealthy, with one line saying why (``docker inspect`` shows it).
"""

from __future__ import annotations

import os
import sys
import time
import urllib.request
from pathlib import Path

LIVENESS_FILE = Path(os.environ.get("GUILDOPS_LIVENESS_FILE", "/tmp/guildops-alive"))


def _fresh_file(max_age: float) -> str | None:
    try:
        age = time.time() - LIVENESS_FILE.stat().st_mtime
    except FileNotFoundError:
        return "the worker has not started consuming yet"
    return None if age <= max_age else f"the worker's event loop last ticked {age:.0f} s ago"


def _heartbeat_age(component: str, max_age: float) -> str | None:
    import psycopg

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return None  # the embedded SQLite setup has no container to check
    with psycopg.connect(url, connect_timeout=5) as conn:
        row = conn.execute("SELECT EXTRACT(EPOCH FROM now() - beat_at) FROM core_heartbeat WHERE component = %s",
                           [component]).fetchone()
    if row is None:
        return f"no {component} heartbeat yet"
    return None if float(row[0]) <= max_age else f"the {component} heartbeat is {float(row[0]):.0f} s old"


def check(kind: str) -> str | None:
    if kind == "web":
        port = os.environ.get("PORT", "8000")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
            return None if answer.status == 200 else f"/healthz answered {answer.status}"
    if kind in ("worker", "delivery", "backup"):
        return _fresh_file(float(os.environ.get("HEALTH_LIVENESS_SECONDS", "60")))
    if kind == "beat":
        return _heartbeat_age("scheduler", float(os.environ.get("HEALTH_SCHEDULER_LATE_SECONDS", "60")))
    if kind == "bot":
        if not os.environ.get("DISCORD_TOKEN"):
            return None
        return _heartbeat_age("bot", float(os.environ.get("HEALTH_BOT_LATE_SECONDS", "150")))
    return None


def main() -> int:
    try:
        kind = Path("/tmp/guildops-process").read_text().strip()
    except FileNotFoundError:
        sys.stdout.write("unhealthy: the entrypoint has not started\n")
        return 1
    try:
        problem = check(kind)
    except Exception as exc:  # noqa: BLE001 - any failure to check is an unhealthy answer
        problem = f"{exc.__class__.__name__}: {exc}"
    sys.stdout.write(f"{kind}: {problem or 'ok'}\n")
    return 1 if problem else 0


if __name__ == "__main__":
    sys.exit(main())
