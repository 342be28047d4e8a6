"""Every kind of bad answer from NCC / Thrio gives the right error class and a clear, secret-free message."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import requests
import responses
import time_machine

from integrations.vendors.base import ConnectionSettings, Section
from integrations.vendors.errors import AuthError, DataError, TransientError, VendorError
from integrations.vendors.ncc import adapter as adapter_module
from integrations.vendors.ncc.adapter import NCCAdapter
from integrations.vendors.ncc.client import forget_all

LOGIN = "https://login.thrio.com/provider/token-with-authorities"
CLUSTER = "https://nv7.thrio.io"
STATES = CLUSTER + "/wfm/api/agentstates"
VOLUME = CLUSTER + "/wfm/api/queueintervals"
USERS = CLUSTER + "/data/api/types/user"
PASSWORD = "thrio-SECRET-password"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ3Zm0ifQ.U0VDUkVULXNpZ25hdHVyZQ"
NOW = datetime(2025, 11, 20, 12, 0, tzinfo=UTC)
T_10_00 = 1763632800


def agent(**changes: object) -> dict:
    item = {"agent-id": "u1", "agent-status": "Available", "timestamp": T_10_00}
    item.update(changes)
    return {"agents": [{k: v for k, v in item.items() if v is not ...}]}


def interval(**changes: object) -> dict:
    item = {
        "queueId": "q1",
        "queueName": "Sales",
        "intervalStart": T_10_00,
        "sumHandleTime": 100,
        "enteredCount": 3,
        "abandonedCount": 1,
    }
    item.update(changes)
    return {"intervals": [{k: v for k, v in item.items() if v is not ...}]}


def answer(url: str, **kwargs) -> Callable[[], None]:
    def setup() -> None:
        responses.get(LOGIN, json={"token": TOKEN, "location": CLUSTER})
        responses.get(url, **kwargs)

    return setup


def config(**kwargs) -> Callable[[], None]:
    """The queue list answers; the skill list answers `kwargs`."""

    def setup() -> None:
        responses.get(LOGIN, json={"token": TOKEN, "location": CLUSTER})
        responses.get(CLUSTER + "/data/api/types/queue", json={"total": 0, "objects": []})
        responses.get(CLUSTER + "/data/api/types/skill", **kwargs)

    return setup


def login(**kwargs) -> Callable[[], None]:
    return lambda: responses.get(LOGIN, **kwargs)


@dataclass
class Case:
    id: str
    stream: str  # "states", "volume" or "config"
    setup: Callable[[], None]
    error: type[VendorError]
    message: str


HTML = f"<!DOCTYPE html><html><body>Maintenance. Session {TOKEN} for {PASSWORD}</body></html>"
FAR_FUTURE = 4102444800  # 2100-01-01

CASES = [
    # --- bodies -------------------------------------------------------------------------
    Case("login-not-json", "states", login(body="OK"), DataError, "Thrio login: body is not JSON"),
    Case("login-html-200", "states", login(body=HTML), DataError, "Thrio login: body is an HTML page"),
    Case("not-json", "states", answer(STATES, body="agents: none"), DataError, "body is not JSON"),
    Case("html-with-200", "volume", answer(VOLUME, body=HTML), DataError, "body is an HTML page"),
    Case("empty-body", "config", config(body=""), DataError, "empty body where JSON was expected"),
    Case("agents-missing", "states", answer(STATES, json={"data": []}), DataError, "missing 'agents'"),
    Case("agents-wrong-type", "states", answer(STATES, json={"agents": {}}), DataError, "'agents' is dict"),
    Case(
        "agent-not-object", "states", answer(STATES, json={"agents": [7]}), DataError, "agents[0]: expected"
    ),
    Case(
        "agent-id-missing", "states", answer(STATES, json=agent(**{"agent-id": ...})), DataError, "'agent-id'"
    ),
    Case(
        "status-wrong-type",
        "states",
        answer(STATES, json=agent(**{"agent-status": 3})),
        DataError,
        "agents[0]: 'agent-status' is 3, expected a state name",
    ),
    Case(
        "timestamp-wrong-type",
        "states",
        answer(STATES, json=agent(timestamp="yesterday")),
        DataError,
        "'timestamp' is 'yesterday', expected Unix time",
    ),
    Case(
        "timestamp-far-in-future-seconds",
        "states",
        answer(STATES, json=agent(timestamp=FAR_FUTURE)),
        DataError,
        "'timestamp' is 4102444800 (2100-01-01 00:00 UTC), in the future",
    ),
    Case(
        "timestamp-far-in-future-millis",
        "states",
        answer(STATES, json=agent(timestamp=FAR_FUTURE * 1000)),
        DataError,
        "(2100-01-01 00:00 UTC), in the future",
    ),
    Case(
        "timestamp-absurdly-old",
        "states",
        answer(STATES, json=agent(timestamp=86400)),
        DataError,
        "'timestamp' is 86400, before the year 2000",
    ),
    Case("intervals-missing", "volume", answer(VOLUME, json={}), DataError, "missing 'intervals'"),
    Case(
        "count-wrong-type",
        "volume",
        answer(VOLUME, json=interval(enteredCount="ten")),
        DataError,
        "intervals[0]: 'enteredCount' is 'ten', expected a number",
    ),
    Case(
        "count-missing",
        "volume",
        answer(VOLUME, json=interval(sumHandleTime=...)),
        DataError,
        "intervals[0]: missing 'sumHandleTime'",
    ),
    Case(
        "negative-count",
        "volume",
        answer(VOLUME, json=interval(abandonedCount=-1)),
        DataError,
        "'abandonedCount' is -1, a negative count",
    ),
    Case(
        "interval-far-in-future",
        "volume",
        answer(VOLUME, json=interval(intervalStart=FAR_FUTURE)),
        DataError,
        "'intervalStart' is 4102444800 (2100-01-01 00:00 UTC), in the future",
    ),
    Case(
        "interval-off-the-grid",
        "volume",
        answer(VOLUME, json=interval(intervalStart=T_10_00 + 60)),
        DataError,
        "'intervalStart' 1763632860 (2025-11-20 10:01:00 UTC) is not on the 15-minute grid",
    ),
    Case(
        "interval-twice",
        "volume",
        answer(VOLUME, json={"intervals": interval()["intervals"] * 2}),
        DataError,
        "intervals[1]: queue 'q1' at 2025-11-20 10:00 UTC appears twice",
    ),
    Case(
        "objects-wrong-type",
        "config",
        config(json={"total": 1, "objects": "s1"}),
        DataError,
        "Thrio skill list (start=0): 'objects' is str, expected a list",
    ),
    Case(
        "object-without-id",
        "config",
        config(json={"total": 1, "objects": [{"name": "Spanish"}]}),
        DataError,
        "Thrio skill list (start=0) objects[0]: missing '_id'",
    ),
    Case(
        "fractional-entered-count",
        "volume",
        answer(VOLUME, json=interval(enteredCount=2.5)),
        DataError,
        "'enteredCount' is 2.5, a fractional count (counts are whole numbers)",
    ),
    Case(
        "fractional-abandoned-count",
        "volume",
        answer(VOLUME, json=interval(abandonedCount=0.4)),
        DataError,
        "'abandonedCount' is 0.4, a fractional count",
    ),
    Case(
        "list-cut-short-of-its-total",
        "config",
        config(json={"total": 10, "objects": [{"_id": f"s{i}", "name": "x"} for i in range(3)]}),
        DataError,
        "Thrio skill list (start=0): the list ended after 3 of the 10 objects it announced",
    ),
    Case(
        "page-that-never-ends",
        "config",
        config(json={"objects": [{"_id": f"s{i}", "name": "x"} for i in range(100)]}),
        DataError,
        "Thrio skill list (start=100): a full page of objects already read; the list never ends",
    ),
    # --- transport ----------------------------------------------------------------------
    Case("login-timeout", "states", login(body=requests.Timeout()), TransientError, "Thrio GET /provider"),
    Case("timeout", "volume", answer(VOLUME, body=requests.ReadTimeout()), TransientError, "timed out"),
    Case(
        "refused-connection",
        "states",
        answer(STATES, body=requests.ConnectionError("[Errno 111] Connection refused")),
        TransientError,
        "Thrio GET /wfm/api/agentstates: connection failed",
    ),
    Case(
        "server-error",
        "volume",
        answer(VOLUME, status=500, body=HTML),
        TransientError,
        "server error (HTTP 500)",
    ),
    Case(
        "login-refused", "states", login(status=401), AuthError, "Thrio login: credentials refused (HTTP 401)"
    ),
    Case("forbidden", "states", answer(STATES, status=403), AuthError, "credentials refused (HTTP 403)"),
    Case(
        "401-mid-run",
        "config",
        config(status=401),
        AuthError,
        "Thrio GET /data/api/types/skill: token refused (HTTP 401) after logging in again",
    ),
]


def run(stream: str) -> object:
    section = Section("https://login.thrio.com/", {"account": "acct", "password": PASSWORD})
    adapter = NCCAdapter(
        ConnectionSettings(key="acme/thrio", vendor="thrio", realtime=section, history=section)
    )
    if stream == "states":
        return adapter.fetch_agent_states(NOW)
    if stream == "volume":
        return adapter.fetch_volume(
            datetime(2025, 11, 20, 10, 0, tzinfo=UTC), datetime(2025, 11, 20, 11, 0, tzinfo=UTC)
        )
    return adapter.fetch_config()


@pytest.fixture(autouse=True)
def fresh_token_cache():
    forget_all()
    yield
    forget_all()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
@time_machine.travel(NOW, tick=False)
@responses.activate
def test_bad_input_gives_the_right_error_and_a_clear_message(case: Case):
    case.setup()

    with pytest.raises(VendorError) as info:
        run(case.stream)

    assert type(info.value) is case.error
    assert case.message in str(info.value)
    for secret in (TOKEN, PASSWORD):
        assert secret not in str(info.value)
        assert secret not in getattr(info.value, "sample", "")


@time_machine.travel(NOW, tick=False)
@responses.activate
def test_a_whole_count_sent_as_a_float_and_a_fractional_handle_time_are_accepted():
    answer(VOLUME, json=interval(enteredCount=3.0, sumHandleTime=100.4))()
    [record] = run("volume")
    assert (record.entered, record.handle_seconds) == (3, 100)


@time_machine.travel(NOW, tick=False)
@responses.activate
def test_429_carries_retry_after():
    answer(STATES, status=429, headers={"Retry-After": "120"})()

    with pytest.raises(TransientError) as info:
        run("states")

    assert info.value.retry_after == 120
    assert str(info.value) == "Thrio GET /wfm/api/agentstates: rate limited (HTTP 429)"


@time_machine.travel(NOW, tick=False)
@responses.activate
def test_a_custom_state_is_kept_raw_and_is_not_an_error():
    answer(STATES, json=agent(**{"agent-status": "Coaching 1:1"}))()

    (record,) = run("states").agents

    assert (record.state, record.raw_code, record.raw_label) == ("other", "Coaching 1:1", "Coaching 1:1")


@time_machine.travel(NOW, tick=False)
@responses.activate
def test_a_list_of_distinct_pages_beyond_the_maximum_is_refused(monkeypatch):
    monkeypatch.setattr(adapter_module, "MAX_PAGES", 2)
    pages = iter(range(10))

    def endless(request):
        n = next(pages)
        objects = [{"_id": f"s{n}-{i}", "name": "x"} for i in range(100)]
        return 200, {}, json.dumps({"objects": objects})

    responses.get(LOGIN, json={"token": TOKEN, "location": CLUSTER})
    responses.get(CLUSTER + "/data/api/types/queue", json={"total": 0, "objects": []})
    responses.add_callback(responses.GET, CLUSTER + "/data/api/types/skill", callback=endless)

    with pytest.raises(DataError, match="Thrio skill list: more than 2 pages; the list never ends"):
        run("config")
