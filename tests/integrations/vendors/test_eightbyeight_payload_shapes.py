"""8x8 lists come bare or enveloped, and a connection's field map renames the fields."""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import timedelta as td

import pytest
import responses
import time_machine

from integrations.vendors.base import ConnectionSettings, Section
from integrations.vendors.eightbyeight.adapter import EightByEightAdapter
from integrations.vendors.errors import DataError
from integrations.vendors.records import AgentRecord, IntervalRecord, QueueRecord

BASE = "https://vcc-na10b.8x8.com/api/"
AGENTS = BASE + "rtstats/stats/agents.json"
QUEUES = BASE + "rtstats/stats/queues.json"
INTERACTIONS = BASE + "stats/queues/103/interactions.json"
NOW = datetime(2025, 11, 20, 12, 0, tzinfo=UTC)
START = datetime(2025, 11, 20, 10, 0, tzinfo=UTC)
MS_10_05 = 1763633100000  # 2025-11-20 10:05 UTC

AGENT = {"agent-id": "jdoe", "agent-name": "J Doe", "group-id": 126, "agent-status": 3, "time-in-status": 40}
QUEUE = {"queue-id": 103, "queue-name": "Appointments"}
RECORD = {
    "transaction-id": "t-1",
    "time-entered": MS_10_05,
    "abandoned": "N",
    "processtime": "100",
    "postprocess": "10",
}
RENAMED_AGENT = {"agentId": "jdoe", "name": "J Doe", "group": 126, "status": 3, "secondsInStatus": 40}
RENAMED_QUEUE = {"id": 103, "name": "Appointments"}
RENAMED_RECORD = {"id": "t-1", "entered": MS_10_05, "isAbandoned": "N", "handle": "100", "wrap": "10"}
FIELD_MAP = {
    "agent_list": "agents",
    "agent_id": "agentId",
    "agent_name": "name",
    "agent_group": "group",
    "agent_state": "status",
    "time_in_state": "secondsInStatus",
    "queue_list": "queues",
    "queue_id": "id",
    "queue_name": "name",
    "statistics": "data",
    "statistic_list": "records",
    "call_id": "id",
    "entered_at": "entered",
    "abandoned": "isAbandoned",
    "process_seconds": "handle",
    "post_process_seconds": "wrap",
}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        responses.start()
        yield
        responses.stop()
        responses.reset()


def adapter(field_map: dict | None = None) -> EightByEightAdapter:
    section = Section(BASE, {"tenant": "wfmsgDemo", "token": "token-0123456789"})
    options = {"field_map": field_map} if field_map is not None else {}
    return EightByEightAdapter(
        ConnectionSettings(key="acme/eight", vendor="8x8", realtime=section, history=section, options=options)
    )


def states(field_map: dict | None = None) -> list[tuple[str, str, str, datetime | None]]:
    snapshot = adapter(field_map).fetch_agent_states(NOW)
    return [(a.agent_vendor_id, a.state, a.agent_name, a.since) for a in snapshot.agents]


def volume(field_map: dict | None = None) -> list[IntervalRecord]:
    return adapter(field_map).fetch_volume(START, START + td(minutes=30))


EXPECTED_STATES = [("jdoe", "wrap_up", "J Doe", NOW - td(seconds=40))]
EXPECTED_VOLUME = [
    IntervalRecord("103", START, 1, 0, 110, queue_name="Appointments"),
    IntervalRecord("103", START + td(minutes=15), 0, 0, 0, queue_name="Appointments"),
]


@pytest.mark.parametrize("body", [{"agent": [AGENT]}, [AGENT]], ids=["enveloped", "bare-array"])
def test_agents_come_enveloped_or_as_a_bare_array(body):
    responses.get(AGENTS, json=body)
    assert states() == EXPECTED_STATES


@pytest.mark.parametrize(
    ("queues", "interactions"),
    [
        ({"queue": [QUEUE]}, {"statistics": {"statistic": [RECORD]}}),
        ([QUEUE], [RECORD]),
        ([QUEUE], {"statistics": [RECORD]}),
    ],
    ids=["enveloped", "bare-arrays", "statistics-holding-a-list"],
)
def test_queues_and_interactions_come_enveloped_or_as_bare_arrays(queues, interactions):
    responses.get(QUEUES, json=queues)
    responses.get(INTERACTIONS, json=interactions)
    assert volume() == EXPECTED_VOLUME


@pytest.mark.parametrize("bare", [False, True], ids=["enveloped", "bare-array"])
def test_a_field_map_renames_every_agent_field(bare):
    responses.get(AGENTS, json=[RENAMED_AGENT] if bare else {"agents": [RENAMED_AGENT]})
    responses.get(QUEUES, json=[RENAMED_QUEUE] if bare else {"queues": [RENAMED_QUEUE]})
    assert states(FIELD_MAP) == EXPECTED_STATES
    snapshot = adapter(FIELD_MAP).fetch_config()
    assert snapshot.agents == [AgentRecord("jdoe", "J Doe", "126")]
    assert snapshot.queues == [QueueRecord("103", "Appointments")]


@pytest.mark.parametrize("bare", [False, True], ids=["enveloped", "bare-array"])
def test_a_field_map_renames_every_interaction_field(bare):
    responses.get(QUEUES, json=[RENAMED_QUEUE] if bare else {"queues": [RENAMED_QUEUE]})
    responses.get(INTERACTIONS, json=[RENAMED_RECORD] if bare else {"data": {"records": [RENAMED_RECORD]}})
    assert volume(FIELD_MAP) == EXPECTED_VOLUME


def test_an_abandoned_call_is_read_through_the_renamed_flag():
    responses.get(QUEUES, json=[QUEUE])
    responses.get(INTERACTIONS, json=[{**RENAMED_RECORD, "isAbandoned": "Y"}])
    [first, _] = volume(
        {
            "call_id": "id",
            "entered_at": "entered",
            "abandoned": "isAbandoned",
            "process_seconds": "handle",
            "post_process_seconds": "wrap",
        }
    )
    assert (first.entered, first.abandoned, first.handle_seconds) == (1, 1, 0)


def test_a_missing_field_names_the_fields_present_and_never_their_values():
    responses.get(QUEUES, json=[QUEUE])
    responses.get(INTERACTIONS, json=[{**RENAMED_RECORD, "id": "caller-555-0100"}])
    with pytest.raises(DataError) as info:
        volume()
    assert str(info.value) == (
        "8x8 interactions of queue 103 (n=1) statistic[0]: missing 'transaction-id'; "
        "the object has 'id', 'entered', 'isAbandoned', 'handle', 'wrap'"
    )
    assert "555" not in str(info.value)


def test_a_missing_list_key_names_the_keys_present():
    responses.get(AGENTS, json={"agents": [AGENT]})
    with pytest.raises(DataError) as info:
        states()
    assert str(info.value) == "8x8 agents.json: missing 'agent'; the object has 'agents'"


def test_an_empty_object_is_said_to_be_empty():
    responses.get(AGENTS, json={"agent": [{}]})
    with pytest.raises(DataError) as info:
        states()
    assert str(info.value) == "8x8 agents.json agent[0]: missing 'agent-id'; the object is empty"
