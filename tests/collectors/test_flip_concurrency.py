"""Two evaluators racing on the same schedules write each flip once (PostgreSQL, real threads)."""

from __future__ import annotations

import threading
from datetime import timedelta as td

import pytest
from django.db import connection, connections

from collectors import health
from collectors.models import CollectionSchedule, HealthFlip
from tests.collectors.healthkit import T0, backdate, make_schedule, record
from tests.conftest import make_connection

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL): SQLite serialises writers, so nothing races")


def in_threads(*targets):
    errors: list[BaseException] = []

    def wrap(fn):
        def run():
            try:
                fn()
            except BaseException as exc:  # re-raised in the test thread
                errors.append(exc)
            finally:
                connections.close_all()

        return run

    threads = [threading.Thread(target=wrap(t)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors


def test_two_evaluators_that_read_the_same_row_write_one_flip(conn_a):
    sched = make_schedule(conn_a, "agent_states")
    record(sched, "ok", T0)
    barrier = threading.Barrier(2)
    results = []

    def evaluator(offset):
        def go():
            mine = health.annotated().get(pk=sched.pk)
            barrier.wait()  # both have read "new" before either writes
            results.append(health.apply(mine, health.evaluate(mine, T0 + offset), T0 + offset))

        return go

    in_threads(evaluator(td(seconds=1)), evaluator(td(seconds=2)))
    assert sorted(r is None for r in results) == [False, True]
    assert HealthFlip.objects.filter(connection=conn_a, stream="agent_states").count() == 1


def test_concurrent_full_passes_write_each_transition_once(tenant_a):
    conns = [make_connection(tenant_a, "8x8", f"c{i}") for i in range(10)]
    for conn in conns:
        backdate(conn, T0 - td(days=1))
        record(CollectionSchedule.objects.get(connection=conn, stream="agent_states"), "ok", T0)
    barrier = threading.Barrier(4)

    def evaluator():
        barrier.wait()
        health.evaluate_all(now=T0 + td(seconds=1))

    in_threads(*[evaluator for _ in range(4)])
    # Per connection: agent_states new → ok, volume and config never ran and are overdue → late.
    flips = list(HealthFlip.objects.values_list("connection_id", "stream", "new_status"))
    assert len(flips) == len(set(flips)) == 30
    assert health.evaluate_all(now=T0 + td(seconds=2)) == 0
