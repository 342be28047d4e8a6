from __future__ import annotations

import zoneinfo
from functools import cache

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator, URLValidator

# Only http(s): a file://, ftp:// or javascript: URL is never a vendor API.
http_url = URLValidator(schemes=["http", "https"], message="Enter an http:// or https:// URL.")

slug = RegexValidator(
    r"^[a-z0-9]+(?:-[a-z0-9]+)*\Z",
    "Use lowercase letters, digits and single hyphens (e.g. acme-support).",
)

# Connection names appear in CLI arguments as tenant-slug/connection-name.
connection_name = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]*\Z",
    "Use letters, digits, dots, hyphens and underscores, starting with a letter or digit.",
)


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def time_zone(value: str) -> None:
    if value not in _zones():
        raise ValidationError(f"unknown time zone {value!r} (use an IANA name such as America/Chicago)")


MIN_INTERVAL_SECONDS = 5
MAX_INTERVAL_SECONDS = 86400


def interval_seconds(value: int) -> None:
    if not MIN_INTERVAL_SECONDS <= value <= MAX_INTERVAL_SECONDS:
        raise ValidationError(
            f"interval must be between {MIN_INTERVAL_SECONDS} seconds and one day "
            f"({MAX_INTERVAL_SECONDS} s), got {value}"
        )


# How far back a new connection's history goes: a day to ten years.
MIN_BACKFILL_DAYS = 1
MAX_BACKFILL_DAYS = 3660
# A connection's own limit on the days one history request may span.
MAX_REQUEST_DAYS = 366


def backfill_days(value: int) -> None:
    if not MIN_BACKFILL_DAYS <= value <= MAX_BACKFILL_DAYS:
        raise ValidationError(
            f"history start must be between {MIN_BACKFILL_DAYS} day and {MAX_BACKFILL_DAYS} days "
            f"(ten years) back, got {value}"
        )


def request_days(value: int) -> None:
    if not 1 <= value <= MAX_REQUEST_DAYS:
        raise ValidationError(
            f"the longest request must be between 1 and {MAX_REQUEST_DAYS} days, got {value}"
        )
