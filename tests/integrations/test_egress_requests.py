"""Every vendor request passes the egress policy over a real socket (a server on 127.0.0.1).

The clients are the real ones; only the resolver is replaced (`fake_dns`), so a name such as
`rebind.example` can point at the local server.
"""

from __future__ import annotations

import pytest
import requests
import responses

from integrations.egress import EgressError, egress_session
from integrations.vendors.eightbyeight.client import EightByEightClient
from integrations.vendors.errors import DataError, EgressRefused
from integrations.vendors.http import EXCERPT_CHARS, excerpt
from integrations.vendors.tcn.client import TCNClient
from tests.integrations.egresskit import INTERNAL_BODY

TOKEN = "tcn-token-0123456789abcdef"
SKILLS = (200, {}, "Agent Skills: Sales, Support")


@pytest.fixture
def sandbox_allowed(settings):
    settings.VENDOR_EGRESS_ALLOW = ["127.0.0.1/32"]


def tcn(base_url: str) -> TCNClient:
    return TCNClient(base_url, TOKEN)


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "[::1]", "0.0.0.0", "2130706433", "[::ffff:127.0.0.1]"]
)
def test_a_request_to_an_inward_address_is_refused_before_anything_is_sent(internal, host):
    with pytest.raises(EgressRefused) as refused:
        tcn(internal.url("/backoffice/", host=host)).post("backoffice/RemoteAgentSkills")
    message = str(refused.value)
    assert host.strip("[]") in message and "egress policy" in message
    assert INTERNAL_BODY not in message
    assert internal.received == []


def test_a_dns_name_that_resolves_to_loopback_is_refused(internal, fake_dns):
    fake_dns.names["rebind.example"] = ["127.0.0.1"]
    with pytest.raises(EgressRefused, match=r"rebind\.example resolves to .*loopback"):
        tcn(internal.url("/backoffice/", host="rebind.example")).post("backoffice/RemoteAgentSkills")
    assert internal.received == []


def test_the_allow_list_lets_the_sandbox_through(internal, sandbox_allowed):
    internal.answer = lambda path: SKILLS
    response = tcn(internal.url("/backoffice/")).post("backoffice/RemoteAgentSkills")
    assert response.text == "Agent Skills: Sales, Support"
    assert [r.path for r in internal.received] == ["/backoffice/RemoteAgentSkills"]


def test_the_host_is_resolved_once_and_the_vetted_address_is_used(internal, settings, monkeypatch):
    # Allowed on its first answer, the name would rebind to the metadata service on a second
    # lookup: there must be none. A lookup urllib3 made itself would not even find the name
    # (it asks the real resolver), so reaching the internal proves it connected to the vetted address.
    settings.VENDOR_EGRESS_ALLOW = ["127.0.0.1/32"]
    answers = iter([["127.0.0.1"], ["169.254.169.254"]])
    lookups = []

    def rebinding(host, port):
        lookups.append(host)
        return next(answers)

    monkeypatch.setattr("integrations.egress.resolve", rebinding)
    internal.answer = lambda path: SKILLS
    tcn(internal.url("/backoffice/", host="rebind.example")).post("backoffice/RemoteAgentSkills")
    assert lookups == ["rebind.example"]
    # The request still names the host it was meant for.
    assert internal.received[0].headers["Host"] == f"rebind.example:{internal.port}"


def test_a_credentialed_307_to_another_host_is_not_followed(internal, elsewhere, sandbox_allowed):
    internal.answer = lambda path: (307, {"Location": elsewhere.url("/collect")}, "moved")
    with pytest.raises(EgressRefused) as refused:
        tcn(internal.url("/backoffice/")).post("backoffice/RemoteAgentSkills")
    assert f"another origin, http://127.0.0.1:{elsewhere.port}" in str(refused.value)
    # The token went to the host it was meant for, and nowhere else.
    assert TOKEN in internal.received[0].body
    assert elsewhere.received == []


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_no_redirect_to_another_origin_is_followed(internal, elsewhere, sandbox_allowed, status):
    internal.answer = lambda path: (status, {"Location": elsewhere.url("/elsewhere")}, "")
    client = EightByEightClient(internal.url("/api/"), "acme", "8x8-token-0123456789abcdef")
    with pytest.raises(EgressRefused, match="redirected to another origin"):
        client.agents()
    assert elsewhere.received == []


