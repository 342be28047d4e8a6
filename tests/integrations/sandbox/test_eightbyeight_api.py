from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from datetime import timedelta as td

import pytest

from integrations.sandbox.traffic import SLOT, slot_start

from .conftest import EIGHT_AUTH, NOON


def _all_records(http, sandbox, queue_id: str, d: str) -> tuple[list[dict], int]:
    url = sandbox.base_url("8x8") + f"stats/queues/{queue_id}/interactions.json"
    records, n, pages = [], 1, 0
    while True:
        body = http.get(url, params={"d": d, "n": n}, auth=EIGHT_AUTH).json()
        if body["statistics"] == "":
            return records, pages
        page = body["statistics"]["statistic"]
        assert 0 < len(page) <= 50
        records += page
        n += len(page)
        pages += 1


def test_it_lists_every_agent_with_the_state_the_traffic_says(http, sandbox, traffic):
    body = http.get(sandbox.base_url("8x8") + "rtstats/stats/agents.json", auth=EIGHT_AUTH).json()
    assert [a["agent-id"] for a in body["agent"]] == [a.id for a in traffic.agents("8x8")]
    for row in body["agent"]:
        truth = traffic.agent_state_at("8x8", row["agent-id"], NOON)
        assert row["agent-status"] == truth.code
        assert row["time-in-status"] == int((NOON - truth.since).total_seconds())
        assert isinstance(row["group-id"], int) and row["agent-name"]
    assert {row["agent-status"] for row in body["agent"]} - {0, 1, 2, 3, 4, 5, 9} == set()


def test_agent_states_follow_the_clock(http, sandbox, traffic, clock):
    agent = traffic.agents("8x8")[0]
    changes = traffic.agent_states_between("8x8", agent.id, NOON - td(hours=2), NOON)
    assert len(changes) > 5
    for state in changes[1:6]:
        clock.now = state.since
        rows = http.get(sandbox.base_url("8x8") + "rtstats/stats/agents.json", auth=EIGHT_AUTH).json()[
            "agent"
        ]
        row = next(r for r in rows if r["agent-id"] == agent.id)
        assert (row["agent-status"], row["time-in-status"]) == (state.code, 0)


def test_it_lists_the_queues(http, sandbox):
    body = http.get(sandbox.base_url("8x8") + "rtstats/stats/queues.json", auth=EIGHT_AUTH).json()
    assert body == {
        "queue": [
            {"queue-id": 103, "queue-name": "Appointments"},
            {"queue-id": 104, "queue-name": "Billing"},
            {"queue-id": 105, "queue-name": "Support"},
        ]
    }


def test_interaction_records_of_a_past_day_add_up_to_the_truth_per_interval(http, sandbox, traffic):
    records, pages = _all_records(http, sandbox, "105", "20250610,20250610")
    assert pages > 2  # a busy queue's day spans several pages of 50
    assert len({r["transaction-id"] for r in records}) == len(records)
    got = defaultdict(lambda: [0, 0, 0])
    for r in records:
        assert r["queue-id"] == "105"
        start = slot_start(datetime.fromtimestamp(r["time-entered"] / 1000, UTC))
        got[start][0] += 1
        got[start][1] += r["abandoned"] == "Y"
        got[start][2] += int(r["processtime"]) + int(r["postprocess"])
    # 2025-06-10 in Chicago is 05:00 UTC that day to 05:00 UTC the next.
    day_start = datetime(2025, 6, 10, 5, tzinfo=UTC)
    truth = [
        t for t in traffic.interval_truth("8x8", day_start, day_start + td(days=1)) if t.queue_id == "105"
    ]
    assert len(truth) == 96
    for t in truth:
        assert tuple(got.get(t.interval_start, [0, 0, 0])) == (t.entered, t.abandoned, t.handle_seconds)


def test_records_are_in_entry_order_across_pages(http, sandbox):
    records, _pages = _all_records(http, sandbox, "103", "20250610")
    entered = [r["time-entered"] for r in records]
    assert entered == sorted(entered)


def test_recent_interactions_show_only_ended_calls_with_lagging_columns(http, sandbox, traffic):
    records, _pages = _all_records(http, sandbox, "105", "today")
    calls = {c.call_id: c for c in traffic.calls_between("8x8", "105", NOON - td(hours=12), NOON)}
    assert records, "a Wednesday morning has calls"
    lagging = 0
    for r in records:
        call = calls[r["transaction-id"]]
        assert call.ended_at <= NOON
        if call.abandoned:
            assert (r["processtime"], r["postprocess"]) == ("0", "0")
        elif NOON - call.answered_at < td(hours=1):
            assert (r["processtime"], r["postprocess"]) == ("", "")
            lagging += 1
        else:
            assert int(r["processtime"]) == call.talk_seconds and int(r["postprocess"]) == call.wrap_seconds
    assert lagging > 0
    in_progress = [c for c in calls.values() if c.ended_at > NOON]
    assert in_progress and not {c.call_id for c in in_progress} & {r["transaction-id"] for r in records}


