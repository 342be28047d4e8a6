"""Fixtures of the read-API tests: two tenants with data, and a key for each of the three users.

`keys` holds the plain keys of manager_a (every scope), manager_b (every scope) and
partner_a (data and health: a partner's key can never hold tokens:read). `seeded` writes
queues, agents, memberships, intervals, state events, runs and a token for one connection
of each tenant, through the collectors' own writers. Each run record's error text quotes
the connection's secret, as a careless vendor error might: no response may carry it.

The change horizon (api.changes.horizon) is switched off here: on PostgreSQL it hides rows
of the test's own open transaction. The tests of the horizon itself (test_sync_concurrency)
turn it back on and commit for real.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from datetime import timedelta as td

import pytest
from django.core.cache import cache

from api.models import DATA_READ, HEALTH_READ, TOKENS_READ, ApiKey
from collectors.agent_states import apply_snapshot
from collectors.config_import import import_config
from collectors.models import CollectionRun
from collectors.writers import upsert_intervals
from integrations.vendors.records import (
    AgentRecord,
    AgentStateRecord,
    ConfigSnapshot,
    IntervalRecord,
    MembershipRecord,
    QueueRecord,
    StateSnapshot,
)
from tokens.models import AccessToken

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
ALL_SCOPES = [DATA_READ, HEALTH_READ, TOKENS_READ]


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def no_horizon(monkeypatch):
    monkeypatch.setattr("api.changes.horizon", lambda: None)


@pytest.fixture
def keys(manager_a, manager_b, partner_a, tenant_a, tenant_b) -> dict[str, str]:
    return {
        "manager_a": ApiKey.create(tenant_a, "wfm", ALL_SCOPES, manager_a)[1],
        "manager_b": ApiKey.create(tenant_b, "wfm", ALL_SCOPES, manager_b)[1],
        "partner_a": ApiKey.create(tenant_a, "partner", [DATA_READ, HEALTH_READ], partner_a)[1],
    }


def bearer(key: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def seed(conn, tag: str) -> None:
    """A little of everything for one connection; names carry `tag` so a stray row shows."""
    import_config(
        conn,
        ConfigSnapshot(
            queues=[QueueRecord(f"q-{tag}", f"Queue {tag}")],
            agents=[AgentRecord(f"a-{tag}", f"Agent {tag}"), AgentRecord(f"b-{tag}", f"Bob {tag}")],
            memberships=[MembershipRecord(f"a-{tag}", f"q-{tag}")],
        ),
        T0,
    )
    upsert_intervals(
        conn,
        [IntervalRecord(f"q-{tag}", T0 - td(minutes=15 * i), 10 + i, 1, 300) for i in range(3)],
        T0 + td(minutes=5),
    )
    for n, state in enumerate(("available", "busy")):
        apply_snapshot(
            conn,
            StateSnapshot(
                observed_at=T0 + td(seconds=30 * n),
                agents=[AgentStateRecord(f"a-{tag}", state), AgentStateRecord(f"b-{tag}", "break")],
                complete=True,
                notes=[],
            ),
            interval_seconds=30,
        )
    secret = conn.secret_values()[0]
    for status, error in ((CollectionRun.OK, ""), (CollectionRun.FAILED, "AuthError")):
        CollectionRun.objects.create(
            connection=conn,
            stream="volume",
            started_at=T0,
            finished_at=T0 + td(seconds=2),
            status=status,
            error_class=error,
            error_message=f"vendor said: bad token {secret}" if error else "",
            payload_sample=f"Authorization: Bearer {secret}",
        )
    AccessToken.objects.create(
        connection=conn, section="realtime", service_login=f"svc-{tag}", issued=date(2026, 1, 10)
    )


@pytest.fixture
def seeded(conn_a, conn_b, no_horizon):
    seed(conn_a, "A")
    seed(conn_b, "B")
    return conn_a, conn_b
