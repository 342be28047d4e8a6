from __future__ import annotations

import json

import pytest
import requests

from integrations.sandbox.faults import FaultBoard, FaultError

from .conftest import EIGHT_AUTH, TCN_AUTH, ncc_login


def _call(http, sandbox, vendor: str, timeout: float = 5.0) -> requests.Response:
    """One ordinary, authenticated request to `vendor`."""
    if vendor == "8x8":
        return http.get(
            sandbox.base_url("8x8") + "rtstats/stats/agents.json", auth=EIGHT_AUTH, timeout=timeout
        )
    if vendor == "tcn":
        return http.post(sandbox.base_url("tcn") + "AgentSummary", headers=TCN_AUTH, timeout=timeout)
    return http.get(
        sandbox.base_url(vendor) + "provider/token-with-authorities",
        auth=("wfm", f"sandbox-{vendor}"),
        timeout=timeout,
    )


def _control(http, sandbox, **payload) -> requests.Response:
    return http.post(sandbox.root_url + "/_control/faults", data=json.dumps(payload))


VENDORS = ["8x8", "nextiva", "thrio", "tcn"]


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_500_fault_answers_an_html_error_page(http, sandbox, vendor):
    assert _control(http, sandbox, vendor=vendor, fault="500").status_code == 200
    response = _call(http, sandbox, vendor)
    assert response.status_code == 500 and "<html>" in response.text.lower()
    other = next(v for v in VENDORS if v != vendor)
    assert _call(http, sandbox, other).status_code == 200  # faults are per vendor


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_429_fault_says_when_to_retry(http, sandbox, vendor):
    _control(http, sandbox, vendor=vendor, fault="429", retry_after=17)
    response = _call(http, sandbox, vendor)
    assert (response.status_code, response.headers["Retry-After"]) == (429, "17")


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_slow_fault_delays_the_answer_past_a_client_timeout(http, sandbox, vendor):
    sandbox.faults.set(vendor, "slow", delay=0.5)
    with pytest.raises(requests.Timeout):
        _call(http, sandbox, vendor, timeout=0.1)
    sandbox.faults.set(vendor, None)
    assert _call(http, sandbox, vendor, timeout=5).status_code == 200


@pytest.mark.parametrize("vendor", ["8x8", "nextiva", "thrio"])
def test_an_invalid_token_fault_refuses_with_401(http, sandbox, vendor):
    sandbox.faults.set(vendor, "invalid_token")
    assert _call(http, sandbox, vendor).status_code == 401


def test_an_invalid_or_expired_token_on_tcn_is_the_invalid_login_body(http, sandbox):
    for fault in ("invalid_token", "expired_token"):
        sandbox.faults.set("tcn", fault)
        response = _call(http, sandbox, "tcn")
        assert (response.status_code, response.text) == (400, "Invalid Login Information!")


def test_an_invalid_token_fault_refuses_tokens_already_issued(http, sandbox):
    login = ncc_login(http, sandbox)
    sandbox.faults.set("nextiva", "invalid_token")
    response = http.get(login["location"] + "/wfm/api/agentstates", headers={"Authorization": login["token"]})
    assert response.status_code == 401


def test_an_expired_token_fault_expires_issued_tokens_but_a_new_login_works(http, sandbox):
    login = ncc_login(http, sandbox, "thrio")
    url = login["location"] + "/wfm/api/agentstates"
    _control(http, sandbox, vendor="thrio", fault="expired_token")
    response = http.get(url, headers={"Authorization": login["token"]})
    assert response.status_code == 401 and response.json()["message"] == "Token expired"
    fresh = ncc_login(http, sandbox, "thrio")
    assert http.get(url, headers={"Authorization": fresh["token"]}).status_code == 200


def test_an_expired_token_fault_on_8x8_is_a_401(http, sandbox):
    sandbox.faults.set("8x8", "expired_token")
    assert _call(http, sandbox, "8x8").status_code == 401


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_malformed_fault_breaks_the_json_body(http, sandbox, vendor):
    sandbox.faults.set(vendor, "malformed")
    response = _call(http, sandbox, vendor)
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()


def test_a_malformed_fault_on_a_text_answer_serves_an_html_page(http, sandbox):
    sandbox.faults.set("tcn", "malformed")
    response = http.post(sandbox.base_url("tcn") + "RemoteAgentSkillsList", headers=TCN_AUTH)
    assert response.status_code == 200 and response.text.startswith("<html>")


def test_the_control_endpoint_shows_and_clears_faults(http, sandbox):
    _control(http, sandbox, vendor="nextiva", fault="429", retry_after=3)
    shown = http.get(sandbox.root_url + "/_control/faults").json()["faults"]
    assert shown["nextiva"] == {"fault": "429", "retry_after": 3, "delay": 3.0}
    assert shown["8x8"] is None
    _control(http, sandbox, vendor="nextiva", fault=None)
    assert http.get(sandbox.root_url + "/_control/faults").json()["faults"]["nextiva"] is None
    assert _call(http, sandbox, "nextiva").status_code == 200


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"vendor": "genesys", "fault": "500"}, "unknown vendor"),
        ({"vendor": "8x8", "fault": "boom"}, "unknown fault"),
        ({"vendor": "8x8"}, "required"),
        ({"vendor": "8x8", "fault": "missing_file"}, "tcn only"),
        ({"vendor": "8x8", "fault": "429", "retry_after": -1}, "retry_after"),
        ({"vendor": "8x8", "fault": "slow", "delay": "long"}, "delay"),
        ({"vendor": "8x8", "fault": "500", "colour": "red"}, "unknown field"),
    ],
)
def test_a_bad_control_request_is_a_400_naming_the_problem(http, sandbox, payload, message):
    response = _control(http, sandbox, **payload)
    assert response.status_code == 400 and message in response.json()["error"]
    assert all(v is None for v in sandbox.faults.snapshot().values())


def test_a_control_body_that_is_not_json_is_a_400(http, sandbox):
    response = http.post(sandbox.root_url + "/_control/faults", data=b"fault=500")
    assert response.status_code == 400


def test_the_python_api_refuses_unknown_faults():
    board = FaultBoard()
    with pytest.raises(FaultError):
        board.set("tcn", "explode")
    board.set("tcn", "missing_file")
    assert board.is_set("tcn", "missing_file")
    board.clear()
    assert board.get("tcn") is None
