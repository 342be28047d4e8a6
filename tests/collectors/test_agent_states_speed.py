"""A 10,000-agent snapshot with 10% changed is diffed and written in under a second."""

from __future__ import annotations

import time
from datetime import timedelta as td

import pytest

from collectors.agent_states import apply_snapshot
from collectors.models import AgentStateEvent
from integrations.vendors.records import AgentStateRecord, StateSnapshot
from tests.collectors.enginekit import T0

pytestmark = pytest.mark.django_db
AGENTS = 10_000


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


def test_ten_thousand_agents_with_ten_percent_changed_take_under_a_second(eight):
    apply_snapshot(eight, snapshot(T0), interval_seconds=30)
    changed = snapshot(T0 + td(seconds=30), changed_every=10)
    started = time.perf_counter()
    result = apply_snapshot(eight, changed, interval_seconds=30)
    elapsed = time.perf_counter() - started
    assert (result.events_created, result.events_closed) == (1000, 1000)
    assert AgentStateEvent.objects.count() == AGENTS + 1000
    print(f"10k-agent poll: {elapsed:.3f} s")
    assert elapsed < 1.0, f"took {elapsed:.2f} s"
