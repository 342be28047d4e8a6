"""Every kind of bad answer from 8x8 gives the right error class and a clear, secret-free message."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import requests
import responses
import time_machine

from integrations.vendors.base import ConnectionSettings, Section
from integrations.vendors.eightbyeight import adapter as adapter_module
from integrations.vendors.eightbyeight.adapter import EightByEightAdapter
from integrations.vendors.errors import AuthError, DataError, TransientError, VendorError

BASE = "https://vcc-na10b.8x8.com/api/"
AGENTS = BASE + "rtstats/stats/agents.json"
QUEUES = BASE + "rtstats/stats/queues.json"
INTERACTIONS = BASE + "stats/queues/103/interactions.json"
TOKEN = "8x8-SECRET-data-request-token"
NOW = datetime(2025, 11, 20, 12, 0, tzinfo=UTC)
START = datetime(2025, 11, 20, 10, 0, tzinfo=UTC)
END = datetime(2025, 11, 20, 11, 0, tzinfo=UTC)
MS_10_05 = 1763633100000  # 2025-11-20 10:05 UTC


def record(**changes: object) -> dict:
    base = {
        "transaction-id": "t-1",
        "queue-id": 103,
        "time-entered": MS_10_05,
        "abandoned": "N",
        "processtime": "100",
        "postprocess": "10",
    }
    base.update(changes)
    return {key: value for key, value in base.items() if value is not ...}


def agents(**changes: object) -> dict:
    agent = {
        "agent-id": "jdoe",
        "agent-name": "J Doe",
        "group-id": 126,
        "agent-status": 0,
        "time-in-status": 4,
    }
    agent.update(changes)
    return {"agent": [{key: value for key, value in agent.items() if value is not ...}]}


def states(**kwargs) -> Callable[[], None]:
    def setup() -> None:
        responses.get(AGENTS, **kwargs)

    return setup


def volume(*pages: dict, **kwargs) -> Callable[[], None]:
    """queues.json lists queue 103; its interaction pages answer `pages` in turn (or kwargs)."""

    def setup() -> None:
        responses.get(QUEUES, json={"queue": [{"queue-id": 103, "queue-name": "Appointments"}]})
        if kwargs:
            responses.get(INTERACTIONS, **kwargs)
        for page in pages:
            responses.get(INTERACTIONS, json=page)

    return setup


def statistic(*records: dict) -> dict:
    return {"statistics": {"statistic": list(records)}}


def full_page(offset: int = 0) -> dict:
    return statistic(*(record(**{"transaction-id": f"t-{offset + i}"}) for i in range(50)))


@dataclass
class Case:
    id: str
    stream: str  # "states", "volume" or "config"
    setup: Callable[[], None]
    error: type[VendorError]
    message: str


HTML = f"<html><body><h1>Service unavailable</h1><p>tenant wfmsgDemo, key {TOKEN}</p></body></html>"

CASES = [
    # --- bodies -------------------------------------------------------------------------
    Case("not-json", "states", states(body="agent=jdoe;status=0"), DataError, "body is not JSON"),
    Case("html-with-200", "states", states(body=HTML, status=200), DataError, "body is an HTML page"),
    Case("empty-body", "states", states(body=""), DataError, "empty body"),
    # A bare array is accepted as the agent list, but its elements must be objects.
    Case(
        "top-level-list", "states", states(json=[1, 2]), DataError, "agents.json agent[0]: expected an object"
    ),
    Case("top-level-number", "states", states(json=7), DataError, "expected a JSON object or array, got int"),
    Case("missing-agent-list", "states", states(json={"agents": []}), DataError, "missing 'agent'"),
    Case("agent-list-wrong-type", "states", states(json={"agent": 3}), DataError, "'agent' is int"),
    Case(
        "agent-not-object",
        "states",
        states(json={"agent": ["jdoe"]}),
        DataError,
        "agent[0]: expected an object",
    ),
    Case(
        "missing-agent-id",
        "states",
        states(json=agents(**{"agent-id": ...})),
        DataError,
        "missing 'agent-id'",
    ),
    Case(
        "missing-status", "states", states(json=agents(**{"agent-status": ...})), DataError, "'agent-status'"
    ),
    Case(
        "status-wrong-type",
        "states",
        states(json=agents(**{"agent-status": "available"})),
        DataError,
        "'agent-status' is 'available', expected an integer",
    ),
    Case(
        "negative-time-in-status",
        "states",
        states(json=agents(**{"time-in-status": -5})),
        DataError,
        "'time-in-status' is -5",
    ),
    Case(
        "duplicate-agent",
        "states",
        states(json={"agent": agents()["agent"] * 2}),
        DataError,
        "'agent-id' 'jdoe' appears twice",
    ),
    Case("queues-not-json", "config", lambda: responses.get(QUEUES, body="{oops"), DataError, "not JSON"),
    Case("statistics-wrong-type", "volume", volume({"statistics": 5}), DataError, "'statistics' is int"),
    Case("statistics-missing", "volume", volume({"stats": ""}), DataError, "missing 'statistics'"),
    Case(
        "missing-time-entered",
        "volume",
        volume(statistic(record(**{"time-entered": ...}))),
        DataError,
        "statistic[0]: missing 'time-entered'",
    ),
    Case(
        "time-entered-in-seconds",
        "volume",
        volume(statistic(record(**{"time-entered": 1763633100}))),
        DataError,
        "'time-entered' is 1763633100, not epoch milliseconds",
    ),
    Case(
        "time-entered-far-in-future",
        "volume",
        volume(statistic(record(**{"time-entered": 4102444800000}))),
        DataError,
        "'time-entered' is 4102444800000 (2100-01-01 00:00 UTC), in the future",
    ),
    Case(
        "abandoned-wrong-value",
        "volume",
        volume(statistic(record(abandoned="maybe"))),
        DataError,
        "'abandoned' is 'maybe', expected \"Y\" or \"N\"",
    ),
    Case(
        "negative-processtime",
        "volume",
        volume(statistic(record(processtime="-30"))),
        DataError,
        "'processtime' is '-30', a negative duration",
    ),
    Case(
        "processtime-not-a-number",
        "volume",
        volume(statistic(record(postprocess="ten"))),
        DataError,
        "'postprocess' is 'ten', expected seconds",
    ),
    Case(
        "missing-transaction-id",
        "volume",
        volume(statistic(record(**{"transaction-id": ...}))),
        DataError,
        "missing 'transaction-id'",
    ),
    Case(
        "page-that-never-ends",
        "volume",
        volume(full_page(), full_page()),
        DataError,
        "(n=51): a full page of records already read; the list never ends",
    ),
    # --- transport ----------------------------------------------------------------------
    Case("timeout", "states", states(body=requests.Timeout()), TransientError, "timed out"),
    Case(
        "refused-connection",
        "states",
        states(body=requests.ConnectionError("Connection refused")),
        TransientError,
        "connection failed",
    ),
    Case("server-error", "states", states(status=500, body=HTML), TransientError, "server error (HTTP 500)"),
    Case("token-refused", "states", states(status=401), AuthError, "credentials refused (HTTP 401)"),
    Case(
        "401-mid-run",
        "volume",
        volume(status=401),
        AuthError,
        "8x8 GET /api/stats/queues/103/interactions.json: credentials refused (HTTP 401)",
    ),
    Case("bad-request", "config", lambda: responses.get(QUEUES, status=404), DataError, "HTTP 404"),
]


def run(stream: str) -> object:
    section = Section(BASE, {"tenant": "wfmsgDemo", "token": TOKEN})
    adapter = EightByEightAdapter(
        ConnectionSettings(key="acme/eight", vendor="8x8", realtime=section, history=section)
    )
    if stream == "states":
        return adapter.fetch_agent_states(NOW)
    if stream == "volume":
        return adapter.fetch_volume(START, END)
    return adapter.fetch_config()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
@time_machine.travel(NOW, tick=False)
@responses.activate
def test_bad_input_gives_the_right_error_and_a_clear_message(case: Case):
    case.setup()

    with pytest.raises(VendorError) as info:
        run(case.stream)

    assert type(info.value) is case.error
    assert case.message in str(info.value)
    assert TOKEN not in str(info.value)
    assert TOKEN not in getattr(info.value, "sample", "")


@time_machine.travel(NOW, tick=False)
@responses.activate
def test_429_carries_retry_after():
    responses.get(AGENTS, status=429, headers={"Retry-After": "30"})

    with pytest.raises(TransientError) as info:
        run("states")

    assert info.value.retry_after == 30
    assert "rate limited (HTTP 429)" in str(info.value)


@time_machine.travel(NOW, tick=False)
@responses.activate
def test_an_unknown_state_code_is_not_an_error():
    responses.get(AGENTS, json=agents(**{"agent-status": 42}))

    (agent,) = run("states").agents

    assert (agent.state, agent.raw_code, agent.raw_label) == ("other", "42", "")


@time_machine.travel(NOW, tick=False)
@responses.activate
def test_a_list_of_distinct_pages_beyond_the_maximum_is_refused(monkeypatch):
    monkeypatch.setattr(adapter_module, "MAX_PAGES", 3)
    volume(full_page(0), full_page(50), full_page(100), full_page(150))()

    with pytest.raises(DataError, match="more than 3 pages of 50; the list never ends"):
        run("volume")
    assert len(responses.calls) == 4  # queues.json and three pages, then it stopped


def test_a_missing_token_is_an_auth_error_before_any_request():
    section = Section(BASE, {"tenant": "wfmsgDemo"})
    adapter = EightByEightAdapter(
        ConnectionSettings(key="acme/eight", vendor="8x8", realtime=section, history=section)
    )

    with pytest.raises(AuthError, match="no tenant name or no token"):
        adapter.fetch_agent_states(NOW)
