"""NCC / Thrio login: the token and cluster, the Authorization form, caching and re-login."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import responses
from responses import matchers

from integrations.vendors.base import ConnectionSettings, Section
from integrations.vendors.errors import AuthError, DataError
from integrations.vendors.ncc.adapter import NCCAdapter
from integrations.vendors.ncc.client import forget_all

FIXTURES = Path(__file__).parent / "fixtures" / "ncc"
LOGIN = "https://login.thrio.com/provider/token-with-authorities"
CLUSTER = "https://nv7.thrio.io"
QUEUES = CLUSTER + "/data/api/types/queue"
PASSWORD = "nextiva-SECRET-password"
LOGIN_BODY = json.loads((FIXTURES / "login.json").read_text())
TOKEN = LOGIN_BODY["token"]
EMPTY = {"count": 0, "total": 0, "objects": []}


@pytest.fixture(autouse=True)
def fresh_token_cache():
    forget_all()
    yield
    forget_all()


def adapter(vendor: str = "nextiva", realtime: dict | None = None, history: dict | None = None) -> NCCAdapter:
    login = {"nextiva": {"username": "wfm"}, "thrio": {"account": "acct"}}[vendor]
    rt = {**login, "password": PASSWORD, **(realtime or {})}
    return NCCAdapter(
        ConnectionSettings(
            key="acme/ncc",
            vendor=vendor,
            realtime=Section("https://login.thrio.com/", rt),
            history=Section("https://login.thrio.com/", {**rt, **(history or {})}),
        )
    )


def basic(user: str, password: str) -> dict:
    import base64

    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def serve_config(url_base: str = CLUSTER, match: list | None = None) -> None:
    for kind in ("queue", "skill", "user", "userqueue"):
        responses.get(f"{url_base}/data/api/types/{kind}", json=EMPTY, match=match or [])


def auth_calls(url: str) -> list[str]:
    return [c.request.headers["Authorization"] for c in responses.calls if c.request.url.startswith(url)]


@responses.activate
def test_it_logs_in_with_basic_and_sends_the_raw_token_to_the_location():
    responses.get(LOGIN, json=LOGIN_BODY, match=[matchers.header_matcher(basic("wfm", PASSWORD))])
    serve_config(match=[matchers.header_matcher({"Authorization": TOKEN})])

    adapter().fetch_config()

    assert auth_calls(CLUSTER) == [TOKEN] * 4
    assert len(responses.calls) == 5  # one login for four lists


@responses.activate
def test_thrio_logs_in_with_the_account_and_a_bare_host_location_means_https():
    body = json.loads((FIXTURES / "login_bare_host.json").read_text())
    responses.get(LOGIN, json=body, match=[matchers.header_matcher(basic("acct", PASSWORD))])
    serve_config("https://tr2.thrio.io")

    adapter("thrio").fetch_config()

    assert all(c.request.url.startswith(("https://tr2.thrio.io/", LOGIN)) for c in responses.calls)


def test_thrio_history_logs_in_with_the_username_and_falls_back_to_the_account():
    from integrations.vendors.ncc.vendor import Thrio

    assert Thrio.login_name("history", {"account": "acct", "username": "hist"}) == "hist"
    assert Thrio.login_name("history", {"account": "acct"}) == "acct"
    assert Thrio.login_name("realtime", {"account": "acct", "username": "hist"}) == "acct"


@responses.activate
def test_when_the_raw_token_is_refused_it_tries_bearer_once_and_remembers():
    responses.get(LOGIN, json=LOGIN_BODY)
    for kind in ("queue", "skill", "user", "userqueue"):
        url = f"{CLUSTER}/data/api/types/{kind}"
        responses.get(url, status=401, match=[matchers.header_matcher({"Authorization": TOKEN})])
        responses.get(url, json=EMPTY, match=[matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"})])

    adapter().fetch_config()
    adapter().fetch_config()  # a second run uses the cached token and the form that worked

    assert auth_calls(CLUSTER) == [TOKEN] + [f"Bearer {TOKEN}"] * 8
    assert [c.request.url for c in responses.calls].count(LOGIN) == 1


@responses.activate
def test_an_expired_token_means_one_new_login_and_the_run_goes_on():
    responses.get(LOGIN, json=LOGIN_BODY)
    responses.get(LOGIN, json={**LOGIN_BODY, "token": "eyJ.second.token"})
    serve_config()
    adapter().fetch_config()  # caches the token and the raw form
    responses.replace(
        responses.GET, QUEUES, status=401, match=[matchers.header_matcher({"Authorization": TOKEN})]
    )
    responses.add(
        responses.GET,
        QUEUES,
        json=EMPTY,
        match=[matchers.header_matcher({"Authorization": "eyJ.second.token"})],
    )

    adapter().fetch_config()

    assert [c.request.url for c in responses.calls].count(LOGIN) == 2
    assert auth_calls(CLUSTER)[4:] == [TOKEN] + ["eyJ.second.token"] * 4


@responses.activate
def test_a_token_refused_after_logging_in_again_is_an_auth_error():
    responses.get(LOGIN, json=LOGIN_BODY)
    responses.get(QUEUES, status=401)

    with pytest.raises(AuthError) as info:
        adapter().fetch_config()

    assert (
        str(info.value)
        == "Nextiva Contact Center GET /data/api/types/queue: token refused (HTTP 401) after logging in again"
    )
    # raw, Bearer; log in again; raw, Bearer; then give up (never a third login).
    assert [c.request.url.split("?")[0] for c in responses.calls] == [
        LOGIN,
        QUEUES,
        QUEUES,
        LOGIN,
        QUEUES,
        QUEUES,
    ]
    assert TOKEN not in str(info.value) and PASSWORD not in str(info.value)


@responses.activate
def test_a_refused_login_is_an_auth_error_without_the_password():
    responses.get(LOGIN, status=401, body=f"bad password {PASSWORD}")

    with pytest.raises(AuthError) as info:
        adapter().fetch_config()

    assert str(info.value) == (
        'Nextiva Contact Center login: credentials refused (HTTP 401): it said "bad password [redacted]"'
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"location": CLUSTER}, "the answer has no 'token'"),
        ({"token": TOKEN}, "the answer has no 'location'"),
        ({"token": TOKEN, "location": "http://nv7.thrio.io"}, "'location' downgrades to plain http"),
        ({"token": TOKEN, "location": "ftp://nv7.thrio.io"}, "is not a URL or host name"),
        ([TOKEN], "expected a JSON object, got list"),
    ],
)
@responses.activate
def test_a_malformed_login_answer_is_a_data_error(body, message):
    responses.get(LOGIN, json=body)

    with pytest.raises(DataError) as info:
        adapter().fetch_config()

    assert message in str(info.value)
    assert TOKEN not in str(info.value)


@responses.activate
def test_a_changed_password_is_not_served_from_the_old_cached_token():
    responses.get(LOGIN, json=LOGIN_BODY)
    serve_config()

    adapter().fetch_config()
    adapter(realtime={"password": "a-new-password"}).fetch_config()

    assert [c.request.url for c in responses.calls].count(LOGIN) == 2
