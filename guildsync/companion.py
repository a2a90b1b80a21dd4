"""GuildSync companion: uploads the addon's SavedVariables file to Guild Ops when it changes.

Runs on the officer's own PC (usually Windows), next to the game, so it depends on nothing
but the Python standard library and ``requests``, and never imports Django. It is a single
file: copy it anywhere and run ``python companion.py ...``, or ``python -m guildsync.companion``
from a checkout.

    python -m guildsync.companion --file "C:/.../WTF/Account/NAME/SavedVariables/GuildSync.lua" \\
        --url https://guildops.example.org/api/guild-sync/addon/upload --key API_KEY --watch

Why each behaviour:

* The game rewrites the file at every logout and /reload, mostly with the same content, so
  the companion compares a SHA-256 of the content with the last upload it made and skips
  unchanged files (the hash is kept in a small state file, so restarts do not re-upload).
* Network hiccups, server restarts (5xx) and rate limits (429) are temporary: it retries with
  exponential backoff and honours ``Retry-After``.
* A 4xx answer is final for that content: a file the server cannot parse (400, with the line
  and column), a wrong key (401/403), a file over a size limit (413) or one too costly to read
  (422) will not get better by retrying, so it prints the server's message and waits for the
  next change instead.
* 200 means the server processed the file; 202 means it read and checked it and its worker
  is writing it (the answer's ``status_url`` shows the run).
"""

from __future__ import annotations

import argparse
import email.utils
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import requests

USER_AGENT = "GuildSync-companion/1.0"
DEFAULT_INTERVAL = 10.0
DEFAULT_ATTEMPTS = 6
DEFAULT_BACKOFF = 2.0
MAX_BACKOFF = 300.0
DEFAULT_STATE = Path.home() / ".guildsync-companion.json"

# Exit codes (one-shot mode).
OK, TEMPORARY_FAILURE, REJECTED, USAGE = 0, 1, 2, 3


@dataclass
class Outcome:
    """What one upload attempt sequence came to."""

    status: str          # "uploaded", "unchanged", "rejected", "failed", "missing"
    message: str
    http_status: int | None = None
    fatal: bool = False  # a wrong key or URL: watching further cannot help

    @property
    def exit_code(self) -> int:
        return {"uploaded": OK, "unchanged": OK, "rejected": REJECTED, "failed": TEMPORARY_FAILURE,
                "missing": USAGE}[self.status]