def test_a_page_past_the_end_and_a_future_day_are_an_empty_string(http, sandbox):
    url = sandbox.base_url("8x8") + "stats/queues/104/interactions.json"
    assert http.get(url, params={"d": "20250610", "n": 100000}, auth=EIGHT_AUTH).json() == {"statistics": ""}
    assert http.get(url, params={"d": "20250620"}, auth=EIGHT_AUTH).json() == {"statistics": ""}


def test_relative_days_mean_the_tenant_calendar(http, sandbox):
    url = sandbox.base_url("8x8") + "stats/queues/105/interactions.json"
    relative = http.get(url, params={"d": "today-1d"}, auth=EIGHT_AUTH).json()
    absolute = http.get(url, params={"d": "20250610,20250610"}, auth=EIGHT_AUTH).json()
    assert relative == absolute


@pytest.mark.parametrize("d", ["yesterday", "2025-06-10", "20250611,20250610", "20250101,20250301", "1,2,3"])
def test_a_bad_day_range_is_a_400(http, sandbox, d):
    url = sandbox.base_url("8x8") + "stats/queues/105/interactions.json"
    response = http.get(url, params={"d": d}, auth=EIGHT_AUTH)
    assert response.status_code == 400


def test_an_unknown_queue_is_a_404(http, sandbox):
    url = sandbox.base_url("8x8") + "stats/queues/999/interactions.json"
    assert http.get(url, params={"d": "today"}, auth=EIGHT_AUTH).status_code == 404


@pytest.mark.parametrize(
    "auth",
    [
        None,
        ("demo", "wrong-token"),
        ("other-tenant", "sandbox-8x8-token"),
        ("demo", ""),
        ("demo+", "sandbox-8x8-token"),
        ("demo+x", "sandbox-8x8-token"),
        ("demo+1+2", "sandbox-8x8-token"),
        ("other+1", "sandbox-8x8-token"),
        ("demo+1", "wrong-token"),
    ],
)
def test_it_refuses_anything_but_the_tenant_and_token(http, sandbox, auth):
    for path in (
        "rtstats/stats/agents.json",
        "rtstats/stats/queues.json",
        "stats/queues/105/interactions.json",
    ):
        response = http.get(sandbox.base_url("8x8") + path, auth=auth)
        assert response.status_code == 401
        assert "agent" not in response.text


def test_credentials_given_to_the_server_replace_the_defaults(http, clock):
    from integrations.sandbox.server import SandboxServer

    creds = {"8x8": {"tenant": "acme", "token": "s3cret"}}
    with SandboxServer("127.0.0.1", 0, clock=clock, credentials=creds) as server:
        url = server.base_url("8x8") + "rtstats/stats/queues.json"
        assert http.get(url, auth=("acme", "s3cret")).status_code == 200
        assert http.get(url, auth=EIGHT_AUTH).status_code == 401


def test_intervals_are_aligned_to_the_utc_grid():
    assert slot_start(datetime(2025, 6, 11, 17, 14, 59, tzinfo=UTC)) == datetime(
        2025, 6, 11, 17, 0, tzinfo=UTC
    )
    assert td(minutes=15) == SLOT


def test_a_variant_tenant_sees_the_same_agents_living_a_stable_shift_behind(http, sandbox, traffic):
    # bench/e2e.py: a thousand accounts on one roster changed state in the same second.
    from integrations.sandbox.eightbyeight import variant_shift

    url = sandbox.base_url("8x8") + "rtstats/stats/agents.json"
    shifts = [variant_shift(n) for n in range(1, 101)]
    assert all(td(0) <= s < td(hours=1) for s in shifts)
    assert len({int(s.total_seconds() // 60) for s in shifts}) > 45  # spread over the hour
    for n in (0, 17):
        body = http.get(url, auth=(f"demo+{n}", "sandbox-8x8-token")).json()
        assert [a["agent-id"] for a in body["agent"]] == [a.id for a in traffic.agents("8x8")]
        for row in body["agent"]:
            truth = traffic.agent_state_at("8x8", row["agent-id"], NOON - variant_shift(n))
            assert row["agent-status"] == truth.code
            assert row["time-in-status"] == int((NOON - variant_shift(n) - truth.since).total_seconds())
    assert variant_shift(0) == td(0)
