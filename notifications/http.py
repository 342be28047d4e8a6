"""The one place a notification leaves the building: `post(url, body, headers)`.

Every request goes through the egress policy (`integrations.egress`): the host is
resolved once and every address vetted (no loopback, private, link-local or metadata
address unless allow-listed in VENDOR_EGRESS_ALLOW), and the socket connects to the
vetted address. A redirect is never followed, not even to the same origin: a 3xx is an
answer, recorded as a failure. Never waits longer than WEBHOOKS_TIMEOUT to connect or for
the answer, and reads at most a few KiB of it: enough for the admin's excerpt, and a
hostile endpoint cannot stream us gigabytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from integrations.egress import EgressError, egress_session
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
    timeout = app_settings.TIMEOUT_SECONDS
    try:
        with (
            egress_session() as session,
            session.post(
                url,
                data=body,
                headers=headers,
                timeout=(timeout, timeout),
                allow_redirects=False,
                stream=True,
            ) as response,
        ):
            chunk = next(response.iter_content(EXCERPT_BYTES), b"")
            return Answer(
                status=response.status_code,
                retry_after=response.headers.get("Retry-After", ""),
                excerpt=chunk.decode("utf-8", errors="replace"),
            )
    except EgressError as exc:
        raise Refused(str(exc)) from None
