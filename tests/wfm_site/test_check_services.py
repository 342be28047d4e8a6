"""`check_services` (run by `make test` under CI) answers stopped services in one line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_services(database_url: str, broker_url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DEBUG": "true", "DATABASE_URL": database_url, "CELERY_BROKER_URL": broker_url}
    return subprocess.run(
        [sys.executable, "manage.py", "check_services"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_stopped_postgresql_and_redis_get_one_clear_line_and_a_failing_status():
    pg, redis = unused_port(), unused_port()
    done = check_services(f"postgres://postgres@127.0.0.1:{pg}/switchboard", f"redis://127.0.0.1:{redis}")
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and "Warning" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("CommandError: unreachable: database (postgresql): OperationalError:")
    assert f"port {pg} failed" in line
    assert f"broker (redis): OperationalError: Error 111 connecting to 127.0.0.1:{redis}" in line


def test_a_stopped_postgresql_alone_is_named_alone(tmp_path):
    pg = unused_port()
    done = check_services(f"postgres://postgres@127.0.0.1:{pg}/switchboard", "filesystem://")
    assert done.returncode != 0
    [line] = done.stderr.strip().splitlines()
    assert "database (postgresql)" in line and "broker" not in line
