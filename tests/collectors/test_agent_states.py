"""Agent state snapshots become transactions: only changes write events."""

from __future__ import annotations

from datetime import timedelta as td

import pytest

from collectors.agent_states import apply_snapshot
from collectors.models import Agent, AgentCurrentState, AgentStateEvent, Cursor
from integrations.vendors.errors import DataError
from integrations.vendors.records import AgentStateRecord as S
from integrations.vendors.records import StateSnapshot
from tests.collectors.enginekit import T0

pytestmark = pytest.mark.django_db
POLL = td(seconds=30)


def poll(conn, at, *agents, complete=True, notes=()):
    return apply_snapshot(
        conn,
        StateSnapshot(observed_at=at, agents=list(agents), complete=complete, notes=list(notes)),
        interval_seconds=30,
    )


def events(conn, vendor_id):
    return list(
        AgentStateEvent.objects.filter(connection=conn, agent__vendor_id=vendor_id)
        .order_by("start")
        .values_list("state", "start", "end")
    )


def current(conn, vendor_id):
    return AgentCurrentState.objects.get(agent__vendor_id=vendor_id, connection=conn)


def test_the_first_snapshot_creates_agents_and_opens_their_events(eight):
    result = poll(eight, T0, S("a1", "available", agent_name="Ann"), S("a2", "busy", raw_code="TALK"))
    assert (result.events_created, result.events_closed, result.agents_created) == (2, 0, 2)
    assert Agent.objects.get(vendor_id="a1").name == "Ann"
    assert events(eight, "a1") == [("available", T0, None)]
    assert current(eight, "a2").raw_code == "TALK"


def test_an_unchanged_snapshot_writes_no_event(eight):
    poll(eight, T0, S("a1", "available"))
    result = poll(eight, T0 + POLL, S("a1", "available"))
    assert (result.events_created, result.events_closed) == (0, 0)
    assert AgentStateEvent.objects.count() == 1
    assert Cursor.objects.get(connection=eight, stream="agent_states").position == T0 + POLL


def test_a_change_closes_the_previous_event_and_opens_a_new_one(eight):
    poll(eight, T0, S("a1", "available"))
    result = poll(eight, T0 + POLL, S("a1", "busy"))
    assert (result.events_created, result.events_closed) == (1, 1)
    assert events(eight, "a1") == [("available", T0, T0 + POLL), ("busy", T0 + POLL, None)]
    assert (current(eight, "a1").state, current(eight, "a1").since) == ("busy", T0 + POLL)


def test_the_vendors_own_since_dates_the_change_when_it_falls_after_the_last_poll(eight):
    poll(eight, T0, S("a1", "available"))
    poll(eight, T0 + POLL, S("a1", "busy", since=T0 + td(seconds=12)))
    assert events(eight, "a1") == [
        ("available", T0, T0 + td(seconds=12)),
        ("busy", T0 + td(seconds=12), None),
    ]


def test_a_new_reason_code_is_a_change(eight):
    poll(eight, T0, S("a1", "break", reason_code="lunch"))
    poll(eight, T0 + POLL, S("a1", "break", reason_code="training"))
    assert len(events(eight, "a1")) == 2


def test_an_agent_missing_from_a_complete_snapshot_is_logged_out_once(eight):
    poll(eight, T0, S("a1", "available"), S("a2", "busy"))
    poll(eight, T0 + POLL, S("a1", "available"))
    poll(eight, T0 + 2 * POLL, S("a1", "available"))
    assert events(eight, "a2") == [("busy", T0, T0 + POLL), ("logged_out", T0 + POLL, None)]
    poll(eight, T0 + 3 * POLL, S("a1", "available"), S("a2", "available"))
    assert events(eight, "a2")[-2:] == [
        ("logged_out", T0 + POLL, T0 + 3 * POLL),
        ("available", T0 + 3 * POLL, None),
    ]


def test_an_incomplete_snapshot_does_not_log_out_agents_it_does_not_list(eight):
    poll(eight, T0, S("a1", "available"), S("a2", "busy"))
    result = poll(
        eight, T0 + POLL, S("a1", "available"), complete=False, notes=["on call: 3 agents, count only"]
    )
    assert events(eight, "a2") == [("busy", T0, None)]
    assert "on call: 3 agents, count only" in result.notes
    assert any("1 agent(s) not listed were kept in their last state" in n for n in result.notes)


