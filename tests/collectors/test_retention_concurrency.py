"""Two pruners at once on PostgreSQL: every row deleted once, no error, no deadlock."""

from __future__ import annotations

import threading
from datetime import timedelta as td

import pytest
from django.db import connection as db
from django.db import connections

from collectors.models import AgentStateEvent, CollectionRun, CollectionSchedule
from collectors.retention import prune
from tests.collectors.test_retention import NOW, make_events

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if db.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (concurrent sessions); set DATABASE_URL")


def test_two_pruners_at_once_delete_each_row_once(conn_a, tenant_a):
    tenant_a.data_retention_days = 30
    tenant_a.save()
    CollectionSchedule.objects.filter(connection=conn_a, stream="agent_states").update(interval_seconds=10)
    CollectionRun.objects.bulk_create(
        CollectionRun(
            connection=conn_a,
            stream="agent_states",
            status="ok",
            started_at=NOW - td(days=5, seconds=i),
            finished_at=NOW - td(days=5, seconds=i),
        )
        for i in range(300)
    )
    CollectionRun.objects.create(
        connection=conn_a, stream="agent_states", status="ok", started_at=NOW, finished_at=NOW
    )
    make_events(conn_a, [100 + i for i in range(60)])
    barrier = threading.Barrier(2)
    results: list[list] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(prune(NOW, batch_size=7))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    deleted = {
        name: sum(o.deleted for r in results for o in r if o.policy == name)
        for name in ("runs", "agent_state_events")
    }
    assert deleted == {"runs": 300, "agent_state_events": 60}
    assert CollectionRun.objects.count() == 1 and not AgentStateEvent.objects.exists()
