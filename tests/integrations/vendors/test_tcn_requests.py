"""How requests reach TCN: URL joining, the token in two places, clientSid."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest
import responses

from integrations.vendors.base import ConnectionSettings, Section
from integrations.vendors.tcn.adapter import TCNAdapter
from integrations.vendors.tcn.client import join_url
from integrations.vendors.tcn.vendor import TCN

TOKEN = "tcn-token-0123456789abcdef"


@pytest.mark.parametrize(
    "base",
    [
        "https://api.tcn3.com/backoffice/",
        "https://api.tcn3.com/backoffice",
        "https://api.tcn3.com/",
        "https://api.tcn3.com",
        "https://api.tcn3.com/Backoffice/",
    ],
)
def test_the_access_name_joins_the_base_url_without_doubling_backoffice(base):
    assert join_url(base, "backoffice/AgentSummary").lower() == "https://api.tcn3.com/backoffice/agentsummary"


def test_a_base_url_with_a_prefix_keeps_it():
    assert (
        join_url("http://127.0.0.1:8765/tcn/backoffice/", "backoffice/RemoteAgentList")
        == "http://127.0.0.1:8765/tcn/backoffice/RemoteAgentList"
    )


def make(base: str, client_sid: str = "") -> TCNAdapter:
    values = {"access_token": TOKEN, **({"client_sid": client_sid} if client_sid else {})}
    section = Section(base, values)
    return TCNAdapter(
        ConnectionSettings(
            key="acme/tcn", vendor="tcn", realtime=section, history=section, options=dict(TCN.default_options)
        )
    )


@pytest.mark.parametrize("base", ["https://api.tcn3.com/backoffice/", "https://api.tcn3.com/"])
@responses.activate
def test_it_posts_the_token_as_bearer_and_api_key_with_client_sid(base):
    call = responses.post("https://api.tcn3.com/backoffice/RemoteAgentSkillsList", body="Agent Skills: A")
    make(base, client_sid="4242").fetch_skills()
    request = call.calls[0].request
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert parse_qs(request.body) == {"apiKey": [TOKEN], "clientSid": ["4242"]}


@responses.activate
def test_it_sends_no_client_sid_when_the_connection_has_none():
    call = responses.post("https://api.tcn3.com/backoffice/RemoteAgentSkillsList", body="Agent Skills: A")
    make("https://api.tcn3.com/backoffice/").fetch_skills()
    assert parse_qs(call.calls[0].request.body) == {"apiKey": [TOKEN]}


@responses.activate
def test_check_calls_the_skills_list_and_says_what_it_checked():
    responses.post("https://api.tcn3.com/backoffice/RemoteAgentSkillsList", body="There are no agent skills.")
    checked = make("https://api.tcn3.com/backoffice/").check()
    assert checked == ["access token accepted by backoffice/RemoteAgentSkillsList (0 agent skills)"]


def test_the_adapter_repr_never_shows_the_token():
    assert TOKEN not in repr(make("https://api.tcn3.com/").client)
