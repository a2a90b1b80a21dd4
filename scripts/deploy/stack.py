"""The compose stack as the deployment test and the stack benchmark drive it.

``docker-compose`` (Debian's 1.29, or ``docker compose`` v2 when that is what the machine has)
on the repository's compose.yaml, under a project name of its own, with an env file outside the
checkout (``GUILDOPS_ENV_FILE``), so a developer's own ``.env`` and stack are never touched.
Every wait is bounded and says what it waited for; on failure :meth:`Stack.diagnose` prints
``ps`` and the last log lines of every container.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("web", "worker", "delivery", "beat", "bot", "backup")


class DrillFailedError(Exception):
    """A drill's expectation did not hold (the message says which and what was seen)."""


def say(message: str) -> None:
    sys.stdout.write(f"[{time.strftime('%H:%M:%S')}] {message}\n")
    sys.stdout.flush()


def compose_command() -> list[str]:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return ["docker", "compose"]


def wait_for(what: str, check: Callable[[], Any], timeout: float, interval: float = 1.0) -> Any:
    """Call ``check`` until it returns something truthy; after ``timeout`` s raise a DrillFailedError
    naming ``what`` and the last value (or error) seen."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = check()
            if last:
                return last
        except DrillFailedError:
            raise
        except Exception as exc:  # noqa: BLE001 - reported below if it never succeeds
            last = f"{exc.__class__.__name__}: {exc}"
        if time.monotonic() >= deadline:
            raise DrillFailedError(f"{what}: not after {timeout:.0f} s (last seen: {last!r})")
        time.sleep(interval)


class Stack:
    def __init__(self, project: str, env_file: Path, env: dict[str, str]) -> None:
        self.project = project
        self.env = {**os.environ, "GUILDOPS_ENV_FILE": str(env_file), "COMPOSE_PROJECT_NAME": project, **env}
        self.base = [*compose_command(), "-p", project, "-f", str(ROOT / "compose.yaml")]
        # container name → when it was first seen healthy (migrate: exited 0), by wait_healthy
        self.first_ready: dict[str, float] = {}

    # -- running compose and docker ---------------------------------------------------------
    def compose(self, *args: str, timeout: float = 300, check: bool = True, env: dict | None = None
                ) -> subprocess.CompletedProcess:
        return self._run([*self.base, *args], timeout, check, env)

    def docker(self, *args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess:
        return self._run(["docker", *args], timeout, check, None)

    def _run(self, cmd: list[str], timeout: float, check: bool, env: dict | None) -> subprocess.CompletedProcess:
        try:
            done = subprocess.run(cmd, cwd=ROOT, env={**self.env, **(env or {})}, capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise DrillFailedError(f"`{' '.join(cmd)}` did not finish within {timeout:.0f} s") from exc
        if check and done.returncode != 0:
            raise DrillFailedError(f"`{' '.join(cmd)}` exited {done.returncode}:\n{done.stdout[-2000:]}{done.stderr[-3000:]}")
        return done

    def manage(self, *args: str, env: dict[str, str] | None = None, timeout: float = 300) -> str:
        """A management command in the running web container (`compose exec`: no container to
        create, which a loaded machine makes slow; `compose run --rm web manage …`, the README's
        way, runs the same command in the same image)."""
        extra = [f"-e{k}={v}" for k, v in (env or {}).items()]
        return self.compose("exec", "-T", *extra, "web", "python", "manage.py", *args, timeout=timeout).stdout

    def manage_started(self, *args: str) -> subprocess.Popen:
        """:meth:`manage`, started in the background (``communicate()`` waits for it)."""
        return subprocess.Popen([*self.base, "exec", "-T", "web", "python", "manage.py", *args], cwd=ROOT,
                                env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    # -- containers ---------------------------------------------------------------------------
    def containers(self, service: str | None = None) -> list[str]:
        args = ["ps", "-q"] + ([service] if service else [])
        return [c for c in self.compose(*args).stdout.split() if c]

    def inspect(self, container: str) -> dict:
        return json.loads(self.docker("inspect", container).stdout)[0]

    def states(self) -> dict[str, str]:
        """name → health ("healthy", "starting", "unhealthy") or run state for containers
        without a healthcheck or not running (migrate: "exited 0")."""
        out: dict[str, str] = {}
        ids = self.docker("ps", "-aq", "--filter", f"label=com.docker.compose.project={self.project}").stdout.split()
        if not ids:
            return out
        for info in json.loads(self.docker("inspect", *ids).stdout):
            state = info["State"]
            name = info["Name"].lstrip("/")
            if state["Status"] != "running":
                out[name] = f"{state['Status']} {state['ExitCode']}"
            else:
                out[name] = state.get("Health", {}).get("Status", "running")
        return out

    def all_healthy(self, expect: dict[str, int]) -> bool:
        """Every service in ``expect`` has that many running, healthy containers (migrate: exited 0)."""
        states = self.states()
        now = time.time()
        for name, state in states.items():
            if state in ("healthy", "exited 0"):
                self.first_ready.setdefault(name, now)
        for service, count in expect.items():
            mine = {n: s for n, s in states.items()
                    if n.startswith((f"{self.project}_{service}_", f"{self.project}-{service}-"))}
            if service == "migrate":
                if not mine or any(s != "exited 0" for s in mine.values()):
                    return False
                continue
            healthy = [n for n, s in mine.items() if s == "healthy"]
            if len(healthy) != count:
                return False
        return True

    def wait_healthy(self, expect: dict[str, int], timeout: float) -> float:
        began = time.monotonic()
        try:
            wait_for(f"every container healthy ({expect})", lambda: self.all_healthy(expect), timeout, 0.5)
        except DrillFailedError as exc:
            raise DrillFailedError(f"{exc}\nstates: {json.dumps(self.states(), indent=1)}") from None
        return time.monotonic() - began

    def timeline(self, began: float) -> str:
        """When each container started and was first seen healthy (a one-shot: when it exited),
        in seconds after ``began`` (a wall-clock time): where the time to a healthy stack goes.
        Debian's docker-compose returns from `up -d` only once `migrate` has exited, so the
        services it starts before are seen healthy no earlier than that."""
        ids = self.docker("ps", "-aq", "--filter", f"label=com.docker.compose.project={self.project}").stdout.split()
        parts = []
        for info in sorted(json.loads(self.docker("inspect", *ids).stdout), key=lambda i: i["State"]["StartedAt"]):
            name = info["Config"]["Labels"].get("com.docker.compose.service", info["Name"])
            started = _epoch(info["State"]["StartedAt"]) - began
            if info["State"]["Status"] == "exited":
                done = f", exited {info['State']['ExitCode']} at {_epoch(info['State']['FinishedAt']) - began:.0f} s"
            else:
                ready = self.first_ready.get(info["Name"].lstrip("/"))
                done = f", seen healthy {ready - began:.0f} s" if ready else ""
            parts.append(f"{name} started {started:.0f} s{done}")
        return "; ".join(parts)

    def logs(self, service: str, since: str | None = None) -> str:
        out = []
        for container in self.containers(service):
            args = ["logs"] + (["--since", since] if since else []) + [container]
            done = self.docker(*args, check=False)
            out.append(done.stdout + done.stderr)
        return "\n".join(out)

    def diagnose(self) -> None:
        say("---- diagnosis: containers ----")
        for name, state in sorted(self.states().items()):
            say(f"  {name}: {state}")
        ids = self.docker("ps", "-aq", "--filter", f"label=com.docker.compose.project={self.project}",
                          check=False).stdout.split()
        for container in ids:
            info = self.inspect(container)
            name = info["Name"].lstrip("/")
            health = info["State"].get("Health", {}).get("Log", [])[-1:]
            say(f"---- {name}: last log lines" + (f" (last healthcheck: {health[0]['Output'].strip()})"
                                                  if health else "") + " ----")
            done = self.docker("logs", "--tail", "40", container, check=False)
            for line in (done.stdout + done.stderr).splitlines()[-40:]:
                say(f"  {line}")

    def down(self) -> None:
        self.compose("down", "-v", "--remove-orphans", "-t", "20", timeout=240, check=False)


def _epoch(stamp: str) -> float:
    """Docker's RFC 3339 time with nanoseconds → seconds since the epoch."""
    from datetime import datetime

    head, _, fraction = stamp.rstrip("Z").partition(".")
    return datetime.fromisoformat(head + "+00:00").timestamp() + float(f"0.{fraction or 0}")


def image_size_mb(image: str) -> float:
    done = subprocess.run(["docker", "image", "inspect", "-f", "{{.Size}}", image], capture_output=True, text=True,
                          check=True)
    return int(done.stdout.strip()) / 1_000_000
