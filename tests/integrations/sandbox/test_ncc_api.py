from __future__ import annotations

from datetime import UTC, datetime
from datetime import timedelta as td

import pytest

from integrations.sandbox.traffic import SLOT

from .conftest import NOON, ncc_login


@pytest.mark.parametrize("brand", ["nextiva", "thrio"])
def test_login_gives_a_token_and_this_sandbox_cluster_as_location(http, sandbox, brand):
    body = ncc_login(http, sandbox, brand)
    assert body["location"] == f"http://127.0.0.1:{sandbox.port}/{brand}/cluster"
    assert body["token"].count(".") == 2


@pytest.mark.parametrize("brand", ["nextiva", "thrio"])
def test_login_refuses_wrong_credentials(http, sandbox, brand):
    url = sandbox.base_url(brand) + "provider/token-with-authorities"
    assert http.get(url, auth=("wfm", "wrong")).status_code == 401
    assert http.get(url).status_code == 401
    # One brand's password does not open the other.
    other = "thrio" if brand == "nextiva" else "nextiva"
    assert http.get(url, auth=("wfm", f"sandbox-{other}")).status_code == 401


@pytest.mark.parametrize("scheme", ["", "Bearer "])
def test_the_token_works_raw_or_with_bearer(http, sandbox, scheme):
    login = ncc_login(http, sandbox)
    response = http.get(
        login["location"] + "/data/api/types/queue", headers={"Authorization": scheme + login["token"]}
    )
    assert response.status_code == 200
    assert [q["name"] for q in response.json()["objects"]] == ["Sales", "Service", "Billing", "Retention"]


def test_calls_without_a_good_token_are_refused(http, sandbox):
    login = ncc_login(http, sandbox)
    url = login["location"] + "/wfm/api/agentstates"
    assert http.get(url).status_code == 401
    assert http.get(url, headers={"Authorization": login["token"] + "x"}).status_code == 401
    # A token of the other brand is not valid here.
    thrio = ncc_login(http, sandbox, "thrio")
    assert http.get(url, headers={"Authorization": thrio["token"]}).status_code == 401


def test_a_token_expires_after_its_lifetime(http, sandbox, clock):
    login = ncc_login(http, sandbox)
    url, headers = login["location"] + "/wfm/api/agentstates", {"Authorization": login["token"]}
    clock.advance(minutes=29)
    assert http.get(url, headers=headers).status_code == 200
    clock.advance(minutes=1)
    response = http.get(url, headers=headers)
    assert response.status_code == 401 and response.json()["message"] == "Token expired"
    assert http.get(url, headers={"Authorization": ncc_login(http, sandbox)["token"]}).status_code == 200


def test_configuration_pages_with_start_and_rows(http, sandbox, traffic):
    login = ncc_login(http, sandbox)
    headers = {"Authorization": login["token"]}
    users, start = [], 0
    while True:
        body = http.get(
            login["location"] + "/data/api/types/user", params={"start": start, "rows": 5}, headers=headers
        ).json()
        assert body["total"] == 14
        if not body["objects"]:
            break
        assert body["count"] == len(body["objects"]) <= 5
        users += body["objects"]
        start += body["count"]
    assert [u["_id"] for u in users] == [a.id for a in traffic.agents("nextiva")]
    assert set(users[0]) == {"_id", "firstName", "lastName"}


def test_rows_are_capped_at_a_hundred(http, sandbox):
    login = ncc_login(http, sandbox)
    body = http.get(
        login["location"] + "/data/api/types/userqueue",
        params={"rows": 1000},
        headers={"Authorization": login["token"]},
    ).json()
    assert body["count"] == body["total"] == 28  # 14 agents in two queues each, under the cap
    assert {"userId", "queueId"} <= set(body["objects"][0])


def test_memberships_skills_and_users_refer_to_each_other(http, sandbox):
    login = ncc_login(http, sandbox, "thrio")
    get = lambda kind: http.get(  # noqa: E731
        login["location"] + f"/data/api/types/{kind}", headers={"Authorization": login["token"]}
    ).json()["objects"]
    users, queues = {u["_id"] for u in get("user")}, {q["_id"] for q in get("queue")}
    links = get("userqueue")
    assert {link["userId"] for link in links} == users
    assert {link["queueId"] for link in links} == queues
    assert [s["name"] for s in get("skill")] == ["English", "Spanish", "Tier 2"]
    assert (
        http.get(
            login["location"] + "/data/api/types/campaign", headers={"Authorization": login["token"]}
        ).status_code
        == 404
    )


