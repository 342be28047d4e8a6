"""8x8 configuration from the real-time lists (recorded fixtures)."""

from __future__ import annotations

import json
from pathlib import Path

import responses

from integrations.vendors.base import ConnectionSettings, Section
from integrations.vendors.eightbyeight.adapter import EightByEightAdapter
from integrations.vendors.records import AgentRecord, QueueRecord

FIXTURES = Path(__file__).parent / "fixtures" / "eightbyeight"
BASE = "https://vcc-na10b.8x8.com/api/"


def adapter() -> EightByEightAdapter:
    section = Section(BASE, {"tenant": "wfmsgDemo", "token": "token-0123456789"})
    return EightByEightAdapter(
        ConnectionSettings(key="acme/eight", vendor="8x8", realtime=section, history=section)
    )


@responses.activate
def test_it_imports_queues_and_agents_with_their_group():
    responses.get(BASE + "rtstats/stats/queues.json", json=json.loads((FIXTURES / "queues.json").read_text()))
    responses.get(BASE + "rtstats/stats/agents.json", json=json.loads((FIXTURES / "agents.json").read_text()))

    snapshot = adapter().fetch_config()

    assert snapshot.queues == [QueueRecord("103", "Appointments"), QueueRecord("104", "Billing")]
    assert snapshot.agents[:2] == [
        AgentRecord("jdoe", "J Doe", "126"),
        AgentRecord("asmith", "A Smith", "126"),
    ]
    assert [a.vendor_id for a in snapshot.agents] == ["jdoe", "asmith", "bwong", "clee", "dkim", "epark"]
    # rtstats lists no agent-to-queue membership: the import must not deactivate any.
    assert snapshot.memberships == []
    assert snapshot.memberships_complete is False


@responses.activate
def test_the_connection_check_reads_both_apis_and_says_what_it_read():
    responses.get(BASE + "rtstats/stats/agents.json", json=json.loads((FIXTURES / "agents.json").read_text()))
    responses.get(BASE + "rtstats/stats/queues.json", json=json.loads((FIXTURES / "queues.json").read_text()))
    responses.get(BASE + "stats/queues/103/interactions.json", json={"statistics": ""})

    done = adapter().check()

    assert done == [
        "8x8 real-time statistics: 6 agent(s) listed",
        "8x8 queue list (history credentials): 2 queue(s)",
        "8x8 statistics reporting: interactions of queue 103 readable",
    ]
