"""Every failure body the TCN platform API guide documents, and how it is classified."""

from __future__ import annotations

import pytest
import responses

from integrations.vendors.base import ConnectionSettings, Section
from integrations.vendors.errors import AuthError, DataError, TransientError
from integrations.vendors.tcn.adapter import TCNAdapter
from integrations.vendors.tcn.vendor import TCN

BASE = "https://api.tcn3.com/backoffice/"
TOKEN = "tcn-token-0123456789abcdef"
SKILLS_URL = "https://api.tcn3.com/backoffice/RemoteAgentSkillsList"


def adapter() -> TCNAdapter:
    section = Section(BASE, {"access_token": TOKEN})
    return TCNAdapter(
        ConnectionSettings(
            key="acme/tcn", vendor="tcn", realtime=section, history=section, options=dict(TCN.default_options)
        )
    )


@pytest.mark.parametrize("body", ["Invalid Login Information!", "Invalid Login information!"])
@responses.activate
def test_invalid_login_is_an_auth_error(body):
    responses.post(SKILLS_URL, body=body, status=400)
    with pytest.raises(AuthError) as info:
        adapter().fetch_skills()
    assert TOKEN not in str(info.value)


@responses.activate
def test_invalid_login_with_http_200_is_still_an_auth_error():
    responses.post(SKILLS_URL, body="Invalid Login Information!", status=200)
    with pytest.raises(AuthError):
        adapter().fetch_skills()


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("HTTPS Status 400: Bad Request!", DataError),
        ("An error occurred while attempting to display Agent list!", TransientError),
        ("An error occurred while getting the Inbound Group ID!", DataError),
        ("Specified Report Template is invalid!", DataError),
        ("HTTP Status 404: File Not Found", DataError),
        ("An error occurred while initializing the report!", TransientError),
        ("An error occurred while exporting the report!", TransientError),
        ("An error occurred while getting the list of Import Templates!", TransientError),
        ("An error occurred while attempting to display status info!", TransientError),
    ],
)
@responses.activate
def test_each_documented_failure_body_maps_to_its_error(body, error):
    responses.post(SKILLS_URL, body=body, status=400)
    with pytest.raises(error) as info:
        adapter().fetch_skills()
    assert type(info.value) is error
    assert body in str(info.value)
    assert TOKEN not in str(info.value)


@responses.activate
def test_an_undocumented_400_is_a_data_error_with_a_scrubbed_sample():
    responses.post(SKILLS_URL, body=f"oops apiKey={TOKEN}", status=400)
    with pytest.raises(DataError) as info:
        adapter().fetch_skills()
    assert TOKEN not in info.value.sample


@pytest.mark.parametrize("status", [500, 502, 503])
@responses.activate
def test_server_errors_are_transient(status):
    responses.post(SKILLS_URL, body="down", status=status)
    with pytest.raises(TransientError):
        adapter().fetch_skills()


@responses.activate
def test_429_carries_retry_after():
    responses.post(SKILLS_URL, body="slow down", status=429, headers={"Retry-After": "7"})
    with pytest.raises(TransientError) as info:
        adapter().fetch_skills()
    assert info.value.retry_after == 7
