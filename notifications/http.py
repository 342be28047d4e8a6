"""The one place a notification leaves the building: `post(url, body, headers)`.

Never follows a redirect (a 3xx is an answer, recorded as a failure) and never waits
longer than WEBHOOKS_TIMEOUT to connect or for the answer. Reads at most a few KiB of
the answer: enough for the admin's excerpt, and a hostile endpoint cannot stream us
gigabytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests

from notifications.conf import app_settings

EXCERPT_BYTES = 2048


@dataclass(frozen=True)
class Answer:
    status: int
    retry_after: str
    excerpt: str


class Refused(Exception):
    """The egress policy refused the address: trying again will not help."""


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST once; raises Refused, or requests' Timeout/ConnectionError (worth retrying)."""
    # The lead switches this to the egress session (integrations/egress.py) at merge, so the
    # address is resolved once and checked against the allow-list before connecting.
    timeout = app_settings.TIMEOUT_SECONDS
    with requests.post(
        url, data=body, headers=headers, timeout=(timeout, timeout), allow_redirects=False, stream=True
    ) as response:
        chunk = next(response.iter_content(EXCERPT_BYTES), b"")
        return Answer(
            status=response.status_code,
            retry_after=response.headers.get("Retry-After", ""),
            excerpt=chunk.decode("utf-8", errors="replace"),
        )