def test_after_a_gap_of_more_than_three_intervals_open_events_close_where_last_seen(eight):
    poll(eight, T0, S("a1", "available"), S("a2", "busy"), S("a3", "available"))
    back = T0 + td(minutes=10)  # twenty missed polls
    result = poll(eight, back, S("a1", "busy"), S("a2", "busy"))
    assert events(eight, "a1") == [("available", T0, T0), ("busy", back, None)]
    # Unchanged, but nobody knows what a2 did in between: the event ends where last seen.
    assert events(eight, "a2") == [("busy", T0, T0), ("busy", back, None)]
    assert events(eight, "a3") == [("available", T0, T0), ("logged_out", back, None)]
    assert result.events_closed == 3


def test_a_gap_of_three_intervals_or_less_is_an_ordinary_poll(eight):
    poll(eight, T0, S("a1", "available"))
    poll(eight, T0 + 3 * POLL, S("a1", "busy"))
    assert events(eight, "a1") == [("available", T0, T0 + 3 * POLL), ("busy", T0 + 3 * POLL, None)]


def test_unknown_vendor_states_are_kept_raw_and_stored_as_other(eight):
    poll(eight, T0, S("a1", "Coaching", raw_label="Coaching"))
    cur = current(eight, "a1")
    assert (cur.state, cur.raw_code, cur.raw_label) == ("other", "Coaching", "Coaching")


def test_the_connections_state_map_overrides_by_raw_code_or_label(eight):
    eight.state_map = {"LUNCH": "break", "Back office": "work_offline"}
    eight.save()
    poll(
        eight,
        T0,
        S("a1", "other", raw_code="LUNCH", raw_label="Lunch"),
        S("a2", "other", raw_code="77", raw_label="Back office"),
        S("a3", "other", raw_code="99", raw_label="Mystery"),
    )
    assert [current(eight, a).state for a in ("a1", "a2", "a3")] == ["break", "work_offline", "other"]
    assert current(eight, "a1").raw_code == "LUNCH"


def test_a_snapshot_not_newer_than_the_last_is_ignored(eight):
    poll(eight, T0, S("a1", "available"))
    result = poll(eight, T0, S("a1", "busy"))
    assert result.events_created == 0
    assert "ignored" in result.notes[-1]
    assert events(eight, "a1") == [("available", T0, None)]


def test_an_older_snapshot_is_ignored_on_a_connection_whose_last_one_listed_no_agent(eight):
    poll(eight, T0 + POLL)
    result = poll(eight, T0, S("a1", "available"))
    assert "ignored" in result.notes[-1]
    assert not Agent.objects.filter(connection=eight).exists()
    assert Cursor.objects.get(connection=eight, stream="agent_states").position == T0 + POLL


def test_another_connections_later_poll_does_not_hold_back_this_one(eight, tenant_b):
    from tests.conftest import make_connection

    other = make_connection(tenant_b, "8x8", "other")
    poll(other, T0 + 2 * POLL, S("b1", "busy"))
    poll(eight, T0, S("a1", "available"))
    result = poll(eight, T0 + POLL, S("a1", "busy"))
    assert result.events_created == 1
    assert events(eight, "a1") == [("available", T0, T0 + POLL), ("busy", T0 + POLL, None)]


def test_connections_keep_their_agents_apart(eight, tenant_b):
    from tests.conftest import make_connection

    other = make_connection(tenant_b, "8x8", "other")
    poll(eight, T0, S("a1", "available"))
    poll(other, T0 + POLL, S("a1", "busy"))
    poll(eight, T0 + 2 * POLL, S("a1", "available"))
    assert events(eight, "a1") == [("available", T0, None)]
    assert events(other, "a1") == [("busy", T0 + POLL, None)]


def test_an_agent_without_an_id_is_bad_data(eight):
    with pytest.raises(DataError, match="agent_vendor_id is empty"):
        poll(eight, T0, S("", "available"))


def test_it_uses_a_constant_number_of_queries_whatever_the_number_of_agents(
    eight, django_assert_max_num_queries
):
    poll(eight, T0, *[S(f"a{i}", "available") for i in range(300)])
    changed = [S(f"a{i}", "busy" if i % 3 == 0 else "available") for i in range(300)]
    with django_assert_max_num_queries(12):
        result = poll(eight, T0 + POLL, *changed)
    assert (result.events_created, result.events_closed) == (100, 100)
