"""Sentry (optional, secrets scrubbed), JSON logs (optional) and Celery task events (for Flower)."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
import traceback
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sentry_sdk
import sentry_sdk.transport

from wfm_site.celery import app
from wfm_site.observability import init_sentry, scrub_event

ROOT = Path(__file__).resolve().parents[2]
VENDOR_TOKEN = "vendor-token-0123456789abcdef"
# A credential held in a local variable; made at run time, so no source line shows it.
HELD = "".join(reversed(VENDOR_TOKEN))


class FakeSentry(ThreadingHTTPServer):
    """A Sentry ingest endpoint on 127.0.0.1 that keeps every envelope it receives."""

    def __init__(self) -> None:
        self.envelopes: list[str] = []
        self.errors: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            # Keep-alive, as Sentry's ingest speaks: the SDK may reuse its connection.
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                try:
                    self._keep()
                except Exception as exc:  # say why in the test's failure, not as a reset connection
                    server.errors.append(repr(exc))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def _read(self) -> bytes:
                if self.headers.get("Content-Length") is not None:
                    return self.rfile.read(int(self.headers["Content-Length"]))
                chunks = []
                while size := int(self.rfile.readline().strip() or b"0", 16):
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                self.rfile.readline()
                return b"".join(chunks)

            def _keep(self) -> None:
                body = self._read()
                encoding = self.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                elif encoding == "br":
                    import brotli  # only when the SDK chose it

                    body = brotli.decompress(body)
                server.envelopes.append(body.decode())

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    def __enter__(self) -> FakeSentry:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


@pytest.fixture
def sentry_off():
    yield
    sentry_sdk.get_client().close()
    # Back to the SDK's state before any init: nothing is sent by the tests that follow.
    sentry_sdk.get_global_scope().set_client(None)


def test_sentry_stays_off_without_a_dsn(settings, sentry_off):
    settings.SENTRY_DSN = ""
    assert init_sentry() is False
    assert not sentry_sdk.get_client().is_active()


def test_an_error_reaches_sentry_with_the_installations_secrets_and_credentials_scrubbed(
    settings, sentry_off, monkeypatch
):
    failures = []
    keep = sentry_sdk.transport.HttpTransport._handle_request_error

    def say_why(transport, *args, **kwargs):  # a failed send names its exception in the assertion
        failures.append(traceback.format_exc()[-2000:])
        return keep(transport, *args, **kwargs)

    monkeypatch.setattr(sentry_sdk.transport.HttpTransport, "_handle_request_error", say_why)
    with FakeSentry() as fake:
        settings.SENTRY_DSN = f"http://publickey@127.0.0.1:{fake.server_address[1]}/1"
        assert init_sentry() is True
        secret_key = settings.SECRET_KEY
        try:
            fail_holding_a_credential(HELD)
        except RuntimeError:
            sentry_sdk.capture_exception()
        sentry_sdk.flush(timeout=10)
    body = "\n".join(fake.envelopes)
    assert (fake.errors, failures) == ([], [])
    assert "vendor refused token=[redacted]" in body, body
    assert VENDOR_TOKEN not in body and secret_key not in body
    assert all(key not in body for key in settings.FIELD_ENCRYPTION_KEYS)
    event = next(json.loads(line) for line in body.splitlines() if '"exception"' in line)
    integrations = set(event["sdk"]["integrations"])
    assert {"django", "celery"} <= integrations
    # A local variable's value reaches no event, under whatever name it was held.
    assert HELD not in body
    assert sentry_sdk.get_client().options["data_collection"]["user_info"] is False


def fail_holding_a_credential(credential: str) -> None:
    held = [credential]
    raise RuntimeError(
        f"vendor refused token={VENDOR_TOKEN}; signing with {os.environ['SECRET_KEY']} ({len(held)})"
    )


def test_scrubbing_reaches_every_part_of_an_event(settings):
    event = {
        "message": f"key {settings.SECRET_KEY}",
        "breadcrumbs": {"values": [{"message": "Authorization: Bearer abcdefghijklmnop"}]},
        "extra": {"vars": [("password", "password=hunter22"), 3]},
    }
    scrubbed = json.dumps(scrub_event(event))
    assert settings.SECRET_KEY not in scrubbed and "abcdefghijklmnop" not in scrubbed
    assert "hunter22" not in scrubbed
    assert "3" in scrubbed  # what is no text stays as it was


PROBE = "import logging; logging.getLogger('probe').warning('hello')"


def log_line(**env: str) -> str:
    done = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "import logging; logging.getLogger('probe').warning('hello')",
        ],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "true", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return [line for line in done.stderr.splitlines() if "hello" in line][-1]


def test_log_format_json_writes_one_json_object_per_line():
    record = json.loads(log_line(LOG_FORMAT="json"))
    assert record["message"] == "hello"
    assert record["level"] == "WARNING" and record["logger"] == "probe"
    assert record["time"]


def test_the_default_log_format_is_plain_text():
    line = log_line()
    assert line.endswith("WARNING probe hello")
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


def test_workers_send_no_task_events_unless_asked_and_the_dispatcher_never_sends_sent_events():
    # Each event is a Redis publish from the worker's main process (CELERY_TASK_EVENTS=true for Flower).
    assert app.conf.worker_send_task_events is False
    # A "task-sent" event is one more publish per dispatched run.
    assert app.conf.task_send_sent_event is False