@pytest.mark.parametrize("brand", ["nextiva", "thrio"])
def test_agent_states_are_the_truth_at_request_time(http, sandbox, traffic, clock, brand):
    login = ncc_login(http, sandbox, brand)
    url, headers = login["location"] + "/wfm/api/agentstates", {"Authorization": login["token"]}
    seen = set()
    for minutes in (0, 7, 13, 26):  # within the token's 30 minutes
        clock.now = NOON + td(minutes=minutes)
        for row in http.get(url, headers=headers).json()["agents"]:
            truth = traffic.agent_state_at(brand, row["agent-id"], clock.now)
            assert row["agent-status"] == truth.code
            assert row["timestamp"] == int(truth.since.timestamp())
            seen.add(row["agent-status"])
    assert seen <= {"Available", "Busy", "Logged out", "Logged in", "Working", "Wrapup", "No Answer", "Lunch"}
    assert {"Available", "Busy", "Logged out"} <= seen


def test_queue_intervals_are_the_closed_intervals_with_the_truth(http, sandbox, traffic):
    login = ncc_login(http, sandbox)
    start = NOON - td(hours=2)
    body = http.get(
        login["location"] + "/wfm/api/queueintervals",
        params={"start": int(start.timestamp()), "end": int((NOON + td(hours=1)).timestamp())},
        headers={"Authorization": login["token"]},
    ).json()
    rows = body["intervals"]
    # Closed intervals only: 8 of them (two hours), one row per queue each, zeros included.
    assert len(rows) == 8 * 4
    assert max(r["intervalStart"] for r in rows) == int((NOON - SLOT).timestamp())
    truth = {
        (t.queue_id, int(t.interval_start.timestamp())): t
        for t in traffic.interval_truth("nextiva", start, NOON, as_of=NOON)
    }
    for r in rows:
        t = truth[(r["queueId"], r["intervalStart"])]
        assert (r["enteredCount"], r["abandonedCount"], r["sumHandleTime"], r["queueName"]) == (
            t.entered,
            t.abandoned,
            t.handle_seconds,
            t.queue_name,
        )
    assert sum(r["enteredCount"] for r in rows) > 0


def test_recent_intervals_are_revised_until_their_calls_end(http, sandbox, traffic, clock):
    login = ncc_login(http, sandbox)
    interval = NOON - SLOT
    params = {"start": int(interval.timestamp()), "end": int(NOON.timestamp())}
    headers = {"Authorization": login["token"]}

    def handle_now() -> int:
        rows = http.get(login["location"] + "/wfm/api/queueintervals", params=params, headers=headers).json()
        return sum(r["sumHandleTime"] for r in rows["intervals"])

    early = handle_now()
    clock.advance(hours=1)
    headers["Authorization"] = ncc_login(http, sandbox)["token"]  # the first one expired meanwhile
    final = sum(t.handle_seconds for t in traffic.interval_truth("nextiva", interval, NOON))
    assert early < final == handle_now()


@pytest.mark.parametrize(
    "params",
    [
        {"end": "1749657600"},
        {"start": "1749650400"},
        {"start": "1749650400000", "end": "1749657600000"},  # milliseconds
        {"start": "soon", "end": "1749657600"},
        {"start": "1749657600", "end": "1749650400"},
        {"start": "1748000000", "end": "1749657600"},  # more than 7 days
    ],
)
def test_a_bad_interval_window_is_a_400(http, sandbox, params):
    login = ncc_login(http, sandbox)
    response = http.get(
        login["location"] + "/wfm/api/queueintervals",
        params=params,
        headers={"Authorization": login["token"]},
    )
    assert response.status_code == 400
    assert response.json()["message"]


def test_interval_starts_are_unix_seconds_on_the_grid(http, sandbox):
    login = ncc_login(http, sandbox)
    rows = http.get(
        login["location"] + "/wfm/api/queueintervals",
        params={"start": int((NOON - td(hours=1)).timestamp()), "end": int(NOON.timestamp())},
        headers={"Authorization": login["token"]},
    ).json()["intervals"]
    for r in rows:
        start = datetime.fromtimestamp(r["intervalStart"], UTC)
        assert start.minute % 15 == 0 and start.second == 0
