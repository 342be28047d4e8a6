"""NCC / Thrio lists come bare or enveloped, and a connection's field map renames the fields."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import responses
import time_machine

from integrations.vendors.base import ConnectionSettings, Section
from integrations.vendors.errors import DataError
from integrations.vendors.ncc.adapter import NCCAdapter
from integrations.vendors.ncc.client import forget_all
from integrations.vendors.records import IntervalRecord, QueueRecord

LOGIN = "https://login.thrio.com/provider/token-with-authorities"
CLUSTER = "https://nv7.thrio.io"
STATES = CLUSTER + "/wfm/api/agentstates"
VOLUME = CLUSTER + "/wfm/api/queueintervals"
NOW = datetime(2025, 11, 20, 12, 0, tzinfo=UTC)
T_10_00 = 1763632800  # 2025-11-20 10:00 UTC
T_10_15 = T_10_00 + 900

AGENT = {"agent-id": "u1", "agent-status": "Wrapup", "timestamp": T_10_00}
INTERVAL = {
    "queueId": "q1",
    "queueName": "Sales",
    "intervalStart": T_10_00,
    "enteredCount": 3,
    "abandonedCount": 1,
    "sumHandleTime": 100,
}
# The same payloads under other names: every mappable field renamed.
RENAMED_AGENT = {"agentId": "u1", "state": "Wrapup", "stateSince": T_10_00 * 1000}
RENAMED_INTERVAL = {
    "queue": "q1",
    "queueLabel": "Sales",
    "start": T_10_00,
    "offered": 3,
    "abandoned": 1,
    "handleTime": 100,
}
FIELD_MAP = {
    "agent_list": "data",
    "agent_id": "agentId",
    "agent_state": "state",
    "state_since": "stateSince",
    "interval_list": "rows",
    "queue_id": "queue",
    "queue_name": "queueLabel",
    "interval_start": "start",
    "entered": "offered",
    "abandoned": "abandoned",
    "handle_seconds": "handleTime",
}


@pytest.fixture(autouse=True)
def vendor():
    forget_all()
    with (
        time_machine.travel(NOW, tick=False),
        responses.RequestsMock(assert_all_requests_are_fired=False) as mock,
    ):
        mock.get(LOGIN, json={"token": "tok-0123456789", "location": CLUSTER})
        yield mock
    forget_all()


def adapter(field_map: dict | None = None) -> NCCAdapter:
    section = Section("https://login.thrio.com/", {"account": "acct", "password": "pw-0123456789"})
    options = {"field_map": field_map} if field_map is not None else {}
    return NCCAdapter(
        ConnectionSettings(
            key="acme/thrio", vendor="thrio", realtime=section, history=section, options=options
        )
    )


def states(field_map: dict | None = None) -> list[tuple[str, str, datetime | None]]:
    return [(a.agent_vendor_id, a.state, a.since) for a in adapter(field_map).fetch_agent_states(NOW).agents]


def volume(field_map: dict | None = None) -> list[IntervalRecord]:
    start = datetime(2025, 11, 20, 10, 0, tzinfo=UTC)
    return adapter(field_map).fetch_volume(start, start.replace(hour=11))


EXPECTED_STATES = [("u1", "wrap_up", datetime(2025, 11, 20, 10, 0, tzinfo=UTC))]
EXPECTED_VOLUME = [
    IntervalRecord("q1", datetime(2025, 11, 20, 10, 0, tzinfo=UTC), 3, 1, 100, queue_name="Sales")
]


@pytest.mark.parametrize("body", [{"agents": [AGENT]}, [AGENT]], ids=["enveloped", "bare-array"])
def test_agent_states_come_enveloped_or_as_a_bare_array(vendor, body):
    vendor.get(STATES, json=body)
    assert states() == EXPECTED_STATES


@pytest.mark.parametrize("body", [{"intervals": [INTERVAL]}, [INTERVAL]], ids=["enveloped", "bare-array"])
def test_intervals_come_enveloped_or_as_a_bare_array(vendor, body):
    vendor.get(VOLUME, json=body)
    assert volume() == EXPECTED_VOLUME


def test_configuration_pages_may_be_bare_arrays_without_a_total(vendor):
    vendor.get(CLUSTER + "/data/api/types/queue", json=[{"_id": "q1", "name": "Sales"}])
    for kind in ("skill", "user", "userqueue"):
        vendor.get(f"{CLUSTER}/data/api/types/{kind}", json=[])
    assert adapter().fetch_config().queues == [QueueRecord("q1", "Sales")]


@pytest.mark.parametrize("bare", [False, True], ids=["enveloped", "bare-array"])
def test_a_field_map_renames_every_agent_state_field(vendor, bare):
    vendor.get(STATES, json=[RENAMED_AGENT] if bare else {"data": [RENAMED_AGENT]})
    assert states(FIELD_MAP) == EXPECTED_STATES


@pytest.mark.parametrize("bare", [False, True], ids=["enveloped", "bare-array"])
def test_a_field_map_renames_every_interval_field(vendor, bare):
    vendor.get(VOLUME, json=[RENAMED_INTERVAL] if bare else {"rows": [RENAMED_INTERVAL]})
    assert volume(FIELD_MAP) == EXPECTED_VOLUME


def test_a_partial_field_map_keeps_the_default_names_for_the_rest(vendor):
    vendor.get(VOLUME, json={"intervals": [{**INTERVAL, "offered": 7, "enteredCount": 99}]})
    [record] = volume({"entered": "offered"})
    assert (record.entered, record.abandoned, record.handle_seconds) == (7, 1, 100)


def test_a_missing_field_names_the_fields_present_and_never_their_values(vendor):
    vendor.get(VOLUME, json=[{**RENAMED_INTERVAL, "queueLabel": "Secret Escalations"}])
    with pytest.raises(DataError) as info:
        volume()
    assert str(info.value) == (
        "Thrio intervals[0]: missing 'queueId'; the object has "
        "'queue', 'queueLabel', 'start', 'offered', 'abandoned', 'handleTime'"
    )
    assert "Secret Escalations" not in str(info.value)
    assert "Sales" not in str(info.value)


def test_a_missing_state_field_names_the_fields_present(vendor):
    vendor.get(STATES, json=[{"agent-id": "u1", "status": "Busy"}])
    with pytest.raises(DataError) as info:
        states()
    assert str(info.value) == "Thrio agents[0]: missing 'agent-status'; the object has 'agent-id', 'status'"


def test_a_missing_list_key_names_the_keys_present(vendor):
    vendor.get(STATES, json={"data": [AGENT], "count": 1})
    with pytest.raises(DataError) as info:
        states()
    assert str(info.value) == "Thrio agent states: missing 'agents'; the object has 'data', 'count'"


def test_an_unusable_stored_field_map_is_a_configuration_error_naming_the_key(vendor):
    vendor.get(STATES, json=[AGENT])
    with pytest.raises(DataError, match="Thrio: option 'field_map' 'agent_id' has an empty field name"):
        states({"agent_id": " "})
