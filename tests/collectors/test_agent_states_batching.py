"""A 10,000-agent snapshot with 10% changed is diffed and written in a bounded number of queries.

How long it takes is measured in bench/ (the agent_states benchmark), not asserted here: a
wall-clock limit fails under load on a shared machine and proves nothing when it passes.
"""

from __future__ import annotations

from datetime import timedelta as td

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from collectors.agent_states import apply_snapshot
from collectors.models import AgentStateEvent
from integrations.vendors.records import AgentStateRecord, StateSnapshot
from tests.collectors.enginekit import T0

pytestmark = pytest.mark.django_db
AGENTS = 10_000
# 32 today on SQLite and PostgreSQL (batched reads and writes); a query per changed agent is 1,000+.
QUERY_BUDGET = 40


def snapshot(at, changed_every=0):
    return StateSnapshot(
        observed_at=at,
        agents=[
            AgentStateRecord(
                f"agent-{i}", "busy" if changed_every and i % changed_every == 0 else "available"
            )
            for i in range(AGENTS)
        ],
    )


def test_ten_thousand_agents_with_ten_percent_changed_are_written_in_a_few_batched_queries(eight):
    apply_snapshot(eight, snapshot(T0), interval_seconds=30)
    changed = snapshot(T0 + td(seconds=30), changed_every=10)
    with CaptureQueriesContext(connection) as queries:
        result = apply_snapshot(eight, changed, interval_seconds=30)
    assert (result.events_created, result.events_closed) == (1000, 1000)
    assert AgentStateEvent.objects.count() == AGENTS + 1000
    assert len(queries) <= QUERY_BUDGET, [q["sql"][:120] for q in queries]