def test_a_public_host_redirecting_to_loopback_is_refused_and_loopback_never_asked(internal):
    with responses.RequestsMock() as mock:
        mock.add_passthru("http://127.0.0.1")
        mock.post(
            "https://api.tcn3.com/backoffice/RemoteAgentSkills",
            status=302,
            headers={"Location": internal.url("/internal")},
        )
        with pytest.raises(EgressRefused, match=rf"another origin, http://127\.0\.0\.1:{internal.port}"):
            tcn("https://api.tcn3.com/backoffice/").post("backoffice/RemoteAgentSkills")
    assert internal.received == []


def test_a_same_origin_redirect_is_followed(internal, sandbox_allowed):
    def answer(path):
        if path == "/backoffice/RemoteAgentSkills":
            return 308, {"Location": "/v2/backoffice/RemoteAgentSkills"}, ""
        return SKILLS

    internal.answer = answer
    response = tcn(internal.url("/backoffice/")).post("backoffice/RemoteAgentSkills")
    assert response.text == SKILLS[2]
    assert [r.path for r in internal.received] == [
        "/backoffice/RemoteAgentSkills",
        "/v2/backoffice/RemoteAgentSkills",
    ]


def test_a_proxy_cannot_bypass_the_policy(internal, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", internal.url())
    session = egress_session()
    # The environment's proxy is ignored: the request is vetted (and refused) itself.
    with pytest.raises(EgressError, match="loopback"):
        session.get("http://127.0.0.1:9/")
    with pytest.raises(EgressError, match="proxy"):
        session.get("http://93.184.215.14/", proxies={"http": internal.url()})
    assert internal.received == []


def test_credentials_in_a_request_url_are_refused(internal, sandbox_allowed):
    with pytest.raises(EgressError, match="credentials in the URL"):
        egress_session().get(internal.url("/", host="user:pass@127.0.0.1"))
    assert internal.received == []


def test_a_vendor_answer_kept_on_an_error_is_a_short_scrubbed_excerpt(internal, sandbox_allowed):
    long_body = f"error for apiKey={TOKEN} " + "x" * 2000
    internal.answer = lambda path: (400, {}, long_body)
    with pytest.raises(DataError) as failed:
        tcn(internal.url("/backoffice/")).post("backoffice/RemoteAgentSkills")
    sample = failed.value.sample
    assert 0 < len(sample) <= EXCERPT_CHARS
    assert TOKEN not in sample and sample.startswith("error for apiKey=[redacted]")


def test_an_excerpt_is_empty_for_an_answer_from_another_origin():
    response = requests.Response()
    response.status_code = 200
    response._content = INTERNAL_BODY.encode()
    response.request = requests.Request("GET", "https://api.tcn3.com/x").prepare()
    response.url = "http://127.0.0.1:8000/internal"
    assert excerpt(response) == ""
    response.url = "https://api.tcn3.com/x"
    assert excerpt(response) == INTERNAL_BODY


def test_a_tail_excerpt_shows_where_a_long_answer_ends_scrubbed():
    response = requests.Response()
    response.status_code = 200
    response._content = (f"agentSid,name\r\n{'1,Ann' * 400}\r\n9,Bob token={TOKEN}\x00").encode()
    response.request = requests.Request("POST", "https://api.tcn3.com/x").prepare()
    response.url = "https://api.tcn3.com/x"
    tail = excerpt(response, tail=True)
    assert len(tail) <= EXCERPT_CHARS
    assert tail.endswith("9,Bob token=[redacted] ")
    assert TOKEN not in tail and "\x00" not in tail
