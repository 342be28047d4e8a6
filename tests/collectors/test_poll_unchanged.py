"""A poll that changes nothing but the cursor is told apart without writing, and stored in one
statement with its run row; every other poll is written in a transaction as before.

The fast path must never differ from `apply_snapshot`: a scripted day of snapshots goes through
both, on two connections, and leaves the same events, current states, cursors and notes.
"""

from __future__ import annotations

from datetime import timedelta as td

import pytest
from django.db import transaction

from collectors import backends, rows
from collectors.agent_states import apply_snapshot, read_snapshot
from collectors.models import AgentCurrentState, AgentStateEvent, CollectionRun, Cursor
from integrations.vendors.records import AgentStateRecord as S
from integrations.vendors.records import StateSnapshot
from tests.collectors.enginekit import T0
from tests.collectors.test_poll_statements import poll as task_poll
from tests.conftest import make_connection

pytestmark = pytest.mark.django_db
POLL = td(seconds=30)


def snapshot(at, *agents, complete=True):
    return StateSnapshot(observed_at=at, agents=list(agents), complete=complete)


def unchanged(conn, snap):
    return read_snapshot(conn, snap, interval_seconds=30).unchanged()


def stored(conn):
    events = AgentStateEvent.objects.filter(connection=conn).order_by("agent__vendor_id", "start")
    states = AgentCurrentState.objects.filter(connection=conn).order_by("agent__vendor_id")
    return (
        list(events.values_list("agent__vendor_id", "agent__name", "state", "raw_code", "start", "end")),
        list(states.values_list("agent__vendor_id", "state", "since", "last_seen")),
        list(Cursor.objects.filter(connection=conn).values_list("stream", "position")),
    )


def test_a_poll_like_the_last_is_unchanged(eight):
    apply_snapshot(eight, snapshot(T0, S("a1", "available", agent_name="Ann")), interval_seconds=30)
    result = unchanged(eight, snapshot(T0 + POLL, S("a1", "available", agent_name="Ann")))
    assert result is not None and result.notes == []


@pytest.mark.parametrize(
    "agents",
    [
        pytest.param([S("a1", "busy", agent_name="Ann")], id="a state changed"),
        pytest.param([S("a1", "available", agent_name="Anne")], id="an agent renamed"),
        pytest.param([S("a1", "available"), S("a2", "available")], id="an agent first seen"),
        pytest.param([], id="an agent logged out by absence"),
        pytest.param([S("a1", "available", reason_code="LUNCH")], id="a new reason code"),
    ],
)
def test_a_poll_that_writes_more_than_the_cursor_is_not_unchanged(eight, agents):
    apply_snapshot(eight, snapshot(T0, S("a1", "available", agent_name="Ann")), interval_seconds=30)
    assert unchanged(eight, snapshot(T0 + POLL, *agents)) is None


def test_the_first_poll_a_stale_one_and_one_after_a_gap_are_not_unchanged(eight):
    first = snapshot(T0, S("a1", "available"))
    assert unchanged(eight, first) is None
    apply_snapshot(eight, first, interval_seconds=30)
    assert unchanged(eight, snapshot(T0, S("a1", "available"))) is None
    # After a gap open events end where the agent was last seen: that is a write.
    assert unchanged(eight, snapshot(T0 + 10 * POLL, S("a1", "available"))) is None


def test_an_incomplete_unchanged_poll_keeps_its_note(eight):
    apply_snapshot(eight, snapshot(T0, S("a1", "available"), S("a2", "busy")), interval_seconds=30)
    result = unchanged(eight, snapshot(T0 + POLL, S("a1", "available"), complete=False))
    assert result is not None
    assert result.notes == [
        "snapshot incomplete: 1 agent(s) not listed were kept in their last state, not logged out"
    ]


def test_a_scripted_day_stores_the_same_through_the_fast_path_as_through_apply(eight, tenant_a):
    other = make_connection(tenant_a, "8x8", "eight-twin")
    lunch = [S("a1", "break", agent_name="Anne", reason_code="LUNCH"), S("a3", "available")]
    day = [
        ([S("a1", "available", agent_name="Ann"), S("a2", "busy", raw_code="TALK")], True),
        ([S("a1", "available", agent_name="Ann"), S("a2", "busy", raw_code="TALK")], True),
        ([S("a1", "busy", agent_name="Ann"), S("a2", "busy", raw_code="TALK")], True),
        ([S("a1", "busy", agent_name="Anne"), S("a2", "busy", raw_code="TALK")], True),
        ([S("a1", "busy"), S("a2", "busy", raw_code="TALK"), S("a3", "available")], True),
        ([S("a1", "busy"), S("a3", "available")], True),
        ([S("a1", "busy"), S("a3", "available")], True),  # after a gap
        (lunch, True),
        (lunch, True),
        (lunch[:1], False),  # incomplete: a3 kept as it was
        ([lunch[0], *lunch], True),  # a1 listed twice
        ([S("a1", "break", reason_code="LUNCH"), S("a3", "available")], True),  # no name given
    ]
    at, quiet_polls = T0, 0
    for i, (agents, complete) in enumerate(day):
        at = at + (10 * POLL if i == 6 else POLL)
        snap = snapshot(at, *agents, complete=complete)
        with transaction.atomic():
            expected = apply_snapshot(other, snap, interval_seconds=30)
        fast = read_snapshot(eight, snap, interval_seconds=30)
        quiet = fast.unchanged()
        if quiet is not None:
            quiet_polls += 1
            run = CollectionRun(connection=eight, stream="agent_states", started_at=at, status="ok")
            assert rows.insert_if(run, *backends.agent_state_cursor_move()(eight, fast.observed))
            result = quiet
        else:
            with transaction.atomic():
                result = fast.apply()
        assert (result.events_created, result.events_closed, result.notes) == (
            expected.events_created,
            expected.events_closed,
            expected.notes,
        ), f"snapshot {i}"
        assert stored(eight) == stored(other), f"after snapshot {i}"
    # The unchanged ones: the repeat, lunch again, incomplete, listed twice, nameless.
    assert quiet_polls == 5
    assert CollectionRun.objects.filter(connection=eight).count() == quiet_polls
    assert len(stored(eight)[0]) > len(day) // 2, "the day wrote events"


def test_a_poll_whose_cursor_vanished_is_stored_the_transactional_way(eight, fake):
    for i in range(2):
        task_poll(eight, fake, T0 + POLL * i)
    Cursor.objects.filter(connection=eight, stream="agent_states").delete()
    task_poll(eight, fake, T0 + POLL * 2)
    assert Cursor.objects.get(connection=eight, stream="agent_states").position == T0 + POLL * 2
    # One run row per poll: the fast path wrote nothing when its UPDATE matched no cursor.
    assert CollectionRun.objects.filter(connection=eight, stream="agent_states", status="ok").count() == 3
