"""A vendor's error answer is quoted in the error (so in the run's message), scrubbed of the
connection's secrets and of anything that looks like one, and cut short: never a bare status."""

from __future__ import annotations

import pytest
import responses

from integrations.vendors.eightbyeight.client import EightByEightClient
from integrations.vendors.errors import AuthError, DataError, TransientError
from integrations.vendors.http import SAID_CHARS
from integrations.vendors.ncc.client import NCCClient, forget_all
from integrations.vendors.tcn.client import TCNClient

TOKEN = "vendor-SECRET-token-0123456789"
BASE_8X8 = "https://vcc-na10b.8x8.com/api/"
AGENTS_8X8 = BASE_8X8 + "rtstats/stats/agents.json"
LOGIN_NCC = "https://login.thrio.com/provider/token-with-authorities"
BASE_TCN = "https://api.tcn3.com/backoffice/"
TCN_STATUS = "https://api.tcn3.com/backoffice/AgentSummary"


@pytest.fixture(autouse=True)
def fresh_token_cache():
    forget_all()
    yield
    forget_all()


def call_8x8() -> None:
    EightByEightClient(BASE_8X8, "acme", TOKEN).agents()


def call_nextiva() -> None:
    NCCClient("acme/ncc", "https://login.thrio.com/", "wfm", TOKEN).config_page("queue", 0, 10)


def call_tcn() -> None:
    TCNClient(BASE_TCN, TOKEN).post("backoffice/AgentSummary")


VENDORS = [
    pytest.param(AGENTS_8X8, "GET", call_8x8, id="8x8"),
    pytest.param(LOGIN_NCC, "GET", call_nextiva, id="nextiva"),
    pytest.param(TCN_STATUS, "POST", call_tcn, id="tcn"),
]


@responses.activate
@pytest.mark.parametrize(("url", "method", "call"), VENDORS)
@pytest.mark.parametrize(
    ("status", "error"), [(400, DataError), (422, DataError), (429, TransientError), (503, TransientError)]
)
def test_the_vendors_answer_is_in_the_message_without_the_secrets_it_echoed(url, method, call, status, error):
    body = f'{{"error": "range longer than 7 days", "you sent": "{TOKEN}", "password": "hunter2-pass"}}'
    responses.add(method, url, status=status, body=body)
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    assert f"HTTP {status}" in message
    assert "range longer than 7 days" in message
    assert TOKEN not in message
    assert "hunter2-pass" not in message
    if isinstance(info.value, DataError):
        assert TOKEN not in info.value.sample and "hunter2-pass" not in info.value.sample


@responses.activate
@pytest.mark.parametrize(("url", "method", "call"), VENDORS[:2])
def test_a_refused_login_quotes_the_answer_without_the_secret(url, method, call):
    responses.add(method, url, status=401, body=f"token {TOKEN} is not valid for tenant acme")
    with pytest.raises(AuthError) as info:
        call()
    assert str(info.value).endswith('(HTTP 401): it said "token [redacted] is not valid for tenant acme"')


@responses.activate
def test_a_long_answer_is_cut_short_on_one_line():
    responses.get(AGENTS_8X8, status=400, body="<html>\n<body>\n" + "no such range " * 100 + "</body></html>")
    with pytest.raises(DataError) as info:
        call_8x8()
    quoted = str(info.value).split(": it said ", 1)[1]
    assert len(quoted) <= SAID_CHARS + 2  # the quotes
    assert "\n" not in quoted and quoted.endswith('…"')


@responses.activate
def test_an_empty_answer_gives_the_status_alone():
    responses.get(AGENTS_8X8, status=400, body="")
    with pytest.raises(DataError) as info:
        call_8x8()
    assert str(info.value) == "8x8 GET /api/rtstats/stats/agents.json: HTTP 400"
