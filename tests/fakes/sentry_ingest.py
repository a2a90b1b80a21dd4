"""A local stand-in for Sentry's ingestion endpoint: receives what the real ``sentry-sdk``
sends and keeps every envelope, raw and parsed.

The SDK posts envelopes to ``{scheme}://{host}/api/{project_id}/envelope/`` (DSN
``http://PUBLIC_KEY@127.0.0.1:PORT/PROJECT_ID``), gzip-compressed unless brotli is installed.
An envelope is newline-separated: a JSON header, then per item a JSON item header (``type``,
optional ``length`` in bytes) and its payload (Sentry developer docs, "Envelopes":
develop.sentry.dev/sdk/data-model/envelopes/; the same grammar in sentry-types' parser,
docs.rs/sentry-types protocol/envelope.rs: header, item header, payload, each ended by a
newline). Sentry answers 200 with ``{}``.
"""

from __future__ import annotations

import gzip
import json
import threading
import zlib
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Envelope:
    path: str
    raw: bytes  # decompressed
    header: dict
    items: list[tuple[dict, bytes]]

    def events(self) -> list[dict]:
        return [json.loads(payload) for header, payload in self.items if header.get("type") == "event"]


def parse(raw: bytes) -> tuple[dict, list[tuple[dict, bytes]]]:
    header_line, _, rest = raw.partition(b"\n")
    items = []
    while rest.strip():
        item_line, _, rest = rest.partition(b"\n")
        item_header = json.loads(item_line)
        if "length" in item_header:
            length = item_header["length"]
            payload, rest = rest[:length], rest[length:]
            rest = rest[1:] if rest.startswith(b"\n") else rest
        else:
            payload, _, rest = rest.partition(b"\n")
        items.append((item_header, payload))
    return json.loads(header_line), items


class SentryIngest:
    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                encoding = (self.headers.get("Content-Encoding") or "").lower()
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                elif encoding:
                    raise AssertionError(f"unexpected Content-Encoding {encoding}")
                header, items = parse(body)
                with sink.lock:
                    sink.envelopes.append(Envelope(self.path, body, header, items))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True, name="sentry-ingest")

    def start(self) -> SentryIngest:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def dsn(self) -> str:
        return f"http://0123456789abcdef0123456789abcdef@127.0.0.1:{self.server.server_address[1]}/42"

    def events(self) -> list[dict]:
        with self.lock:
            return [event for envelope in self.envelopes for event in envelope.events()]

    def raw(self) -> bytes:
        with self.lock:
            return b"\n".join(envelope.raw for envelope in self.envelopes)
