"""One HTTP server for every simulated platform, with a control endpoint for faults.

The platforms are those of the vendor registry whose declaration names a simulation
(`integrations.sandbox.vendors`), each under its own path prefix (`/8x8/`, `/nextiva/`,
`/thrio/`, `/tcn/`); `/_control/faults` switches faults.
Use `SandboxServer(...).start()` / `.stop()` in tests (port 0 picks a free port, `.port` tells
which), `serve_forever()` in the foreground (`manage.py sandbox`).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from datetime import timedelta as td
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from django.utils import timezone

from integrations.sandbox.drop import DropWriter
from integrations.sandbox.faults import FaultBoard, FaultError
from integrations.sandbox.traffic import DEFAULT_SEED, DEFAULT_ZONE, Traffic
from integrations.sandbox.vendors import Platform, sandbox_vendors
from integrations.sandbox.web import Request, Response, json_response, not_found

log = logging.getLogger(__name__)

MAX_BODY = 1 << 20

_ERROR_PAGE = (
    b"<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head>"
    b"<body><h1>Internal Server Error</h1><p>The server encountered an internal error.</p></body></html>"
)
_MALFORMED_PAGE = b"<html><body><h1>Service Unavailable</h1><p>Please try again later.</p></body></html>"


class SandboxServer:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 8765,
        *,
        seed: str | int = DEFAULT_SEED,
        zone: str = DEFAULT_ZONE,
        credentials: Mapping[str, Mapping[str, str]] | None = None,
        clock: Callable[[], datetime] | None = None,
        token_lifetime: td = td(hours=1),
        drop_folders: Iterable[Path | str] = (),
        faults: FaultBoard | None = None,
    ) -> None:
        given = credentials or {}
        self.clock = clock or timezone.now
        self.traffic = Traffic(seed, zone)
        self.faults = faults or FaultBoard()
        self.specs = sandbox_vendors()
        # Where a connection's base URL points, below the server's root, per vendor.
        self.base_paths = {key: spec.base_path for key, spec in self.specs.items()}
        self.prefixes = {key: spec.prefix for key, spec in self.specs.items()}
        self.vendors: dict[str, Platform] = {
            key: spec.app(
                self.traffic,
                self.faults,
                {**spec.credential_values(), **given.get(key, {})},
                token_lifetime,
            )
            for key, spec in self.specs.items()
        }
        self.drop = DropWriter(drop_folders, self.traffic, self.faults, self.clock)
        self.httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- addresses ------------------------------------------------------------------------
    @property
    def host(self) -> str:
        return str(self.httpd.server_address[0])

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def base_url(self, vendor: str) -> str:
        """The base URL a connection of `vendor` uses, e.g. `http://127.0.0.1:8765/8x8/api/`."""
        return self.root_url + self.base_paths[vendor]

    # -- running --------------------------------------------------------------------------
    def start(self) -> SandboxServer:
        """Serve in a background thread (tests); the drop writer runs if folders were given."""
        if self._thread is None:
            # A short poll interval makes stop() quick (shutdown waits for the loop to look).
            self._thread = threading.Thread(
                target=self.httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="sandbox-http",
                daemon=True,
            )
            self._thread.start()
            if self.drop.folders:
                self.drop.start()
        return self

    def stop(self) -> None:
        self.drop.stop()
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.httpd.server_close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- requests -------------------------------------------------------------------------
    def dispatch(self, request: Request) -> Response:
        if request.path == "/_control/faults":
            return self.control(request)
        for vendor, prefix in self.prefixes.items():
            if request.path.startswith(prefix + "/"):
                request.path = request.path[len(prefix) :]
                return self._vendor(vendor, request)
        return not_found(request.path)

    def _vendor(self, vendor: str, request: Request) -> Response:
        fault = self.faults.get(vendor)
        if fault is not None:
            if fault.fault == "slow":
                time.sleep(fault.delay)  # the fault *is* the wait
            elif fault.fault == "500":
                return Response(500, _ERROR_PAGE, "text/html")
            elif fault.fault == "429":
                response = json_response({"error": "Too Many Requests"}, 429)
                response.headers["Retry-After"] = str(fault.retry_after)
                return response
        response = self.vendors[vendor].handle(request)
        if fault is not None and fault.fault == "malformed" and response.status == 200:
            if response.is_json:
                response.body = response.body[: max(1, len(response.body) // 2)]
            else:
                response = Response(200, _MALFORMED_PAGE, "text/html")
        return response

    def control(self, request: Request) -> Response:
        if request.method == "GET":
            return json_response({"faults": self.faults.snapshot()})
        if request.method != "POST":
            return json_response({"error": "use GET or POST"}, 405)
        try:
            payload = json.loads(request.body or b"null")
        except ValueError:
            return json_response({"error": "body is not JSON"}, 400)
        try:
            self.faults.set_from_json(payload)
        except FaultError as exc:
            return json_response({"error": str(exc)}, 400)
        log.info("sandbox: faults now %s", self.faults.snapshot())
        return json_response({"faults": self.faults.snapshot()})


def _handler_for(server: SandboxServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "SwitchboardSandbox/1.0"

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def do_PUT(self) -> None:
            self._serve()

        def do_DELETE(self) -> None:
            self._serve()

        def _serve(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._send(json_response({"error": "body too large"}, 413))
                return
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            form: dict[str, str] = {}
            if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
                form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            request = Request(
                method=self.command,
                path=url.path,
                query=dict(parse_qsl(url.query, keep_blank_values=True)),
                headers=headers,
                body=body,
                now=server.clock(),
                host=headers.get("host") or f"{server.host}:{server.port}",
                form=form,
            )
            try:
                response = server.dispatch(request)
            except Exception:  # a sandbox bug must still answer, and say so
                log.exception("sandbox: error serving %s %s", self.command, url.path)
                response = Response(500, _ERROR_PAGE, "text/html")
            self._send(response)

        def _send(self, response: Response) -> None:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(response.body)

        def log_message(self, format: str, *args: object) -> None:
            # The request line only: never headers, so no credentials reach the log.
            log.debug("sandbox: " + format, *args)

    return Handler
