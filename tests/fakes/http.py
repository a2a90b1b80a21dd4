"""Base for the local fake HTTP APIs (Discord, Blizzard, Raid-Helper) used by the tests.

Each fake is a stateful handler on pytest-httpserver's threaded server: it keeps what a real
API would keep (messages, events), records every request for assertions, and can be told to
fail the next matching requests (``fail_next``), to stall (``stall_next``) or to do a write and
lose its answer (``lose_answer_next``) the way the real services do.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    json: Any
    body: bytes
    query: dict[str, str]
    files: dict[str, bytes] = field(default_factory=dict)  # multipart uploads by file name


@dataclass
class Scripted:
    method: str
    pattern: re.Pattern
    times: int
    status: int = 500
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    passthrough_after_delay: bool = False
    answer_after_handling: bool = False  # carry the request out, then answer ``status`` instead


class FakeAPI:
    prefix = ""

    def __init__(self) -> None:
        self.server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self.server.expect_request(re.compile(".*")).respond_with_handler(self._dispatch)
        self.lock = threading.RLock()
        self.requests: list[Recorded] = []
        self.scripted: list[Scripted] = []
        self._in_flight = 0
        self.reset()  # a subclass keeps its state in reset(), so a new fake starts like a reset one

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> FakeAPI:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.clear()
        if self.server.is_running():
            self.server.stop()

    def reset(self) -> None:
        # A request a previous test left stalled must not land in the next test's state.
        deadline = time.monotonic() + 10
        while self._in_flight and time.monotonic() < deadline:
            time.sleep(0.05)
        with self.lock:
            self.requests.clear()
            self.scripted.clear()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}{self.prefix}"

    # -- scripting ----------------------------------------------------------------------
    def fail_next(self, method: str, path_regex: str, status: int, body: Any = None, *, times: int = 1,
                  headers: dict[str, str] | None = None) -> None:
        with self.lock:
            self.scripted.append(Scripted(method.upper(), re.compile(path_regex), times, status, body, headers or {}))

    def stall_next(self, method: str, path_regex: str, seconds: float, *, times: int = 1,
                   then_handle: bool = True) -> None:
        """Hold the next matching request for ``seconds`` (the client times out). With
        ``then_handle`` the request is still carried out, like an API that accepted the write
        but whose answer never arrived."""
        with self.lock:
            self.scripted.append(Scripted(method.upper(), re.compile(path_regex), times, delay=seconds,
                                          passthrough_after_delay=then_handle))

    def lose_answer_next(self, method: str, path_regex: str, status: int = 502, body: Any = None, *,
                         times: int = 1) -> None:
        """Carry out the next matching request, then answer ``status`` instead of its answer: a
        proxy in front of the API (Cloudflare's 502/504) that lost the answer of a write the API
        did. A client that retries then meets its own first request's effect."""
        with self.lock:
            self.scripted.append(Scripted(method.upper(), re.compile(path_regex), times, status, body,
                                          answer_after_handling=True))

    def calls(self, method: str | None = None, path_regex: str | None = None) -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if (method is None or r.method == method.upper())
                    and (path_regex is None or re.search(path_regex, r.path))]

    # -- plumbing -----------------------------------------------------------------------
    def _dispatch(self, request: Request) -> Response:
        with self.lock:
            self._in_flight += 1
        try:
            return self._answer(request)
        finally:
            with self.lock:
                self._in_flight -= 1

    def _answer(self, request: Request) -> Response:
        path = request.path
        if self.prefix and path.startswith(self.prefix):
            path = path[len(self.prefix):]
        raw = request.get_data()
        files: dict[str, bytes] = {}
        try:
            if request.mimetype == "multipart/form-data":
                # Discord's uploads: the JSON body in "payload_json", files in "files[n]"
                # (discord-api-docs reference.md, "Uploading Files")
                payload = json.loads(request.form.get("payload_json") or "null")
                files = {part.filename or name: part.read() for name, part in request.files.items()}
            else:
                payload = json.loads(raw) if raw else None
        except ValueError:
            payload = None
        rec = Recorded(request.method, path, dict(request.headers), payload, raw, dict(request.args), files)
        with self.lock:
            self.requests.append(rec)
            script = next((s for s in self.scripted if s.method == request.method and s.pattern.search(path)), None)
            if script:
                script.times -= 1
                if script.times <= 0:
                    self.scripted.remove(script)
        if script and script.delay:
            time.sleep(script.delay)
            if not script.passthrough_after_delay:
                return Response("", status=504)
        elif script and script.answer_after_handling:
            self.handle(rec)
            return self.respond(script.status, script.body, script.headers)
        elif script:
            return self.respond(script.status, script.body, script.headers)
        return self.handle(rec)

    def respond(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> Response:
        if body is None or isinstance(body, str | bytes):
            return Response(body or b"", status=status, headers=headers, content_type="text/plain")
        return Response(json.dumps(body), status=status, headers=headers, content_type="application/json")

    def handle(self, rec: Recorded) -> Response:  # pragma: no cover - subclasses answer
        raise NotImplementedError


def session_fake(fake_type: type[FakeAPI]) -> Any:
    """A session fixture running one ``fake_type`` server for the whole run: assign it to a name
    in a conftest (``_fake_x_server = session_fake(FakeX)``) and pair it with a per-test fixture
    that calls ``use_fake``."""

    @pytest.fixture(scope="session")
    def server():
        fake = fake_type().start()
        yield fake
        fake.stop()

    return server


def use_fake(server: FakeAPI, settings: Any, **values: Any) -> FakeAPI:
    """Per test: the fake forgets what the last test left on it, and ``settings`` (pytest-django's
    fixture) point at it: ``use_fake(server, settings, X_API_BASE=server.base_url, ...)``."""
    server.reset()
    for name, value in values.items():
        setattr(settings, name, value)
    return server
