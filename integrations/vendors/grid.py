"""The 15-minute UTC grid every interval starts on (:00, :15, :30, :45 in UTC).

Shared by the vendor adapters (which bucket records) and the collectors (which plan
windows and check what adapters return), so both agree on one definition.
"""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import timedelta as td

INTERVAL = td(minutes=15)
INTERVAL_SECONDS = 900
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The earliest interval or call Switchboard accepts. Contact-center platforms of today keep a
# few years of history at most; a date before this is a corrupt cell (a 1900 default, a
# zero epoch), refused like a date in the future rather than stored where no one looks.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def as_utc(dt: datetime) -> datetime:
    """An aware datetime in UTC (naive datetimes are refused: they are a bug upstream)."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"naive datetime {dt.isoformat()} (every time here must be timezone-aware)")
    return dt.astimezone(UTC)


def floor_to(dt: datetime, seconds: int) -> datetime:
    """The start of the `seconds`-long slot (aligned to the Unix epoch) that holds `dt`."""
    dt = as_utc(dt)
    elapsed = (dt - EPOCH) // td(seconds=seconds)
    return EPOCH + elapsed * td(seconds=seconds)


def floor_interval(dt: datetime) -> datetime:
    return floor_to(dt, INTERVAL_SECONDS)


def is_on_grid(dt: datetime) -> bool:
    """True when `dt` starts a 15-minute interval in UTC (zones with :30 or :45 offsets included)."""
    return as_utc(dt) == floor_interval(dt)


def require_on_grid(dt: datetime) -> datetime:
    """`dt` in UTC, or ValueError when it does not start a 15-minute interval."""
    moment = as_utc(dt)
    if not is_on_grid(moment):
        raise ValueError(f"{moment.isoformat()} is not on the 15-minute UTC grid")
    return moment
