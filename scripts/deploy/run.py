"""The deployment test: the image and compose.yaml on real containers, as an operator runs them.

``scripts/test-deploy.sh`` installs Docker, starts dockerd, builds the stand-in base images and
the wheelhouse, then runs this (``python -m scripts.deploy.run``). Each drill prints PASS or
FAIL with what was seen; a failure prints every container's state and last log lines. The
closing line is ``N passed, N failed``.

1. the image: built from the Dockerfile (offline, from the host's wheelhouse) by
   scripts/test-deploy.sh beside the stand-ins (or here, when run alone); its version label and
   non-root user.
2. up: `compose up -d` of the whole stack; every service healthy (time measured, and when each
   service started and became healthy).
3. sign-in: the admin over plain HTTP with the TLS proxy's header; without it, a redirect to
   https (production settings); an admin login made the documented way (createsuperuser). The
   demo data is loaded here (`manage seed_demo`).
4. deep health: every component `ok` on /healthz/deep (bot connected to the fake gateway).
5. beat stopped: the scheduler reads `late` within its threshold, the dashboard shows it,
   /healthz stays 200 throughout; started again: `ok`.
6. kill -9: the delivery worker's main process is killed while it sends a batch held to Discord's
   real rate limits; the container comes back by its restart policy and every message arrives
   exactly once. The same for the worker of the `celery` queue: it comes back and runs its jobs.
7. delivery: the demo data's pending message reached the fake Discord through the delivery
   container. (It waits behind the demo's "sending" row of the same channel, whose lease lasts
   two minutes, so it is checked here, after drills that take that long anyway.)
8. upgrade: an image with one more migration, `compose up -d`: migrate runs once, every service
   comes back on the new image, messages queued across the upgrade arrive exactly once.
9. scale: `--scale worker=3`: every periodic job beat sent ran exactly once, on several workers.
10. restore: the README's rollback path. With the writers stopped, `manage backup` in the backup
   container; `restore` refuses the database that holds data; the database emptied; `restore`;
   every table's row count and a checksum of all its rows equal; the services started again:
   nothing already sent is sent again, and a new message is delivered once.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
from collections import Counter
from pathlib import Path

from scripts.deploy.stack import ROOT, DrillFailedError, Stack, image_size_mb, say, wait_for
from scripts.deploy.web_client import Client

PROJECT = os.environ.get("DEPLOY_PROJECT", "guildops-deploytest")
IMAGE = os.environ.get("DEPLOY_IMAGE", "guildops:deploytest")
NEXT_IMAGE = f"{IMAGE}-next"
HOST = "guildops.test"
ADMIN = ("officer", secrets.token_urlsafe(12))
DEMO_CHANNEL = "100000000000000043"
DEMO_TEXT = "📣 Demo: guild meeting on Sunday at 20:00."
DEMO_LEASE = 120  # bot/demo.py: the demo's "sending" row holds its channel this long
SCHEDULER_LATE = 20  # HEALTH_SCHEDULER_LATE_SECONDS of the test stack
HEALTHY_TIMEOUT = 150
# Beat entries whose tasks go to another queue than "celery" (the scale drill counts the rest).
OTHER_QUEUES = {"bot: deliver outbox", "core: heartbeat of the discord queue", "core: database backup"}
EXPECT = {"postgres": 1, "redis": 1, "migrate": 1, "web": 1, "worker": 1, "delivery": 1, "beat": 1, "bot": 1,
          "backup": 1}


class Drills:
    def __init__(self, work: Path, fake: dict) -> None:
        self.work = work
        self.fake = fake
        self.results: list[tuple[str, bool, float, str]] = []
        port = int(os.environ.get("DEPLOY_WEB_PORT") or _free_port())
        self.port = port
        env_file = work / "env"
        env_file.write_text("\n".join([
            f"SECRET_KEY={secrets.token_hex(40)}",
            f"FIELD_ENCRYPTION_KEY={secrets.token_hex(32)}",
            f"ALLOWED_HOSTS={HOST}",
            f"CSRF_TRUSTED_ORIGINS=https://{HOST}",
            "BEHIND_TLS_PROXY=1",
            f"DISCORD_TOKEN={fake['token']}",
            f"DISCORD_GUILD_ID={fake['guild_id']}",
            f"DISCORD_API_BASE={fake['api_base']}",
            f"DISCORD_GATEWAY_URL={fake['gateway_url']}",
            "DISCORD_HTTP_TIMEOUT=5",
            "OUTBOX_RUN_SECONDS=20",
            # Short clocks, so the drills take seconds, not minutes.
            "HEARTBEAT_INTERVAL_SECONDS=5",
            f"HEALTH_SCHEDULER_LATE_SECONDS={SCHEDULER_LATE}",
            "HEALTH_WORKER_LATE_SECONDS=30",
            "HEALTH_DELIVERY_LATE_SECONDS=30",
            "HEALTH_BOT_LATE_SECONDS=30",
            "LOG_LEVEL=INFO",
        ]) + "\n")
        self.stack = Stack(PROJECT, env_file, {
            "POSTGRES_PASSWORD": secrets.token_hex(16), "GUILDOPS_IMAGE": IMAGE,
            "WEB_BIND": f"127.0.0.1:{port}"})
        self.web = Client(port, HOST)

    # -- bookkeeping ------------------------------------------------------------------------
    def drill(self, name: str, func) -> bool:
        say(f"==> drill: {name}")
        began = time.monotonic()
        try:
            detail = func() or ""
        except Exception as exc:  # noqa: BLE001 - every failure is reported, then the stack diagnosed
            took = time.monotonic() - began
            message = str(exc) if isinstance(exc, DrillFailedError | AssertionError) else traceback.format_exc()
            self.results.append((name, False, took, message))
            say(f"FAIL: {name} ({took:.0f} s): {message}")
            self.stack.diagnose()
            return False
        took = time.monotonic() - began
        self.results.append((name, True, took, detail))
        say(f"PASS: {name} ({took:.0f} s){': ' + detail if detail else ''}")
        return True

    def fake_state(self) -> dict:
        with urllib.request.urlopen(f"{self.fake['control']}/state", timeout=10) as answer:
            return json.load(answer)

    def deep(self) -> dict:
        answer = self.web.get("/healthz/deep", proxied=False)
        return {"http": answer.status, **answer.json()}

    def components(self) -> dict[str, str]:
        deep = self.deep()
        return {name: (c["state"] if isinstance(c, dict) else c) for name, c in deep["components"].items()}

    def queue_messages(self, prefix: str, count: int, channels: int = 5) -> list[tuple[str, str]]:
        """``count`` channel messages through bot.outbox (as any service queues them), spread
        over ``channels`` of the fake guild's channels; returns (channel id, text) pairs."""
        code = (
            "from django.db import transaction\n"
            "from bot import outbox\n"
            "with transaction.atomic():\n"
            f"    for n in range({count}):\n"
            f"        outbox.post_message(100000000000000100 + n % {channels}, content=f'{prefix} #{{n}}', "
            f"dedupe_key=f'{prefix}:{{n}}', topic='deploy-test')\n")
        self.stack.manage("shell", "-c", code)
        return [(str(100000000000000100 + n % channels), f"{prefix} #{n}") for n in range(count)]

    def delivered(self, expected: list[tuple[str, str]]) -> Counter:
        """How often each expected message was posted to the fake Discord."""
        channels = self.fake_state()["channels"]
        counts: Counter = Counter()
        for channel, text in expected:
            counts[(channel, text)] = channels.get(channel, []).count(text)
        return counts

    def wait_delivered_once(self, expected: list[tuple[str, str]], timeout: float) -> str:
        try:
            wait_for(f"all {len(expected)} messages at the fake Discord",
                     lambda: all(self.delivered(expected).values()), timeout, 2)
        except DrillFailedError as exc:
            arrived = sum(1 for v in self.delivered(expected).values() if v)
            raise DrillFailedError(f"{exc}; {arrived} of {len(expected)} arrived") from None
        time.sleep(3)  # anything sent twice would land now
        twice = {k: v for k, v in self.delivered(expected).items() if v != 1}
        if twice:
            raise DrillFailedError(f"messages not posted exactly once: {list(twice.items())[:5]}")
        return f"{len(expected)} messages, each posted exactly once"

    # -- the drills ---------------------------------------------------------------------------
    def build(self) -> str:
        version = os.environ.get("DEPLOY_IMAGE_VERSION")  # scripts/test-deploy.sh built it already
        if not version:
            version = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                     text=True).stdout.strip() or "unknown"
            self.stack.docker("build", "-q", "--build-arg", "PIP_OFFLINE=1", "--build-arg",
                              f"GUILDOPS_VERSION={version}", "-t", IMAGE, str(ROOT), timeout=900)
        self.version = version
        label = self.stack.docker("image", "inspect", "-f", '{{index .Config.Labels "org.opencontainers.image.version"}}',
                                  IMAGE).stdout.strip()
        if label != version:
            raise DrillFailedError(f"the image's version label is {label!r}, not {version!r}")
        user = self.stack.docker("image", "inspect", "-f", "{{.Config.User}}", IMAGE).stdout.strip()
        if user in ("", "root", "0"):
            raise DrillFailedError(f"the image runs as {user or 'root'}")
        return f"{IMAGE}: {image_size_mb(IMAGE):.0f} MB, version {version}, user {user}"

    def up(self) -> str:
        began = time.time()
        self.stack.compose("up", "-d", "--no-build", timeout=300)
        self.stack.wait_healthy(EXPECT, HEALTHY_TIMEOUT)
        self.healthy_after = time.time() - began
        return (f"every service healthy {self.healthy_after:.0f} s after `compose up -d` "
                f"(load average {_load()}); {self.stack.timeline(began)}")

    def sign_in(self) -> str:
        # The documented way: `docker compose run --rm web manage createsuperuser` (here without a prompt).
        # The demo data (README: `manage seed_demo` to try it out) loads meanwhile; its pending
        # message is checked by the delivery drill.
        seeding = self.stack.manage_started("seed_demo")
        self.seeded_at = time.monotonic()
        self.stack.manage("createsuperuser", "--noinput", "--username", ADMIN[0], "--email", "officer@example.org",
                          env={"DJANGO_SUPERUSER_PASSWORD": ADMIN[1]})
        plain = self.web.get("/admin/login/", proxied=False)
        if plain.status != 301 or not plain.headers.get("location", "").startswith(f"https://{HOST}/"):
            raise DrillFailedError(f"plain HTTP without the proxy header should redirect to https (production settings), "
                          f"got {plain.status} {plain.headers.get('location')}")
        health = self.web.get("/healthz", proxied=False)
        if health.status != 200:
            raise DrillFailedError(f"/healthz over plain HTTP answered {health.status}")
        answer = self.web.sign_in(*ADMIN)
        if answer.status != 302 or answer.headers.get("location") != "/admin/":
            raise DrillFailedError(f"sign-in answered {answer.status} (location {answer.headers.get('location')}): "
                          f"{answer.body[:500]}")
        session = next((c for c in answer.set_cookies if c.startswith("sessionid=")), "")
        if "Secure" not in session or "HttpOnly" not in session:
            raise DrillFailedError(f"the session cookie is not Secure+HttpOnly: {session!r}")
        home = self.web.get("/admin/")
        if home.status != 200 or ADMIN[0] not in home.body:
            raise DrillFailedError(f"the admin home answered {home.status} without the officer's name")
        if f"Version {self.version}" not in home.body:
            raise DrillFailedError(f"the dashboard does not show the image's version {self.version}")
        static = re.search(r'href="(/static/[^"]+\.css)"', home.body)
        if not static or self.web.get(static.group(1)).status != 200:
            raise DrillFailedError(f"a stylesheet of the admin is not served by whitenoise ({static and static.group(1)})")
        out, err = seeding.communicate(timeout=300)
        if seeding.returncode != 0:
            raise DrillFailedError(f"seed_demo exited {seeding.returncode}: {(out + err)[-1500:]}")
        return ("301 to https without the header; signed in with it (Secure session cookie); dashboard, static files; "
                "demo data loaded")

    def demo_delivery(self) -> str:
        # The lease, then beat's next "deliver outbox" (every minute), and some slack.
        left = DEMO_LEASE + 60 + 30 - (time.monotonic() - self.seeded_at)
        wait_for("the demo message at the fake Discord",
                 lambda: DEMO_TEXT in self.fake_state()["channels"].get(DEMO_CHANNEL, []), max(left, 10), 2)
        logs = self.stack.logs("delivery")
        if "bot.tasks.deliver_outbox_task" not in logs or "succeeded" not in logs:
            raise DrillFailedError("the delivery container's log shows no delivery task that succeeded")
        for service in ("worker", "web", "beat", "bot", "backup"):
            if re.search(r"Task bot\.tasks\.deliver_outbox_task\[[0-9a-f-]+\] received", self.stack.logs(service)):
                raise DrillFailedError(f"{service} ran a delivery task: only the delivery container reads the discord queue")
        return f"{DEMO_TEXT!r} posted to channel {DEMO_CHANNEL} by the delivery container"

    def deep_health(self) -> str:
        try:
            states = wait_for("/healthz/deep: every component ok",
                              lambda: (lambda c: c if all(v == "ok" for v in c.values()) else None)(self.components()),
                              60, 2)
        except DrillFailedError as exc:
            raise DrillFailedError(f"{exc}; components: {self.components()}") from None
        deep = self.deep()
        if deep["http"] != 200 or deep["status"] != "ok":
            raise DrillFailedError(f"/healthz/deep answered {deep['http']} {deep['status']}")
        if self.fake_state()["identifies"] < 1:
            raise DrillFailedError("the bot never identified with the fake gateway")
        return ", ".join(f"{k} {v}" for k, v in states.items())

    def beat_stop(self) -> str:
        self.stack.compose("stop", "beat", timeout=60)
        stopped = time.monotonic()
        worst_healthz = 200

        def scheduler_late():
            nonlocal worst_healthz
            status = self.web.get("/healthz", proxied=False).status
            worst_healthz = max(worst_healthz, status) if status != 200 else worst_healthz
            return self.components()["scheduler"] == "late"

        wait_for("the scheduler reads late", scheduler_late, SCHEDULER_LATE + 20, 1)
        late_after = time.monotonic() - stopped
        deep = self.deep()
        if deep["http"] != 503:
            raise DrillFailedError(f"/healthz/deep answered {deep['http']} with the scheduler late (expected 503)")
        if "Scheduler (Celery beat): LATE" not in self.web.get("/admin/").body:
            raise DrillFailedError("the dashboard's System panel does not show the scheduler late")
        if worst_healthz != 200 or self.web.get("/healthz", proxied=False).status != 200:
            raise DrillFailedError(f"/healthz left 200 ({worst_healthz}) while beat was stopped")
        self.stack.compose("start", "beat", timeout=60)
        wait_for("the scheduler ok again", lambda: self.components()["scheduler"] == "ok", 60, 1)
        return (f"late {late_after:.0f} s after the stop (threshold {SCHEDULER_LATE} s), 503 on /healthz/deep, "
                "LATE on the dashboard, /healthz 200 throughout; ok again after start")

    def _kill_main_process(self, service: str) -> tuple[str, int]:
        """``kill -9`` of the Celery main process (child of the container's init), as the OOM
        killer does; returns the container and its restart count before."""
        container = self.stack.containers(service)[0]
        before = self.stack.inspect(container)["RestartCount"]
        top = self.stack.docker("top", container, "-eo", "pid,args").stdout.splitlines()[1:]
        mains = [line.split(None, 1) for line in top if "celery" in line and "worker" in line]
        pid = min(int(p) for p, _ in mains)
        subprocess.run(["kill", "-9", str(pid)], check=True)
        return container, before

    def _restarted(self, service: str, container: str, before: int) -> None:
        wait_for(f"{service} restarted by its restart policy",
                 lambda: self.stack.inspect(container)["RestartCount"] > before, 60, 1)
        self.stack.wait_healthy({service: 1}, 90)

    def kill_delivery(self) -> str:
        # Discord's real limits (5 messages per 5 s per channel): 40 messages over 2 channels take
        # about 20 s, so the kill lands mid-run. Queued while delivery is stopped, so the run
        # starts with all of them.
        urllib.request.urlopen(urllib.request.Request(f"{self.fake['control']}/limits", method="POST"), timeout=10)
        self.stack.compose("stop", "delivery", timeout=120)
        expected = self.queue_messages("kill-9 drill", 40, channels=2)
        self.stack.compose("start", "delivery", timeout=120)
        wait_for("the delivery under way", lambda: sum(self.delivered(expected).values()) >= 3, 120, 0.3)
        sent_before = sum(self.delivered(expected).values())
        if sent_before >= len(expected):
            raise DrillFailedError("every message was sent before the kill: the drill proved nothing")
        # The worker of the "celery" queue is killed at the same moment, during its periodic jobs.
        since = time.time()
        killed = {service: self._kill_main_process(service) for service in ("delivery", "worker")}
        for service, (container, before) in killed.items():
            self._restarted(service, container, before)
        result = self.wait_delivered_once(expected, 180)
        wait_for("the worker running heartbeat jobs after its restart",
                 lambda: "core.tasks.heartbeat_task" in self.stack.logs("worker", since=str(int(since)))
                 and "succeeded" in self.stack.logs("worker", since=str(int(since))), 60, 2)
        return f"killed after {sent_before} of {len(expected)} posts; {result}; the worker restarted and runs jobs again"

    def upgrade(self) -> str:
        leaf = [line for line in self.stack.manage("showmigrations", "core").splitlines() if "[X]" in line][-1]
        leaf = leaf.split("]")[1].strip()
        build = self.work / "upgrade"
        build.mkdir()
        (build / "9999_upgrade_drill.py").write_text(
            "from django.db import migrations\n\n\n"
            "class Migration(migrations.Migration):\n"
            f"    dependencies = [('core', '{leaf}')]\n"
            "    operations = [\n"
            "        migrations.RunSQL('CREATE TABLE upgrade_drill (applied_at timestamptz DEFAULT now())',\n"
            "                          'DROP TABLE upgrade_drill'),\n"
            "        migrations.RunSQL('INSERT INTO upgrade_drill DEFAULT VALUES', migrations.RunSQL.noop),\n"
            "    ]\n")
        (build / "Dockerfile").write_text(
            f"FROM {IMAGE}\nCOPY 9999_upgrade_drill.py /app/core/migrations/\n"
            f'LABEL org.opencontainers.image.version="{self.version}-next"\n'
            f"ENV GUILDOPS_VERSION={self.version}-next\n")
        self.stack.docker("build", "-q", "-t", NEXT_IMAGE, str(build), timeout=300)
        expected = self.queue_messages("upgrade drill", 40)
        self.stack.env["GUILDOPS_IMAGE"] = NEXT_IMAGE
        began = time.monotonic()
        self.stack.compose("up", "-d", "--no-build", timeout=400)
        self.stack.wait_healthy(EXPECT, HEALTHY_TIMEOUT)
        took = time.monotonic() - began
        new_id = self.stack.docker("image", "inspect", "-f", "{{.Id}}", NEXT_IMAGE).stdout.strip()
        for service in ("migrate", "web", "worker", "delivery", "beat", "bot", "backup"):
            ids = self.stack.docker("ps", "-aq", "--filter", f"label=com.docker.compose.project={PROJECT}",
                                    "--filter", f"label=com.docker.compose.service={service}").stdout.split()
            for container in ids:
                if self.stack.inspect(container)["Image"] != new_id:
                    raise DrillFailedError(f"{service} did not come back on the new image")
        applied = self.stack.logs("migrate").count("Applying core.9999_upgrade_drill... OK")
        rows = self.stack.compose("exec", "-T", "postgres", "psql", "-U", "guildops", "-d", "guildops", "-tAc",
                                  "SELECT count(*) FROM upgrade_drill").stdout.strip()
        if applied != 1 or rows != "1":
            raise DrillFailedError(f"the new migration ran {applied} times by the log, {rows} times by its table")
        result = self.wait_delivered_once(expected, 180)
        if f"Version {self.version}-next" not in self.web.get("/admin/").body:
            raise DrillFailedError("the dashboard does not show the new version")
        return f"new image everywhere, healthy {took:.0f} s after `up -d`; migration applied once; {result}"

    def _worker_outcomes(self, since: str) -> tuple[Counter, dict[str, int], set[str]]:
        """Over every worker container since ``since``: how often each task id finished (ran to
        success or failure, or was discarded as expired), tasks per container, ids received."""
        finished: Counter = Counter()
        per_worker: dict[str, int] = {}
        received: set[str] = set()
        for container in self.stack.containers("worker"):
            done = self.stack.docker("logs", "--since", since, container)
            log = done.stdout + done.stderr
            ids = re.findall(r"Task ([\w.]+\[[0-9a-f-]+\]) (?:succeeded|raised|failed)", log)
            ids += re.findall(r"Discarding revoked task: ([\w.]+\[[0-9a-f-]+\])", log)
            received.update(re.findall(r"Task ([\w.]+\[[0-9a-f-]+\]) received", log))
            per_worker[container[:12]] = len(ids)
            finished.update(ids)
        return finished, per_worker, received

    def scale(self) -> str:
        self.stack.compose("up", "-d", "--no-build", "--no-recreate", "--scale", "worker=3", timeout=300)
        self.stack.wait_healthy({**EXPECT, "worker": 3}, HEALTHY_TIMEOUT)
        since = str(int(time.time()))
        time.sleep(30)  # beat keeps sending: heartbeats every 5 s, the 1-minute jobs
        self.stack.compose("stop", "beat", timeout=60)
        # Everything received has finished (bounded: the jobs here take well under a second).
        wait_for("the workers finishing what beat sent",
                 lambda: (lambda f, _, r: r <= set(f))(*self._worker_outcomes(since)), 60, 2)
        finished, per_worker, _ = self._worker_outcomes(since)
        beat_log = self.stack.logs("beat", since=since)
        sent: Counter = Counter()
        for entry, task in re.findall(r"Sending due task (.+) \(([\w.]+)\)", beat_log):
            if entry not in OTHER_QUEUES:
                sent[task] += 1
        twice = [k for k, v in finished.items() if v > 1]
        if twice:
            raise DrillFailedError(f"tasks that ran twice: {twice[:5]}")
        by_task = Counter(key.split("[", 1)[0] for key in finished)
        if sum(sent.values()) < 5:
            raise DrillFailedError(f"beat sent too little to judge: {dict(sent)}")
        # Jobs a periodic job queues itself (kicks) are not beat's: only beat's tasks are compared.
        differ = {t: (n, by_task.get(t, 0)) for t, n in sent.items() if by_task.get(t, 0) != n}
        if differ:
            raise DrillFailedError(f"sent by beat vs run by the workers differ (task: sent, ran): {differ}")
        if sum(1 for n in per_worker.values() if n) < 2:
            raise DrillFailedError(f"the jobs did not spread over the workers: {per_worker}")
        self.stack.compose("start", "beat", timeout=60)
        return (f"beat sent {sum(sent.values())} jobs to the celery queue ({', '.join(sorted(sent))}); "
                f"each ran exactly once, spread over the workers {sorted(per_worker.values())}")


    def fingerprint(self) -> dict[str, tuple[int, str]]:
        """Every table's row count and an md5 of all its rows (as text, sorted)."""
        def psql(sql: str) -> str:
            return self.stack.compose("exec", "-T", "postgres", "psql", "-U", "guildops", "-d", "guildops", "-tAqc",
                                      sql, timeout=120).stdout
        query = psql("SELECT string_agg(format('SELECT %L, count(*), coalesce(md5(string_agg(x::text, '','' "
                     "ORDER BY x::text)), '''') FROM %I x', tablename, tablename), ' UNION ALL ') "
                     "FROM pg_tables WHERE schemaname = 'public'").strip()
        if not query:
            return {}
        rows = [line.split("|") for line in psql(query).splitlines() if line.strip()]
        return {table: (int(count), digest) for table, count, digest in rows}

    def restore(self) -> str:
        writers = ["web", "worker", "delivery", "beat", "bot"]
        # The README's rollback: stop the processes that write; the backup service runs the commands.
        self.stack.compose("stop", *writers, timeout=240)
        before = self.fingerprint()
        made = self.stack.compose("exec", "-T", "backup", "python", "manage.py", "backup", timeout=300).stdout
        found = re.search(r"backup (/backups/guildops-\d{8}T\d{6}Z\.dump)", made)
        if not found:
            raise DrillFailedError(f"`manage backup` named no backup file: {made[-500:]}")
        path = found.group(1)
        refused = self.stack.compose("exec", "-T", "backup", "python", "manage.py", "restore", path, check=False,
                                     timeout=300)
        if refused.returncode == 0 or "already holds data" not in refused.stdout + refused.stderr:
            raise DrillFailedError(f"restore over a database holding data was not refused: {refused.returncode} "
                                   f"{(refused.stdout + refused.stderr)[-500:]}")
        self.stack.compose("exec", "-T", "postgres", "psql", "-U", "guildops", "-d", "guildops", "-qc",
                           "DROP SCHEMA public CASCADE; CREATE SCHEMA public", timeout=120)
        if self.fingerprint():
            raise DrillFailedError("the database still has tables after it was emptied")
        done = self.stack.compose("exec", "-T", "backup", "python", "manage.py", "restore", path, timeout=600).stdout
        after = self.fingerprint()
        differ = sorted(t for t in before.keys() | after.keys() if before.get(t) != after.get(t))
        if differ:
            raise DrillFailedError(f"tables not equal after the restore: "
                                   f"{[(t, before.get(t), after.get(t)) for t in differ[:5]]}")
        pending = self.stack.compose(
            "exec", "-T", "postgres", "psql", "-U", "guildops", "-d", "guildops", "-tAc",
            "SELECT count(*) FROM bot_outboxmessage WHERE status IN ('pending', 'sending')").stdout.strip()
        posted = self.fake_state()["channels"]
        self.stack.compose("start", *writers, timeout=240)
        self.stack.wait_healthy({**EXPECT, "worker": len(self.stack.containers("worker"))}, HEALTHY_TIMEOUT)
        # A delivery run after the restore: it sends the new message, and nothing already sent.
        expected = self.queue_messages("restore drill", 1)
        result = self.wait_delivered_once(expected, 120)
        now = self.fake_state()["channels"]
        again = [(c, t) for c, texts in posted.items() for t in set(texts) if now.get(c, []).count(t) != texts.count(t)]
        if again:
            raise DrillFailedError(f"messages sent before the backup were sent again: {again[:5]}")
        return (f"{len(before)} tables equal in rows and checksum after `restore {path}` "
                f"({done.strip().splitlines()[0][:100]}); refused without --force while holding data; "
                f"{sum(map(len, posted.values()))} messages sent before, none again ({pending} pending at the backup); "
                f"{result}")


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    # `timeout` stops a run that overstays with SIGTERM: clean up like on any other failure.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(SystemExit("stopped by SIGTERM (timeout)")))
    began = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="guildops-deploy-"))
    bind = os.environ["DEPLOY_FAKE_BIND"]
    state_file = work / "fake.json"
    fake_log = open(work / "fake-discord.log", "w")  # noqa: SIM115 - lives as long as the fake
    fake_proc = subprocess.Popen([sys.executable, "-m", "scripts.deploy.fake_discord", bind, str(state_file)],
                                 cwd=ROOT, stdout=fake_log, stderr=subprocess.STDOUT)
    drills = None
    planned = 0
    try:
        fake = wait_for("the fake Discord listening", lambda: state_file.exists() and json.loads(state_file.read_text()),
                        30, 0.2)
        drills = Drills(work, fake)
        drills.stack.down()  # a stack an interrupted run left behind
        order = [("build the image", drills.build), ("compose up: every service healthy", drills.up),
                 ("admin sign-in over HTTP with the proxy header", drills.sign_in),
                 ("/healthz/deep: every component ok", drills.deep_health),
                 ("beat stopped: scheduler late, dashboard, /healthz 200; started: ok", drills.beat_stop),
                 ("kill -9 of the delivery and worker containers: nothing lost, nothing twice", drills.kill_delivery),
                 ("a demo message reaches the fake Discord through the delivery container", drills.demo_delivery),
                 ("upgrade to an image with one more migration", drills.upgrade),
                 ("--scale worker=3: every periodic job exactly once", drills.scale),
                 ("restore drill: backup, empty database, restore; nothing sent again", drills.restore)]
        planned = len(order)
        try:
            for number, (name, func) in enumerate(order):
                if not drills.drill(name, func) and number < 2:
                    break  # without an image or a running stack nothing else can be judged
        except SystemExit as stop:
            drills.results.append((f"stopped during the drills: {stop}", False, 0.0, str(stop)))
    except SystemExit as stop:
        say(f"stopped before the drills: {stop}")
    finally:
        # The summary first: a run stopped by its timeout may not live through the clean-up.
        results = drills.results if drills else []
        passed = sum(1 for r in results if r[1])
        failed = len(results) - passed
        say(f"==> deployment test: {time.monotonic() - began:.0f} s (load average now {_load()})")
        for name, ok, took, _detail in results:
            say(f"  {'PASS' if ok else 'FAIL'} {took:5.0f} s  {name}")
        if failed or not results:
            say(f"  fake Discord log: {work / 'fake-discord.log'}")
        say(f"{passed} passed, {failed or (0 if results else 1)} failed")
        if drills is not None and os.environ.get("DEPLOY_KEEP") != "1":
            drills.stack.down()
            for image in (NEXT_IMAGE,):
                subprocess.run(["docker", "image", "rm", "-f", image], capture_output=True)
        fake_proc.terminate()
        try:
            fake_proc.wait(10)
        except subprocess.TimeoutExpired:
            fake_proc.kill()
        if results and not failed:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if results and not failed and len(results) == planned else 1


if __name__ == "__main__":
    sys.exit(main())
