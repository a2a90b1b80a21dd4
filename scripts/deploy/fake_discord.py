"""The fake Discord (REST + gateway, tests/fakes) as a process the containers of the deployment
test reach: ``python -m scripts.deploy.fake_discord BIND_HOST STATE_FILE``.

The REST API and the gateway listen on ``BIND_HOST`` (the Docker bridge's address on this
machine, which containers reach); a control endpoint on 127.0.0.1 lets the test read what
Discord received (``GET /state``) and switch on Discord's real rate limits and latency
(``POST /limits``). The ports are written to ``STATE_FILE`` as JSON once everything listens.
No shape is invented here: the answers are tests/fakes/discord_api.py's and
tests/fakes/discord_gateway.py's.
"""

from __future__ import annotations

import json
import re
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiohttp import web
from pytest_httpserver import HTTPServer

from tests.fakes.discord_api import FakeDiscord
from tests.fakes.discord_gateway import FakeGateway, Guild

GUILD_ID = 100_000_000_000_000_001
# bot/demo.py's channel, and the channels the drills post to.
CHANNELS = [100_000_000_000_000_043] + [100_000_000_000_000_100 + n for n in range(10)]


class ReachableGateway(FakeGateway):
    """The fake gateway on ``bind`` instead of 127.0.0.1 (containers connect to it)."""

    bind = "127.0.0.1"

    async def _start_server(self) -> None:
        self._send_lock = __import__("asyncio").Lock()
        app = web.Application()
        app.router.add_get("/", self._connection)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.bind, 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"ws://{self.bind}:{self.port}/"


def main(bind: str, state_file: str) -> None:
    rest = FakeDiscord()
    rest.server = HTTPServer(host=bind, port=0, threaded=True)
    rest.server.expect_request(re.compile(".*")).respond_with_handler(rest._dispatch)
    rest.start()
    guild = Guild(GUILD_ID, name="Guild Ops deployment test")
    for n, channel in enumerate(CHANNELS):
        guild.add_channel(channel, f"channel-{n}")
    ReachableGateway.bind = bind
    gateway = ReachableGateway(rest, guild, heartbeat_interval_ms=5000).start()

    class Control(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet: the test prints what matters
            pass

        def _json(self, payload: dict) -> None:
            body = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            with rest.lock:
                channels = {str(cid): [m["content"] for m in msgs.values()] for cid, msgs in rest.messages.items()}
                creates = len([r for r in rest.requests if r.method == "POST" and r.path.endswith("/messages")])
            self._json({"channels": channels, "message_creates": creates, "identifies": gateway.identifies,
                        "resumes": gateway.resumes, "heartbeats": gateway.heartbeats,
                        "refused": dict(rest.refused)})

        def do_POST(self) -> None:  # noqa: N802
            if self.path == "/limits":
                rest.enforce_limits()
            self._json({"ok": True})

    control = ThreadingHTTPServer(("127.0.0.1", 0), Control)
    threading.Thread(target=control.serve_forever, daemon=True).start()
    Path(state_file).write_text(json.dumps({
        "api_base": f"http://{bind}:{rest.server.port}/api/v10", "gateway_url": gateway.url,
        "control": f"http://127.0.0.1:{control.server_address[1]}", "token": rest.token,
        "guild_id": GUILD_ID}))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    control.shutdown()
    gateway.stop()
    rest.stop()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
