"""The one place that turns HTTP outcomes into `errors.*`, shared by every vendor client.

Every request goes through `integrations.egress` (the egress policy); a refusal becomes
`EgressRefused`, a DataError: the run fails at once, with a message naming the host.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlparse

import requests
from django.utils import timezone

from integrations.egress import EgressError, egress_session, origin
from integrations.scrub import scrub
from integrations.vendors.errors import AuthError, DataError, EgressRefused, TransientError

DEFAULT_TIMEOUT = (5, 30)  # connect, read (seconds)
# A vendor's answer kept on a run or shown by "Test connection" is cut to this many characters.
EXCERPT_CHARS = 300
# What an error message quotes of a vendor's error answer (the run's message, the command's line).
SAID_CHARS = 200
_UNPRINTABLE = str.maketrans({c: " " for c in range(32) if chr(c) not in "\t\n"} | {127: " "})


def excerpt(response: requests.Response, secrets: Iterable[str] = (), *, tail: bool = False) -> str:
    """A short, scrubbed excerpt of a vendor's answer (its end with `tail`, where a truncated
    answer shows); empty for an answer from elsewhere.

    Only an answer from the origin the request was sent to is shown: a body that came from
    another origin (which the egress session never follows to) is never repeated.
    """
    first = response.history[0] if response.history else response
    asked = first.request.url if first.request is not None else first.url
    if not asked or origin(asked) != origin(response.url or ""):
        return ""
    # Scrubbed before it is cut, so a cut never leaves half a secret for the patterns to miss.
    text = response.text
    text = scrub(
        (text[-EXCERPT_CHARS * 2 :] if tail else text[: EXCERPT_CHARS * 2]).translate(_UNPRINTABLE), secrets
    )
    return text[-EXCERPT_CHARS:] if tail else text[:EXCERPT_CHARS]


def said(response: requests.Response, secrets: Iterable[str] = ()) -> str:
    """`: the vendor said "…"` for an error message: the answer's start, scrubbed, on one line
    and cut short; empty when it has no body (or came from elsewhere)."""
    text = " ".join(excerpt(response, secrets).split())
    if not text:
        return ""
    if len(text) > SAID_CHARS:
        text = text[: SAID_CHARS - 1] + "…"
    return f': it said "{text}"'


def retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` is either delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - timezone.now()).total_seconds())


class HttpClient:
    """A `requests.Session` with timeouts and the shared error mapping.

    Subclasses set `vendor_label` and may override `is_auth_failure` for vendors that
    answer a bad login with 200 or 400 and a text body.
    """

    vendor_label = "vendor"

    def __init__(self, timeout: tuple[float, float] = DEFAULT_TIMEOUT) -> None:
        # Kept-alive connections shared by the process's runs (a poll every 10 s per connection).
        self.session = egress_session(pooled=True)
        self.timeout = timeout
        # This connection's secrets (and tokens it was given): scrubbed from every vendor
        # answer an error quotes, on top of the patterns `integrations.scrub` knows.
        self.secrets: list[str] = []

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        response = self.send(method, url, **kwargs)
        self.raise_for_status(response, f"{self.vendor_label} {method} {_path_of(url)}")
        return response

    def send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """Like `request` but returns any HTTP status (for clients that retry on 401 themselves)."""
        kwargs.setdefault("timeout", self.timeout)
        label = f"{self.vendor_label} {method} {_path_of(url)}"
        try:
            response = self.session.request(method, url, **kwargs)
        except EgressError as exc:
            raise EgressRefused(f"{label}: {exc}") from None
        except requests.Timeout as exc:
            raise TransientError(f"{label}: timed out") from exc
        except requests.ConnectionError as exc:
            raise TransientError(f"{label}: connection failed ({type(exc).__name__})") from exc
        except requests.RequestException as exc:
            raise TransientError(f"{label}: {type(exc).__name__}") from exc
        return response

    def is_auth_failure(self, response: requests.Response) -> bool:
        return response.status_code in (401, 403)

    def raise_for_status(self, response: requests.Response, label: str) -> None:
        """Map an error status to `errors.*`, quoting the vendor's answer (scrubbed, cut short):
        "HTTP 400" alone leaves a person guessing what the vendor refused."""
        status = response.status_code
        if status < 400 and not self.is_auth_failure(response):
            return
        quoted = said(response, self.secrets)
        if self.is_auth_failure(response):
            raise AuthError(f"{label}: credentials refused (HTTP {status}){quoted}")
        if status == 429:
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            raise TransientError(f"{label}: rate limited (HTTP 429){quoted}", retry_after=wait)
        if status >= 500:
            raise TransientError(f"{label}: server error (HTTP {status}){quoted}")
        raise DataError(f"{label}: HTTP {status}{quoted}", sample=excerpt(response, self.secrets))

    def json(self, response: requests.Response, label: str = "") -> Any:
        """Parse a JSON body, refusing HTML error pages served with 200 and empty bodies."""
        label = label or f"{self.vendor_label} {_path_of(response.url or '')}"
        text = response.text
        if not text.strip():
            raise DataError(f"{label}: empty body where JSON was expected")
        try:
            return json.loads(text)
        except ValueError as exc:
            kind = "an HTML page" if text.lstrip()[:1] == "<" else "not JSON"
            raise DataError(f"{label}: body is {kind}", sample=excerpt(response, self.secrets)) from exc


def _path_of(url: str) -> str:
    # Never echo a query string: some vendors take credentials there.
    return urlparse(url).path or "/"
