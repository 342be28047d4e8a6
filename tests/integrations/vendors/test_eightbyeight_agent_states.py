"""8x8 agent states from rtstats agents.json, against recorded fixtures."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from datetime import timedelta as td
from pathlib import Path

import pytest
import responses

from integrations.vendors.base import ConnectionSettings, Section
from integrations.vendors.eightbyeight.adapter import EightByEightAdapter
from integrations.vendors.records import AgentStateRecord

FIXTURES = Path(__file__).parent / "fixtures" / "eightbyeight"
BASE = "https://vcc-na10b.8x8.com/api/"
AGENTS = BASE + "rtstats/stats/agents.json"
TOKEN = "8x8-data-request-token-SECRET"
NOW = datetime(2025, 11, 20, 12, 0, tzinfo=UTC)


def adapter(state_map: dict[str, str] | None = None) -> EightByEightAdapter:
    section = Section(BASE, {"tenant": "wfmsgDemo", "token": TOKEN})
    return EightByEightAdapter(
        ConnectionSettings(
            key="acme/eight", vendor="8x8", realtime=section, history=section, state_map=state_map or {}
        )
    )


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


@responses.activate
def test_it_maps_every_documented_code_and_keeps_unknown_codes_raw():
    responses.get(AGENTS, json=fixture("agents.json"))

    snapshot = adapter().fetch_agent_states(NOW)

    assert snapshot.observed_at == NOW
    assert snapshot.complete is True
    assert snapshot.agents == [
        AgentStateRecord("jdoe", "available", "0", "available", "", "J Doe", NOW - td(seconds=42)),
        AgentStateRecord("asmith", "busy", "2", "busy", "", "A Smith", NOW - td(seconds=305)),
        AgentStateRecord("bwong", "wrap_up", "3", "post processing", "", "B Wong", NOW - td(seconds=12)),
        AgentStateRecord("clee", "break", "4", "on break", "", "C Lee", NOW - td(seconds=600)),
        AgentStateRecord("dkim", "logged_out", "9", "logged out", "", "D Kim", NOW - td(hours=1)),
        AgentStateRecord("epark", "other", "7", "", "", "E Park", NOW - td(seconds=5)),
    ]


@responses.activate
def test_it_sends_the_tenant_and_token_as_http_basic():
    responses.get(
        AGENTS,
        json=fixture("agents.json"),
        match=[responses.matchers.header_matcher({"Authorization": _basic("wfmsgDemo", TOKEN)})],
    )

    assert len(adapter().fetch_agent_states(NOW).agents) == 6


@responses.activate
def test_it_accepts_a_single_agent_sent_as_an_object():
    responses.get(AGENTS, json=fixture("agents_single.json"))

    (agent,) = adapter().fetch_agent_states(NOW).agents

    assert (agent.agent_vendor_id, agent.state, agent.raw_code) == ("jdoe", "offered", "1")
    assert agent.since == NOW - td(seconds=3)


@responses.activate
def test_the_connection_state_map_names_a_custom_code():
    responses.get(AGENTS, json=fixture("agents.json"))

    agents = adapter({"7": "work_offline"}).fetch_agent_states(NOW).agents

    assert [(a.agent_vendor_id, a.state, a.raw_code) for a in agents][-1] == ("epark", "work_offline", "7")


@responses.activate
def test_an_agent_without_time_in_status_has_no_since():
    responses.get(AGENTS, json={"agent": [{"agent-id": "jdoe", "agent-status": 5}]})

    (agent,) = adapter().fetch_agent_states(NOW).agents

    assert (agent.state, agent.since) == ("work_offline", None)


@pytest.mark.parametrize("empty", [{"agent": []}, {"agent": ""}])
@responses.activate
def test_no_agents_is_an_empty_snapshot(empty):
    responses.get(AGENTS, json=empty)

    assert adapter().fetch_agent_states(NOW).agents == []


def _basic(user: str, password: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
