"""The 15-minute UTC grid, stream grids, and the windows a history run collects.

Every interval starts on the 15-minute UTC grid, whatever the vendor's time zone (adapters
convert local times first). A history run collects closed intervals from its cursor (minus
a lookback, since vendors revise recent numbers) up to the last closed interval, in bounded
chunks so an outage is caught up oldest first over several runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta as td

# The grid itself is shared with the vendor adapters; re-exported for the collectors.
from integrations.vendors.grid import (  # noqa: F401
    INTERVAL,
    INTERVAL_SECONDS,
    as_utc,
    floor_interval,
    floor_to,
    is_on_grid,
)


def last_closed_end(now: datetime) -> datetime:
    """End of the last interval that has closed by `now` (intervals are [start, start + 15 min))."""
    return floor_interval(now)


def count_intervals(start: datetime, end: datetime) -> int:
    return max(0, (as_utc(end) - as_utc(start)) // INTERVAL)


@dataclass(frozen=True)
class Window:
    """Half-open [start, end) on the grid; `advance_to` is where the cursor may move after it."""

    start: datetime
    end: datetime
    advance_to: datetime | None

    @property
    def empty(self) -> bool:
        return self.end <= self.start

    @property
    def intervals(self) -> int:
        return count_intervals(self.start, self.end)


def history_window(
    cursor: datetime | None,
    now: datetime,
    *,
    lookback: int,
    chunk: int,
    initial_history: td,
    settle: td = td(0),
) -> Window:
    """The window the next scheduled history run collects.

    Starts `lookback` intervals before the cursor (or `initial_history` ago, with no
    lookback, when there is no cursor yet) and ends at the last closed interval, or
    `chunk` intervals past the cursor when the gap is longer, so an outage is backfilled
    oldest first in bounded runs. The cursor never moves into the last `settle` span, which
    the vendor may still be filling in: those intervals are read again by the next runs.
    """
    closed = last_closed_end(now)
    position = floor_interval(cursor) if cursor is not None else floor_interval(closed - initial_history)
    position = min(position, closed)
    end = min(position + chunk * INTERVAL, closed)
    # The first run has nothing to revise yet, so it reads no lookback.
    start = position - lookback * INTERVAL if cursor is not None else position
    return Window(start=start, end=end, advance_to=min(end, max(position, floor_interval(now - settle))))


def explicit_window(start: datetime, end: datetime, cursor: datetime | None, now: datetime) -> Window:
    """A window asked for by hand (`collect --start --end`): backfills exactly that window.

    The cursor moves only when the window joins on to it (so moving it never skips a gap),
    and never past the last closed interval.
    """
    start, end = as_utc(start), as_utc(end)
    advance_to = None
    if cursor is not None and start <= cursor < end:
        advance_to = min(end, last_closed_end(now))
    return Window(start=start, end=end, advance_to=advance_to)
