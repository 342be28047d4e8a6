"""A real HTTP server on 127.0.0.1 that records what reaches it, for the egress tests."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

INTERNAL_BODY = "INTERNAL-ONLY: db password hunter2, do not show"


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: str
    peer: tuple[str, int] = ("", 0)  # the client's address and port: one per TCP connection


Answer = tuple[int, dict[str, str], str]


@dataclass
class RecordingServer:
    """Answers every request with `answer(path)` (by default 200 and an internal-looking body)."""

    answer: Callable[[str], Answer] = lambda path: (200, {}, INTERNAL_BODY)
    received: list[Received] = field(default_factory=list)
    keep_alive: bool = False  # HTTP/1.1: a connection serves several requests

    def __post_init__(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if self.keep_alive else "HTTP/1.0"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
                server.received.append(
                    Received(self.command, self.path, dict(self.headers), body, self.client_address[:2])
                )
                status, headers, text = server.answer(self.path)
                data = text.encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _handle

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _served() -> Iterator[RecordingServer]:
    server = RecordingServer()
    yield server
    server.stop()


@pytest.fixture
def internal() -> Iterator[RecordingServer]:
    """A service on loopback that must never be reached (unless a test allows it)."""
    yield from _served()


@pytest.fixture
def elsewhere() -> Iterator[RecordingServer]:
    """A second origin, where a redirect would carry the request."""
    yield from _served()
