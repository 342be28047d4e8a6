from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import responses

from integrations.vendors.base import ConnectionSettings, Section
from integrations.vendors.errors import DataError
from integrations.vendors.tcn.adapter import TCNAdapter
from integrations.vendors.tcn.vendor import TCN

from .tcn_helpers import FIXTURES

URL = "https://api.tcn3.com/backoffice/AgentSummary"
NOW = datetime(2025, 1, 15, 17, 0, tzinfo=UTC)


def adapter(state_map: dict[str, str] | None = None) -> TCNAdapter:
    section = Section("https://api.tcn3.com/backoffice/", {"access_token": "tcn-token-0123456789abcdef"})
    return TCNAdapter(
        ConnectionSettings(
            key="acme/tcn",
            vendor="tcn",
            realtime=section,
            history=section,
            options=dict(TCN.default_options),
            state_map=state_map or {},
        )
    )


def detail(**groups: object) -> dict:
    return {"resultDetail": groups}


@responses.activate
def test_each_group_maps_to_its_neutral_state():
    responses.post(URL, body=(FIXTURES / "agent_summary.json").read_text())
    snapshot = adapter().fetch_agent_states(NOW)
    states = {a.agent_vendor_id: (a.state, a.raw_code, a.agent_name) for a in snapshot.agents}
    assert states == {
        "1001": ("available", "readyAgents", "Ada Lovelace"),
        "1002": ("busy", "onCallAgents", "Alan Turing"),
        "1003": ("break", "pausedAgents", "Grace Hopper"),
    }
    assert snapshot.complete is True
    assert snapshot.observed_at == NOW
    assert [a.reason_code for a in snapshot.agents if a.agent_vendor_id == "1003"] == ["Lunch"]


@responses.activate
def test_wrap_up_and_other_groups_map_too():
    responses.post(
        URL, json=detail(wrapUpAgents=[{"agentSid": "7"}], otherStatusAgents=["8"], totalLoggedInAgents=2)
    )
    states = {a.agent_vendor_id: a.state for a in adapter().fetch_agent_states(NOW).agents}
    assert states == {"7": "wrap_up", "8": "other"}


@responses.activate
def test_a_group_with_a_bare_count_records_no_agents_and_marks_the_snapshot_incomplete():
    responses.post(URL, json=detail(readyAgents=[{"agentSid": "1"}], onCallAgents=4, totalLoggedInAgents=5))
    snapshot = adapter().fetch_agent_states(NOW)
    assert [a.agent_vendor_id for a in snapshot.agents] == ["1"]
    assert snapshot.complete is False
    assert any("only a count for onCallAgents (4)" in n for n in snapshot.notes)


@responses.activate
def test_the_state_map_overrides_by_status_label_or_group():
    responses.post(
        URL,
        json=detail(
            pausedAgents=[
                {"agentSid": "1", "statusDesc": "Training"},
                {"agentSid": "2", "statusDesc": "Lunch"},
            ],
            otherStatusAgents=[{"agentSid": "3"}],
        ),
    )
    snapshot = adapter({"Training": "work_offline", "otherStatusAgents": "offered"}).fetch_agent_states(NOW)
    assert {a.agent_vendor_id: a.state for a in snapshot.agents} == {
        "1": "work_offline",
        "2": "break",
        "3": "offered",
    }


@responses.activate
def test_a_total_that_disagrees_with_the_listed_agents_is_noted():
    responses.post(URL, json=detail(readyAgents=[{"agentSid": "1"}], totalLoggedInAgents=3))
    snapshot = adapter().fetch_agent_states(NOW)
    assert snapshot.complete is True
    assert any("totalLoggedInAgents is 3 but 1 agents were listed" in n for n in snapshot.notes)


@responses.activate
def test_an_agent_in_two_groups_is_kept_once():
    responses.post(URL, json=detail(readyAgents=[{"agentSid": "1"}], onCallAgents=[{"agentSid": "1"}]))
    snapshot = adapter().fetch_agent_states(NOW)
    assert [(a.agent_vendor_id, a.state) for a in snapshot.agents] == [("1", "available")]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"result": "ok"}', "no resultDetail"),
        ("<html>login</html>", "body is an HTML page"),
        ("", "empty body"),
        (json.dumps(detail(readyAgents={"a": 1})), "resultDetail.readyAgents is dict"),
        (json.dumps(detail(readyAgents=[{"firstName": "Nobody"}])), "an agent in readyAgents has no id"),
    ],
)
@responses.activate
def test_a_payload_that_does_not_fit_is_a_data_error(body, message):
    responses.post(URL, body=body)
    with pytest.raises(DataError, match=message):
        adapter().fetch_agent_states(NOW)
