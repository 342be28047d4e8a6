"""Time limits on a real prefork worker and Redis: a run past its soft limit stops and records
itself timed out; a run that ignores its soft limit is killed at the hard one, and the
worker's parent records it timed out and releases the stream for the next dispatch.

The worker is a separate `celery worker --pool=prefork` process on the test database (so
the test commits its rows: transaction=True) and on a queue of the test's own in the
configured Redis database. The vendor is a local server that accepts and never answers.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import timedelta as td
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection
from django.utils import timezone

from collectors.dispatch import dispatch_due
from collectors.models import CollectionRun, CollectionSchedule
from collectors.tasks import collect
from tests.conftest import make_connection

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.postgres, pytest.mark.redis]


class SilentServer:
    """Accepts TCP connections and never answers: a vendor that hangs mid-request."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def __enter__(self) -> SilentServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


def test_database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip("needs PostgreSQL (DATABASE_URL is not postgres://): the worker is another process")
    if not os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"):
        pytest.skip("needs Redis (CELERY_BROKER_URL is not redis://)")
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + connection.settings_dict["NAME"], parts.query, ""))


test_database_url.__test__ = False  # a helper, not a test


@contextmanager
def prefork_worker(app: str, queue: str, log: Path):
    """A `celery worker --pool=prefork` process on the test database, consuming `queue`."""
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "DJANGO_SETTINGS_MODULE": "wfm_site.settings",
        "PYTHONPATH": str(ROOT),
        # The hanging vendor listens on loopback, which the egress policy refuses unless allowed.
        "VENDOR_EGRESS_ALLOW": "127.0.0.1/32",
    }
    command = [sys.executable, "-m", "celery", "-A", app, "worker", "--pool=prefork", "--concurrency=1"]
    command += ["-Q", queue, "-n", f"{queue}@%h", "--loglevel=INFO"]
    command += ["--without-mingle", "--without-gossip", "--without-heartbeat"]
    with log.open("wb") as out:
        worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield worker
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        forget_queue(queue)


def forget_queue(queue: str) -> None:
    """Delete the test queue's keys (its messages, kombu's bindings, the worker's mailbox)."""
    import redis

    client = redis.Redis.from_url(os.environ["CELERY_BROKER_URL"])
    own = list(client.scan_iter(match=f"*{queue}*"))
    if own:
        client.delete(*own)


def hanging_connection(tenant, port: int) -> CollectionSchedule:
    """An 8x8 connection on the silent server whose agent-state poll alone is due now."""
    conn = make_connection(tenant, "8x8", "hangs")
    conn.realtime_base_url = f"http://127.0.0.1:{port}/8x8/api/"
    conn.save()
    schedules = CollectionSchedule.objects.filter(connection=conn)
    now = timezone.now()
    schedules.update(next_run_at=now + td(days=1))
    schedules.filter(stream="agent_states").update(next_run_at=now - td(seconds=1))
    return schedules.get(stream="agent_states")


def dispatch_to(queue: str) -> str:
    """Dispatch what is due, as beat does, but onto `queue`; return the claim's lease."""

    def publish(claim) -> None:
        collect.apply_async(
            args=(claim.schedule_id, claim.window_start.isoformat(), claim.window_end.isoformat()),
            kwargs={"lease_id": claim.lease_id},
            **{**claim.options(), "queue": queue},
        )

    assert dispatch_due(enqueue=publish) == 1
    return CollectionSchedule.objects.get(stream="agent_states", lease_id__gt="").lease_id


def timed_out(schedule: CollectionSchedule):
    return lambda: CollectionRun.objects.filter(
        connection_id=schedule.connection_id, status=CollectionRun.TIMED_OUT
    ).first()


def wait_for(condition, seconds: float, what: str, log: Path):
    """Poll until `condition()` is truthy; fail with the worker's log after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"{what} within {seconds:.0f} s; worker log:\n{log.read_text()[-4000:]}")


def overrun(tenant, settings, tmp_path: Path, app: str, soft: int, hard: int):
    """Dispatch a poll of a hanging vendor to a prefork worker of `app` under these limits;
    return its schedule, the run once recorded timed out, and the worker's log."""
    settings.COLLECT_AGENT_STATES_SOFT_TIME_LIMIT = soft
    settings.COLLECT_AGENT_STATES_TIME_LIMIT = hard
    queue, log = f"test-time-limit-{uuid.uuid4().hex[:12]}", tmp_path / "worker.log"
    with SilentServer() as vendor:
        states = hanging_connection(tenant, vendor.port)
        with prefork_worker(app, queue, log):
            assert dispatch_to(queue)
            run = wait_for(timed_out(states), 90, "no run recorded as timed out", log)
    states.refresh_from_db()
    return states, run, log.read_text()


@pytest.mark.django_db(transaction=True)
def test_a_run_that_ignores_its_soft_limit_is_killed_recorded_as_timed_out_and_its_stream_released(
    tenant_a, settings, tmp_path
):
    states, run, log = overrun(
        tenant_a, settings, tmp_path, "tests.collectors.stubborn_worker", soft=1, hard=2
    )
    assert "Hard time limit (2s) exceeded" in log
    assert run.stream == "agent_states" and run.error_class == "TimeLimitExceeded"
    assert "hard time limit (2 s)" in run.error_message
    assert run.finished_at is not None and run.task_id.startswith(f"collect:{states.pk}:")
    # One run only: the child's row was updated, not doubled by the parent.
    assert CollectionRun.objects.filter(connection_id=states.connection_id).count() == 1
    assert (states.lease_id, states.lease_until) == ("", None)
    assert states.consecutive_failures == 1
    assert states.last_error.startswith("TimeLimitExceeded")
    # The stream is free: the next dispatch claims it again at once.
    assert dispatch_due(states.next_run_at, enqueue=lambda claim: None) == 1


@pytest.mark.django_db(transaction=True)
def test_a_run_past_its_soft_limit_stops_and_records_itself_timed_out(tenant_a, settings, tmp_path):
    states, run, log = overrun(tenant_a, settings, tmp_path, "wfm_site", soft=1, hard=20)
    assert "Hard time limit" not in log
    assert run.error_class == "TimeoutError" and "soft time limit" in run.error_message
    assert (states.lease_id, states.lease_until) == ("", None)
    assert states.consecutive_failures == 1
