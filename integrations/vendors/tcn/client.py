"""HTTP to TCN's backoffice API (platform API guide, sections 2, 43, 44, 47).

Every function is a form POST to the base URL plus the function's access name. The guide
predates access tokens and shows `username`/`password` or `apiKey`/`clientSid` fields, so
the token goes both as `Authorization: Bearer` and as the `apiKey` field. TCN reports
failures as fixed text bodies (mostly with HTTP 400); each documented one is mapped here.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from integrations.vendors.errors import DataError, TransientError, VendorError
from integrations.vendors.http import HttpClient, excerpt

# The guide's failure bodies (case differs between sections: "Invalid Login information!").
AUTH_BODY = "invalid login information!"
FAILURE_BODIES: dict[str, type[VendorError]] = {
    # Sections 43, 44, 47: our request was malformed or named a function TCN does not know.
    "https status 400: bad request!": DataError,
    # Section 43: the agent list failed on TCN's side; worth another try.
    "an error occurred while attempting to display agent list!": TransientError,
    # Sections 9, 13, 19: report and status functions.
    "an error occurred while getting the inbound group id!": DataError,
    "specified report template is invalid!": DataError,
    "http status 404: file not found": DataError,
    "an error occurred while initializing the report!": TransientError,
    "an error occurred while exporting the report!": TransientError,
    "an error occurred while getting the list of import templates!": TransientError,
    "an error occurred while attempting to display status info!": TransientError,
}


def join_url(base_url: str, access_name: str) -> str:
    """Base URL + access name, without doubling the segments they share.

    The seed's base URL ends in `backoffice/` while the guide's access names start with
    it; both `https://api.tcn3.com/` and `https://api.tcn3.com/backoffice` must work.
    """
    parts = urlsplit(base_url.strip())
    base = [s for s in parts.path.split("/") if s]
    name = [s.strip() for s in access_name.split("/") if s.strip()]
    overlap = 0
    for k in range(min(len(base), len(name)), 0, -1):
        if [s.casefold() for s in base[-k:]] == [s.casefold() for s in name[:k]]:
            overlap = k
            break
    path = "/" + "/".join(base + name[overlap:])
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _body(response: requests.Response) -> str:
    return response.text.strip().casefold() if len(response.content) < 500 else ""


class TCNClient(HttpClient):
    vendor_label = "TCN"

    def __init__(self, base_url: str, access_token: str, client_sid: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url
        self._token = access_token
        self.secrets.append(access_token)
        self.client_sid = client_sid

    def __repr__(self) -> str:  # never show the token
        return f"TCNClient({self.base_url!r})"

    def post(self, access_name: str, **fields: str) -> requests.Response:
        data = {"apiKey": self._token, **fields}
        if self.client_sid:
            data["clientSid"] = self.client_sid
        return self.request(
            "POST",
            join_url(self.base_url, access_name),
            data=data,
            headers={"Authorization": f"Bearer {self._token}"},
        )

    def is_auth_failure(self, response: requests.Response) -> bool:
        # TCN answers a bad login with HTTP 400 and a text body, not 401.
        return super().is_auth_failure(response) or _body(response).startswith(AUTH_BODY.rstrip("!"))

    def raise_for_status(self, response: requests.Response, label: str) -> None:
        if self.is_auth_failure(response):
            super().raise_for_status(response, label)
        # Documented failure texts are checked on any status: a proxy may turn them into 200.
        body = _body(response)
        error = FAILURE_BODIES.get(body)
        if error is not None and response.status_code < 500:
            message = f"{label}: TCN answered {response.text.strip()!r} (HTTP {response.status_code})"
            if error is DataError:
                raise DataError(message, sample=excerpt(response, self.secrets))
            raise error(message)
        super().raise_for_status(response, label)
