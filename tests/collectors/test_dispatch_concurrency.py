"""Two dispatchers at once on PostgreSQL claim disjoint work (SELECT … FOR UPDATE SKIP LOCKED)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta as td
from unittest import mock

import pytest
from django.db import connection as db
from django.db import connections

from collectors import dispatch
from collectors.models import CollectionSchedule
from tests.collectors.enginekit import T0
from tests.conftest import make_connection

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
NOW = T0 + td(seconds=3)


@pytest.fixture(autouse=True)
def _postgres_only():
    if db.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (SKIP LOCKED); set DATABASE_URL")


def make_due(tenant, n):
    for i in range(n):
        make_connection(tenant, "8x8", f"c{i}")
    CollectionSchedule.objects.update(next_run_at=NOW - td(seconds=1), lease_until=None, lease_id="")
    return CollectionSchedule.objects.exclude(stream="file_drop").count()


def in_thread(target, name=None):
    errors = []

    def run():
        try:
            target()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, name=name)
    thread.start()
    return thread, errors


def test_a_dispatcher_skips_rows_another_holds_and_neither_enqueues_a_window_twice(tenant_a):
    total = make_due(tenant_a, 10)  # 30 due rows
    a_claimed, b_claimed = [], []
    a_holds_locks, b_done = threading.Event(), threading.Event()
    original = dispatch.next_run_after

    def next_run_holding(now, stream, interval, schedule_id, *within):
        # Called inside A's claiming transaction: let B run its whole tick while A holds its rows.
        if threading.current_thread().name == "A" and not a_holds_locks.is_set():
            a_holds_locks.set()
            assert b_done.wait(30), "dispatcher B did not finish"
        return original(now, stream, interval, schedule_id, *within)

    with mock.patch.object(dispatch, "next_run_after", next_run_holding):
        thread_a, errors_a = in_thread(
            lambda: dispatch.dispatch_due(NOW, batch_size=12, enqueue=a_claimed.append), name="A"
        )
        assert a_holds_locks.wait(30)

        def run_b():
            try:
                dispatch.dispatch_due(NOW, batch_size=12, enqueue=b_claimed.append)
            finally:
                b_done.set()

        thread_b, errors_b = in_thread(run_b)
        thread_b.join(30)
        thread_a.join(30)
    assert not errors_a and not errors_b, errors_a + errors_b
    a_ids = {c.schedule_id for c in a_claimed}
    b_ids = {c.schedule_id for c in b_claimed}
    assert a_ids and b_ids
    assert not a_ids & b_ids
    # B took everything A did not hold; A finished its first batch and then found the rest taken.
    assert len(a_ids | b_ids) == total
    task_ids = Counter(c.task_id for c in a_claimed + b_claimed)
    assert max(task_ids.values()) == 1


def test_many_dispatchers_racing_enqueue_every_due_row_exactly_once(tenant_a):
    total = make_due(tenant_a, 40)  # 120 due rows
    claimed: list = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def enqueue(claim):
        with lock:
            claimed.append(claim)

    def tick():
        start.wait(30)
        dispatch.dispatch_due(NOW, batch_size=7, enqueue=enqueue)

    threads = [in_thread(tick) for _ in range(4)]
    for thread, _errors in threads:
        thread.join(60)
    assert not [e for _t, errors in threads for e in errors]
    counts = Counter(c.schedule_id for c in claimed)
    assert len(counts) == total
    assert max(counts.values()) == 1
