"""The compose stack: image size, and time from `compose up -d` to every service healthy.

Goals (issue 21): image ≤ 350 MB; stack healthy ≤ 60 s, images already built.

Anchors from the same run: for the size, the Python base image the image starts from (the
floor: nothing runs Python in less); for the time, PostgreSQL and Redis alone from `up -d` to
healthy (the floor: every application service waits for them and for `migrate`). The stack
starts from empty volumes each time (first start: initdb, every migration), with the bot idle
(no token), as on a fresh server.

Needs root, a running dockerd and the images (``scripts/test-deploy.sh`` builds them here;
elsewhere ``docker compose build``):

    python -m bench.stack          (or bench/run.sh stack)
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._setup import report
from scripts.deploy.stack import Stack, image_size_mb

IMAGE = os.environ.get("DEPLOY_IMAGE", "guildops:deploytest")
BASE = os.environ.get("PYTHON_IMAGE", "python:3.11-slim-bookworm")
SIZE_GOAL_MB = 350
HEALTHY_GOAL_S = 60
ALL = {"postgres": 1, "redis": 1, "migrate": 1, "web": 1, "worker": 1, "delivery": 1, "beat": 1, "bot": 1, "backup": 1}


def timed_up(stack: Stack, services: list[str], expect: dict[str, int]) -> tuple[float, str]:
    """Seconds from `up -d` to every container in ``expect`` healthy, and the timeline of each."""
    stack.down()
    stack.first_ready.clear()
    began = time.time()
    stack.compose("up", "-d", "--no-build", *services, timeout=300)
    stack.wait_healthy(expect, 300)
    return time.time() - began, stack.timeline(began)


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> int:
    for image in (IMAGE, BASE):
        if subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode != 0:
            sys.stderr.write(f"image {image} not found: run scripts/test-deploy.sh (or docker compose build) first\n")
            return 1
    work = Path(tempfile.mkdtemp(prefix="guildops-bench-stack-"))
    env_file = work / "env"
    env_file.write_text(f"SECRET_KEY={secrets.token_hex(40)}\nALLOWED_HOSTS=guildops.test\nBEHIND_TLS_PROXY=1\n")
    stack = Stack("guildops-benchstack", env_file, {"POSTGRES_PASSWORD": secrets.token_hex(16), "GUILDOPS_IMAGE": IMAGE,
                                                    "WEB_BIND": "127.0.0.1:0"})
    try:
        load_before = load()
        floor, _ = timed_up(stack, ["postgres", "redis"], {"postgres": 1, "redis": 1})
        healthy, timeline = timed_up(stack, [], ALL)
        load_after = load()
    finally:
        stack.down()
    size, base = image_size_mb(IMAGE), image_size_mb(BASE)
    report("image size", size, base, "MB", anchor_name=f"base {BASE}", higher_is_better=False)
    print(f"image size: {size:.0f} MB, goal ≤ {SIZE_GOAL_MB} MB: {'MET' if size <= SIZE_GOAL_MB else 'NOT MET'}")
    report("compose up -d → every service healthy", healthy, floor, "s",
           anchor_name="postgres + redis alone healthy", higher_is_better=False)
    print(f"stack healthy: {healthy:.1f} s, goal ≤ {HEALTHY_GOAL_S} s: "
          f"{'MET' if healthy <= HEALTHY_GOAL_S else 'NOT MET'} (load average {load_before} before, {load_after} after)")
    print(f"where the time went (s after `up -d`): {timeline}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