class _RetryError(Exception):
    def __init__(self, reason: str, delay: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay = delay


def _server_message(response: requests.Response) -> str:
    """The server's own words: DRF's ``detail``, an ``error``/``message`` field, or the text."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return text[:500] if text else response.reason or ""
    if isinstance(body, dict):
        for key in ("detail", "error", "message"):
            if body.get(key):
                value = body[key]
                return value if isinstance(value, str) else json.dumps(value)
        return json.dumps(body)
    return json.dumps(body)


def _retry_after(response: requests.Response) -> float | None:
    """``Retry-After`` as seconds, whether given as a number or as an HTTP date."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _describe_counts(body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    parts = []
    for key, value in body.items():
        if isinstance(value, dict):
            inner = ", ".join(f"{k} {v}" for k, v in value.items() if not isinstance(v, (dict, list)))
            if inner:
                parts.append(f"{key}: {inner}")
        elif not isinstance(value, list):
            parts.append(f"{key.replace('_', ' ')} {value}")
    return "; ".join(parts)


class Companion:
    """Uploads one SavedVariables file. ``sleep`` and ``out`` are injectable for tests."""

    def __init__(self, file: Path, url: str, key: str, *, raw: bool = False, attempts: int = DEFAULT_ATTEMPTS,
                 backoff: float = DEFAULT_BACKOFF, timeout: float = 30.0, state_file: Path | None = DEFAULT_STATE,
                 sleep: Callable[[float], None] = time.sleep, out: Callable[[str], None] | None = None,
                 session: requests.Session | None = None) -> None:
        self.file = Path(file)
        self.url = url
        self.key = key
        self.raw = raw
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.timeout = timeout
        self.state_file = state_file
        self.sleep = sleep
        self.out = out or (lambda line: print(line, flush=True))
        self.session = session or requests.Session()
        self.session.headers.update({"User-Agent": USER_AGENT})
        self._memory: str | None = None  # last hash when no state file is kept

    # -- state: which content was uploaded (or rejected) last --------------------------------
    def _state_key(self) -> str:
        return f"{self.file.resolve()} -> {self.url}"

    def _load_state(self) -> dict[str, Any]:
        if self.state_file is None or not self.state_file.exists():
            return {}
        try:
            data = json.loads(self.state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def last_hash(self) -> str | None:
        entry = self._load_state().get(self._state_key())
        return entry.get("sha256") if isinstance(entry, dict) else None

    def _remember(self, digest: str, status: str) -> None:
        if self.state_file is None:
            self._memory = digest
            return
        state = self._load_state()
        state[self._state_key()] = {"sha256": digest, "status": status, "at": datetime.now().isoformat(timespec="seconds")}
        tmp = self.state_file.with_name(self.state_file.name + ".tmp")
        tmp.write_text(json.dumps(state, indent=1), encoding="utf-8")
        os.replace(tmp, self.state_file)

    def _known_hash(self) -> str | None:
        return self._memory if self.state_file is None else self.last_hash()

    # -- one upload ------------------------------------------------------------------------
    def say(self, message: str) -> None:
        self.out(f"[{datetime.now().strftime('%H:%M:%S')}] {message}")

    def read(self) -> bytes | None:
        try:
            return self.file.read_bytes()
        except FileNotFoundError:
            return None

    def upload_if_changed(self, *, force: bool = False) -> Outcome:
        """Upload the file unless its content is what we last uploaded (or last had rejected)."""
        data = self.read()
        if data is None:
            outcome = Outcome("missing", f"{self.file} does not exist yet. Log in with an officer, type /guildsync "
                                         "and /reload (or log out) so the game writes it.")
            self.say(outcome.message)
            return outcome
        digest = hashlib.sha256(data).hexdigest()
        if not force and digest == self._known_hash():
            outcome = Outcome("unchanged", f"{self.file.name} has not changed since the last upload; nothing sent.")
            self.say(outcome.message)
            return outcome
        outcome = self._send(data)
        if outcome.status in ("uploaded", "rejected") and not outcome.fatal:
            self._remember(digest, outcome.status)
        self.say(outcome.message)
        return outcome

    def _post(self, data: bytes) -> requests.Response:
        headers = {"Authorization": f"Api-Key {self.key}", "Accept": "application/json"}
        if self.raw:
            headers["Content-Type"] = "text/plain; charset=utf-8"
            return self.session.post(self.url, data=data, headers=headers, timeout=self.timeout)
        files = {"file": (self.file.name, data, "text/plain; charset=utf-8")}
        return self.session.post(self.url, files=files, headers=headers, timeout=self.timeout)

    def _attempt(self, data: bytes) -> Outcome:
        try:
            response = self._post(data)
        except requests.Timeout:
            raise _RetryError(f"the server did not answer within {self.timeout:g} s") from None
        except requests.ConnectionError as exc:
            raise _RetryError(f"could not connect to {self.url} ({type(exc).__name__})") from None
        status = response.status_code
        if 200 <= status < 300:
            try:
                body = response.json()
            except ValueError:
                body = None
            size = f"{len(data) / 1024:,.0f} KB"
            if status == 202 and isinstance(body, dict) and body.get("status_url"):
                # a big file: read and checked, its members are written by the server's worker
                return Outcome("uploaded", f"Uploaded {self.file.name} ({size}): the server read it and is writing "
                                           f"it in the background; follow it at {body['status_url']}.", status)
            counts = _describe_counts(body)
            return Outcome("uploaded", f"Uploaded {self.file.name} ({size}): the server processed it"
                                       + (f" — {counts}." if counts else "."), status)
        message = _server_message(response).rstrip(". ")
        if status == 429 or status >= 500:
            raise _RetryError(f"the server answered {status} {message}".rstrip(), _retry_after(response))
        if status == 400:
            return Outcome("rejected", f"The server could not read {self.file.name} (400): {message}. "
                                       "It will be sent again when the game rewrites it.", status)
        if status in (401, 403):
            return Outcome("rejected", f"The server refused the API key ({status}): {message}. "
                                       "Check --key (ask an admin for a Guild Ops API key).", status, fatal=True)
        if status == 413:
            return Outcome("rejected", f"{self.file.name} is too big for the server (413): {message}. "
                                       "Ask an admin about the limit it names.", status)
        if status == 422:
            return Outcome("rejected", f"The server gave up reading {self.file.name} (422): {message}. "
                                       "It will be sent again when the game rewrites it.", status)
        if status in (404, 405):
            return Outcome("rejected", f"The server answered {status} ({message}): check --url, it should end "
                                       "with /api/guild-sync/addon/upload.", status, fatal=True)
        return Outcome("rejected", f"The server rejected the upload ({status}): {message}.", status)

    def _send(self, data: bytes) -> Outcome:
        delay = self.backoff
        for attempt in range(1, self.attempts + 1):
            try:
                return self._attempt(data)
            except _RetryError as retry:
                if attempt == self.attempts:
                    return Outcome("failed", f"Upload failed after {attempt} attempts: {retry.reason}. "
                                             "Will try again later.")
                wait = min(MAX_BACKOFF, retry.delay if retry.delay is not None else delay)
                self.say(f"Upload attempt {attempt} failed: {retry.reason}; retrying in {wait:g} s.")
                self.sleep(wait)
                delay = min(MAX_BACKOFF, delay * 2)
        raise AssertionError("unreachable")

    # -- watching ----------------------------------------------------------------------------
    def _signature(self) -> tuple[int, int] | None:
        try:
            st = self.file.stat()
        except FileNotFoundError:
            return None
        return st.st_mtime_ns, st.st_size

    def watch(self, interval: float = DEFAULT_INTERVAL, *, polls: int | None = None) -> Outcome:
        """Poll the file every ``interval`` seconds and upload it when its content changes.
        Waits until the file stops changing (the game writes it in pieces at logout). Runs
        until interrupted, or for ``polls`` polls (tests). Stops on a wrong key or URL."""
        self.say(f"Watching {self.file} every {interval:g} s; press Ctrl+C to stop.")
        last_outcome = self.upload_if_changed()
        if last_outcome.fatal:
            return last_outcome
        seen = self._signature()
        count = 0
        while polls is None or count < polls:
            count += 1
            self.sleep(interval)
            current = self._signature()
            if current == seen and last_outcome.status != "failed":
                continue
            settled = current
            while True:  # let the game finish writing
                self.sleep(min(1.0, interval))
                again = self._signature()
                if again == settled:
                    break
                settled = again
            seen = settled
            last_outcome = self.upload_if_changed()
            if last_outcome.fatal:
                return last_outcome
        return last_outcome


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m guildsync.companion",
        description="Upload the GuildSync addon's SavedVariables file to Guild Ops when it changes.")
    parser.add_argument("--file", required=True, type=Path,
                        help="WTF/Account/<ACCOUNT>/SavedVariables/GuildSync.lua in the World of Warcraft folder")
    parser.add_argument("--url", required=True, help="the upload endpoint, e.g. "
                        "https://guildops.example.org/api/guild-sync/addon/upload")
    parser.add_argument("--key", default=os.environ.get("GUILDSYNC_API_KEY"),
                        help="Guild Ops API key (or set GUILDSYNC_API_KEY)")
    parser.add_argument("--watch", action="store_true", help="keep running and upload after every change")
    parser.add_argument("--interval", type=float, default=DEFAULT_INTERVAL, help="seconds between checks (--watch)")
    parser.add_argument("--force", action="store_true", help="upload even if the content has not changed")
    parser.add_argument("--raw", action="store_true", help="send the file as the raw request body, not multipart")
    parser.add_argument("--attempts", type=int, default=DEFAULT_ATTEMPTS, help="tries per upload on temporary errors")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the server")
    parser.add_argument("--state", type=Path, default=DEFAULT_STATE,
                        help=f"where the hash of the last upload is kept (default {DEFAULT_STATE})")
    return parser


def main(argv: list[str] | None = None, *, sleep: Callable[[float], None] = time.sleep) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.key:
        parser.error("an API key is required: --key KEY or the GUILDSYNC_API_KEY environment variable")
    if not args.url.startswith(("http://", "https://")):
        parser.error(f"--url must start with http:// or https:// (got {args.url!r})")
    if args.interval <= 0:
        parser.error("--interval must be positive")
    companion = Companion(args.file, args.url, args.key, raw=args.raw, attempts=args.attempts,
                          timeout=args.timeout, state_file=args.state, sleep=sleep)
    try:
        if args.watch:
            return companion.watch(args.interval).exit_code
        return companion.upload_if_changed(force=args.force).exit_code
    except KeyboardInterrupt:
        companion.say("Stopped.")
        return OK


if __name__ == "__main__":
    sys.exit(main())
