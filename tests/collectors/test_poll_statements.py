"""A steady-state agent-state poll, run by the Celery task: how many statements it costs.

Counted, not timed: the number is deterministic. The steady state is a connection whose
agents and states the database already holds, polled by a worker that ran it before.
"""

from __future__ import annotations

from datetime import timedelta as td
from unittest import mock

import pytest
import time_machine
from django.db import connection as db
from django.test.utils import CaptureQueriesContext

from collectors.agent_states import Poll
from collectors.dispatch import dispatch_due
from collectors.models import AgentCurrentState, CollectionRun, CollectionSchedule
from collectors.tasks import collect
from integrations.vendors.base import Vendor
from integrations.vendors.records import AgentStateRecord, StateSnapshot
from tests.collectors.enginekit import T0

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake")]
AGENTS = [AgentStateRecord(f"a{i}", "available", raw_code="AVAIL") for i in range(12)]


def reads_connection(statements: list[str]) -> bool:
    """Whether a statement loaded the connection itself (the lease's stamp sub-select does not)."""
    return any(s.startswith("SELECT") and 'FROM "integrations_vendorconnection"' in s for s in statements)


# BEGIN/COMMIT and savepoints are the transaction's bookkeeping, not statements.
BOOKKEEPING = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK")


def poll(eight, fake, now, agents=AGENTS):
    """Dispatch the connection's poll at `now` and run its task as a worker would."""
    fake.snapshot = StateSnapshot(observed_at=now, agents=agents)
    CollectionSchedule.objects.filter(connection=eight).update(next_run_at=now + td(days=1))
    CollectionSchedule.objects.filter(connection=eight, stream="agent_states").update(next_run_at=now)
    claims = []
    dispatch_due(now, enqueue=claims.append)
    (claim,) = claims
    with time_machine.travel(now, tick=False), CaptureQueriesContext(db) as queries:
        status = collect.run(
            claim.schedule_id,
            claim.window_start.isoformat(),
            claim.window_end.isoformat(),
            lease_id=claim.lease_id,
        )
    assert status == "ok"
    return [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(BOOKKEEPING)]


def test_a_steady_state_poll_costs_four_statements(eight, fake):
    for i in range(2):
        poll(eight, fake, T0 + td(seconds=30 * i))
    # Nothing changed: the poll never takes the transactional path that writes changes.
    with mock.patch.object(Poll, "apply", side_effect=AssertionError("written in a transaction")):
        statements = poll(eight, fake, T0 + td(seconds=60))
    # The lease and the schedule (one UPDATE … RETURNING); the snapshot's diff (one read of
    # the last poll, agents and current states); the cursor's move with the run row (one
    # statement on PostgreSQL, two elsewhere); the outcome.
    folded = db.vendor == "postgresql"
    assert len(statements) == (4 if folded else 5), "\n".join(statements)
    assert statements[0].startswith('UPDATE "collectors_collectionschedule" SET lease_until')
    if folded:
        assert statements[2].startswith('WITH changed AS (UPDATE "collectors_cursor"')
    assert sum('INSERT INTO "collectors_collectionrun"' in s for s in statements) == 1
    assert not reads_connection(statements)
    assert CollectionRun.objects.filter(connection=eight, status="ok").count() == 3


def test_a_connection_saved_between_polls_is_read_again_with_its_new_credentials(eight, fake):
    given = []
    adapter = Vendor.adapter
    with mock.patch.object(Vendor, "adapter", classmethod(lambda cls, s: given.append(s) or adapter(s))):
        poll(eight, fake, T0)
        eight.state_map = {"AVAIL": "break"}
        eight.set_values("realtime", {"tenant": "acme", "token": "rotated-token-0123456789"})
        eight.save()
        statements = poll(eight, fake, T0 + td(seconds=30))
        assert reads_connection(statements)
        assert given[-1].realtime.values["token"] == "rotated-token-0123456789"
        # The new state map took effect: every agent moved from available to break.
        states = AgentCurrentState.objects.filter(connection=eight).values_list("state", flat=True)
        assert set(states) == {"break"}
        # The poll after it is steady again: the connection is not read.
        again = poll(eight, fake, T0 + td(seconds=60))
        assert not reads_connection(again)
        assert given[-1].realtime.values["token"] == "rotated-token-0123456789"


def test_a_poll_whose_lease_was_taken_over_does_nothing(eight, fake):
    poll(eight, fake, T0)
    now = T0 + td(seconds=30)
    CollectionSchedule.objects.filter(connection=eight, stream="agent_states").update(next_run_at=now)
    claims = []
    dispatch_due(now, enqueue=claims.append)
    claim = next(c for c in claims if c.stream == "agent_states")
    CollectionSchedule.objects.filter(pk=claim.schedule_id).update(lease_id="someone-else")
    with time_machine.travel(now, tick=False):
        status = collect.run(
            claim.schedule_id,
            claim.window_start.isoformat(),
            claim.window_end.isoformat(),
            lease_id=claim.lease_id,
        )
    assert "no longer held" in status
    assert CollectionRun.objects.filter(connection=eight, stream="agent_states").count() == 1
