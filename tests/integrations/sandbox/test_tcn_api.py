from __future__ import annotations

import csv
import io
from datetime import timedelta as td

import pytest

from integrations.sandbox.traffic import VENDOR_STATES

from .conftest import NOON, TCN_AUTH

GROUPS = {"readyAgents", "onCallAgents", "wrapUpAgents", "pausedAgents", "otherStatusAgents"}


def test_the_agent_list_is_a_csv_of_every_agent(http, sandbox, traffic):
    response = http.post(sandbox.base_url("tcn") + "RemoteAgentList", headers=TCN_AUTH)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["agentSid"] for r in rows] == [a.id for a in traffic.agents("tcn")]
    assert rows[0]["firstName"] and rows[0]["lastName"] and rows[0]["webLogin"]
    assert {r["huntGroupName"] for r in rows} == {"Sales", "Service", "Collections"}


def test_the_skills_list_is_the_documented_sentence(http, sandbox):
    response = http.post(sandbox.base_url("tcn") + "RemoteAgentSkillsList", headers=TCN_AUTH)
    assert response.status_code == 200
    assert response.text == "Agent Skills: Sales, Service, Collections"


def test_agent_status_groups_agents_as_the_traffic_says(http, sandbox, traffic, clock):
    seen = set()
    for minutes in (0, 5, 11, 23, 47):
        clock.now = NOON + td(minutes=minutes)
        response = http.post(sandbox.base_url("tcn") + "AgentSummary", headers=TCN_AUTH)
        detail = response.json()["resultDetail"]
        assert set(detail) == GROUPS | {"totalLoggedInAgents"}
        listed = {a["agentSid"]: group for group in GROUPS for a in detail[group]}
        assert detail["totalLoggedInAgents"] == len(listed)
        for agent in traffic.agents("tcn"):
            truth = traffic.agent_state_at("tcn", agent.id, clock.now).code
            assert listed.get(agent.id) == truth  # None: logged out, listed nowhere
        seen |= set(listed.values())
    assert {"readyAgents", "onCallAgents"} <= seen


def test_every_activity_maps_to_a_documented_group():
    assert {g for g in VENDOR_STATES["tcn"].values() if g is not None} == GROUPS


def test_the_token_may_come_as_the_api_key_field(http, sandbox):
    response = http.post(
        sandbox.base_url("tcn") + "AgentSummary", data={"apiKey": "sandbox-tcn-token", "clientSid": "9"}
    )
    assert response.status_code == 200 and "resultDetail" in response.json()


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"headers": {"Authorization": "Bearer wrong"}},
        {"data": {"apiKey": "wrong"}},
        {"data": {"username": "wfm", "password": "sandbox-tcn-token"}},
        {"headers": {"Authorization": "Basic c2FuZGJveC10Y24tdG9rZW4="}},
    ],
)
@pytest.mark.parametrize("function", ["RemoteAgentList", "RemoteAgentSkillsList", "AgentSummary"])
def test_a_wrong_token_gets_the_documented_invalid_login_body(http, sandbox, kwargs, function):
    response = http.post(sandbox.base_url("tcn") + function, **kwargs)
    assert (response.status_code, response.text) == (400, "Invalid Login Information!")


def test_a_get_or_an_unknown_function_is_a_bad_request(http, sandbox):
    assert (
        http.get(sandbox.base_url("tcn") + "AgentSummary", headers=TCN_AUTH).text
        == "HTTPS Status 400: Bad Request!"
    )
    response = http.post(sandbox.base_url("tcn") + "NoSuchFunction", headers=TCN_AUTH)
    assert (response.status_code, response.text) == (400, "HTTPS Status 400: Bad Request!")
