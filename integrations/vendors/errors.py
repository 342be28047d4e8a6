"""The three ways a vendor call fails: refused credentials, a passing fault, bad data (docs/architecture.md).

Messages must never contain a secret: build them from field names, status codes and
scrubbed excerpts only (see `integrations.scrub`).
"""

from __future__ import annotations


class VendorError(Exception):
    """Base class; `str(err)` is safe to store on a run record and to log."""


class AuthError(VendorError):
    """The vendor refused the credentials. Retrying cannot help; a person must act."""


class TransientError(VendorError):
    """Timeouts, refused connections, 429 and 5xx: worth retrying with backoff."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DataError(VendorError):
    """The payload does not parse or breaks an invariant. Nothing may be written."""

    def __init__(self, message: str, sample: str = "") -> None:
        super().__init__(message)
        # A short, scrubbed excerpt of the offending payload, kept on the run for diagnosis.
        self.sample = sample[:2000]


class EgressRefused(DataError):
    """The egress policy refused the request (an inward address, a redirect to another origin).

    Permanent like a DataError: retrying cannot help until the base URL or the allow-list
    changes, so the run fails at once. The message names the host, never an answer.
    """
