"""NCC / Thrio configuration, agent states and volume from recorded fixtures: exact records."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import responses
import time_machine
from responses import matchers

from integrations.vendors.base import ConnectionSettings, Section
from integrations.vendors.errors import DataError
from integrations.vendors.ncc.adapter import NCCAdapter
from integrations.vendors.ncc.client import forget_all
from integrations.vendors.records import (
    AgentRecord,
    AgentStateRecord,
    IntervalRecord,
    MembershipRecord,
    QueueRecord,
)

FIXTURES = Path(__file__).parent / "fixtures" / "ncc"
LOGIN = "https://login.thrio.com/provider/token-with-authorities"
CLUSTER = "https://nv7.thrio.io"
NOW = datetime(2025, 11, 20, 12, 0, tzinfo=UTC)


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture(autouse=True)
def logged_in():
    forget_all()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(LOGIN, json=fixture("login.json"))
        yield mock
    forget_all()


def adapter(options: dict | None = None, state_map: dict | None = None) -> NCCAdapter:
    section = Section("https://login.thrio.com/", {"username": "wfm", "password": "pw-0123456789"})
    return NCCAdapter(
        ConnectionSettings(
            key="acme/ncc",
            vendor="nextiva",
            realtime=section,
            history=section,
            options=options or {},
            state_map=state_map or {},
        )
    )


def at(hour: int, minute: int) -> datetime:
    return datetime(2025, 11, 20, hour, minute, tzinfo=UTC)


def test_it_imports_queues_skills_users_and_memberships_across_pages(logged_in):
    def page(kind: str, start: int, name: str) -> None:
        logged_in.get(
            f"{CLUSTER}/data/api/types/{kind}",
            json=fixture(name),
            match=[matchers.query_param_matcher({"start": str(start), "rows": "100"})],
        )

    page("queue", 0, "queues.json")
    page("skill", 0, "skills.json")
    page("user", 0, "users_start0.json")
    page("user", 100, "users_start100.json")
    page("userqueue", 0, "userqueues.json")

    snapshot = adapter().fetch_config()

    assert snapshot.queues == [
        QueueRecord("q1", "Sales"),
        QueueRecord("q2", "Support"),
        QueueRecord("skill:s1", "Spanish"),
    ]
    assert len(snapshot.agents) == 102
    assert snapshot.agents[0] == AgentRecord("u1", "First1 Last1")
    # A user without a last name keeps the first; one without either keeps the login name.
    assert snapshot.agents[-2:] == [AgentRecord("u101", "Solo"), AgentRecord("u102", "noname@example.com")]
    assert snapshot.memberships == [
        MembershipRecord("u1", "q1"),
        MembershipRecord("u1", "q2"),
        MembershipRecord("u2", "q1"),
    ]
    assert snapshot.memberships_complete is True


@time_machine.travel(NOW, tick=False)
def test_it_maps_the_listed_states_keeps_custom_ones_raw_and_reads_seconds_or_millis(logged_in):
    logged_in.get(CLUSTER + "/wfm/api/agentstates", json=fixture("agentstates.json"))

    snapshot = adapter().fetch_agent_states(NOW)

    assert snapshot.agents == [
        AgentStateRecord("u1", "available", "Available", "Available", since=at(10, 0)),
        AgentStateRecord("u2", "busy", "Busy", "Busy", since=at(9, 55)),  # sent in milliseconds
        AgentStateRecord("u3", "busy", "Working", "Working", since=datetime.fromtimestamp(1763632700, UTC)),
        AgentStateRecord("u4", "wrap_up", "Wrapup", "Wrapup", since=datetime.fromtimestamp(1763632790, UTC)),
        AgentStateRecord(
            "u5", "logged_out", "Logged out", "Logged out", since=datetime.fromtimestamp(1763600000, UTC)
        ),
        AgentStateRecord(
            "u6", "available", "Logged in", "Logged in", since=datetime.fromtimestamp(1763632000, UTC)
        ),
        AgentStateRecord(
            "u7", "other", "No Answer", "No Answer", since=datetime.fromtimestamp(1763632780, UTC)
        ),
        AgentStateRecord("u8", "other", "Lunch", "Lunch", since=datetime.fromtimestamp(1763631000, UTC)),
    ]


@time_machine.travel(NOW, tick=False)
def test_the_state_map_and_the_path_option_are_per_connection(logged_in):
    logged_in.get(CLUSTER + "/custom/states", json=fixture("agentstates.json"))

    agents = (
        adapter(
            options={"agent_states_path": "/custom/states"},
            state_map={"Lunch": "break", "logged in": "other"},
        )
        .fetch_agent_states(NOW)
        .agents
    )

    assert {a.agent_vendor_id: a.state for a in agents}["u8"] == "break"
    assert {a.agent_vendor_id: a.state for a in agents}["u6"] == "other"


def test_a_path_option_that_leaves_the_cluster_is_refused(logged_in):
    with pytest.raises(DataError, match="option 'agent_states_path' must be a path"):
        adapter(options={"agent_states_path": "//evil.example.com/x"}).fetch_agent_states(NOW)


@time_machine.travel(NOW, tick=False)
def test_it_reads_interval_volume_in_seconds_or_millis(logged_in):
    logged_in.get(
        CLUSTER + "/wfm/api/queueintervals",
        json=fixture("queueintervals.json"),
        match=[matchers.query_param_matcher({"start": "1763632800", "end": "1763636400"})],
    )

    records = adapter().fetch_volume(at(10, 0), at(11, 0))

    assert records == [
        IntervalRecord("q1", at(10, 0), 10, 2, 1234, "Sales"),
        IntervalRecord("q2", at(10, 0), 0, 0, 0, "Support"),
        IntervalRecord("q1", at(10, 15), 12, 1, 2400, "Sales"),
    ]


@time_machine.travel(at(10, 20), tick=False)
def test_it_keeps_only_closed_intervals_inside_the_window(logged_in):
    logged_in.get(CLUSTER + "/wfm/api/queueintervals", json=fixture("queueintervals.json"))

    records = adapter().fetch_volume(at(10, 0), at(10, 30))

    # 10:15 has not closed at 10:20: a partial count must not be stored.
    assert [(r.queue_vendor_id, r.interval_start) for r in records] == [("q1", at(10, 0)), ("q2", at(10, 0))]
