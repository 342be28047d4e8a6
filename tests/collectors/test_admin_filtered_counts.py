"""A manager's changelist filtered to a rare value counts its matches from an index on the
connection and that value, not by reading every row of the tenant (PostgreSQL plans)."""

from __future__ import annotations

from datetime import timedelta as td

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from collectors.models import Agent, AgentStateEvent, CollectionRun
from tests.collectors.healthkit import T0

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="EXPLAIN plans are PostgreSQL's"),
]
STATES = ("available", "busy", "wrap_up", "break", "offered", "work_offline", "logged_out", "other")


def count_plan(client, user, url: str) -> str:
    """The plan of the changelist's capped count."""
    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    (sql,) = [q["sql"] for q in ctx.captured_queries if q["sql"].upper().startswith("SELECT COUNT(")]
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
        # The test tables are small enough to read whole; the plan is the one a big table gets.
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cur.fetchall())


def test_a_managers_events_in_one_state_are_counted_from_the_connection_state_index(
    client, manager_a, conn_a, conn_b
):
    for conn in (conn_a, conn_b):
        agent = Agent.objects.create(connection=conn, vendor_id="a", name="a", first_seen=T0, last_seen=T0)
        AgentStateEvent.objects.bulk_create(
            AgentStateEvent(
                connection=conn,
                agent=agent,
                state=STATES[i % len(STATES)],
                start=T0 - td(minutes=i + 1),
                end=T0 - td(minutes=i),
            )
            for i in range(800)
        )
    url = reverse("admin:collectors_agentstateevent_changelist") + "?state__exact=break"
    plan = count_plan(client, manager_a, url)
    assert "state_event_conn_state" in plan, plan


def test_a_managers_failed_runs_are_counted_from_the_failures_of_its_connections(
    client, manager_a, conn_a, conn_b
):
    for conn in (conn_a, conn_b):
        CollectionRun.objects.bulk_create(
            CollectionRun(
                connection=conn,
                stream="agent_states",
                status=CollectionRun.FAILED if i % 50 == 0 else CollectionRun.OK,
                started_at=T0 - td(seconds=10 * i),
                finished_at=T0 - td(seconds=10 * i - 1),
            )
            for i in range(2000)
        )
    url = reverse("admin:collectors_collectionrun_changelist") + "?status__exact=failed"
    plan = count_plan(client, manager_a, url)
    assert "run_conn_not_ok" in plan, plan
