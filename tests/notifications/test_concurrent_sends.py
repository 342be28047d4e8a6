"""Workers sending at the same moment never send one delivery twice (PostgreSQL)."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection, connections

from notifications import events
from notifications.models import STREAM_DOWN, Delivery
from notifications.webhooks import send_due
from tests.notifications.conftest import make_endpoint

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://… (SQLite serialises every writer)")


def test_four_workers_send_each_delivery_exactly_once(hooks, tenant_a, conn_a):
    for name in ("one", "two"):
        make_endpoint(tenant_a, hooks.url(f"/{name}"), name=name)
    data = {"stream": "volume", "old_status": "ok", "new_status": "late", "reason": "late"}
    for i in range(30):
        events.publish(tenant_a, STREAM_DOWN, data, conn_a, key=f"flip:{i}")
    assert Delivery.objects.count() == 60
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            for _ in range(3):
                send_due()
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    seen = Counter((r.path, r.headers["X-Switchboard-Delivery"]) for r in hooks.received)
    assert len(seen) == 60 and set(seen.values()) == {1}
    assert Delivery.objects.filter(sent_at__isnull=False, failed=False, attempts=1).count() == 60
