"""The 15-minute UTC grid and the windows history runs collect."""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import timedelta as td
from zoneinfo import ZoneInfo

import pytest

from collectors.management.commands.collect import parse_time
from collectors.windows import (
    INTERVAL,
    count_intervals,
    explicit_window,
    floor_interval,
    history_window,
    is_on_grid,
    last_closed_end,
)
from tests.collectors.enginekit import T0

PACIFIC = ZoneInfo("America/Los_Angeles")
KOLKATA = ZoneInfo("Asia/Kolkata")


def test_the_grid_is_utc_whatever_zone_a_time_is_given_in():
    assert floor_interval(datetime(2026, 3, 2, 12, 14, 59, tzinfo=UTC)) == T0
    assert is_on_grid(datetime(2026, 3, 2, 4, 0, tzinfo=PACIFIC))
    # India is UTC+05:30: its local quarter hours are on the UTC grid too, but 17:40 is not.
    assert is_on_grid(datetime(2026, 3, 2, 17, 30, tzinfo=KOLKATA))
    assert not is_on_grid(datetime(2026, 3, 2, 17, 40, tzinfo=KOLKATA))
    with pytest.raises(ValueError, match="naive"):
        is_on_grid(datetime(2026, 3, 2, 12, 0))


def test_an_interval_is_closed_only_once_it_has_ended():
    assert last_closed_end(T0 + td(minutes=14, seconds=59)) == T0
    assert last_closed_end(T0 + td(minutes=15)) == T0 + INTERVAL


@pytest.mark.parametrize(
    ("day", "intervals"),
    [
        # Spring forward: the Pacific day of 2026-03-08 lasts 23 hours.
        ((2026, 3, 8), 92),
        # Fall back: the Pacific day of 2026-11-01 lasts 25 hours.
        ((2026, 11, 1), 100),
        ((2026, 6, 1), 96),
    ],
)
def test_a_local_day_across_a_dst_change_is_the_right_number_of_utc_intervals(day, intervals):
    start = datetime(*day, tzinfo=PACIFIC)
    end = start.replace(day=start.day + 1)
    window = explicit_window(start, end, cursor=None, now=datetime(2027, 1, 1, tzinfo=UTC))
    assert window.intervals == intervals
    assert is_on_grid(window.start) and is_on_grid(window.end)
    assert window.start.tzinfo == UTC


def test_collect_reads_local_offsets_and_takes_a_time_without_one_as_utc():
    assert parse_time("2026-11-01T01:30-07:00", "--start") == datetime(2026, 11, 1, 8, 30, tzinfo=UTC)
    # The repeated hour, second time round (PST):
    assert parse_time("2026-11-01T01:30-08:00", "--start") == datetime(2026, 11, 1, 9, 30, tzinfo=UTC)
    assert parse_time("2026-03-02T12:00", "--start") == T0
    assert parse_time("2026-03-02T12:00Z", "--start") == T0


def test_history_window_from_a_cursor_with_lookback_and_chunk():
    w = history_window(T0, T0 + td(hours=1, minutes=3), lookback=4, chunk=96, initial_history=td(days=1))
    assert (w.start, w.end, w.advance_to) == (T0 - 4 * INTERVAL, T0 + td(hours=1), T0 + td(hours=1))
    w = history_window(T0, T0 + td(days=3), lookback=4, chunk=96, initial_history=td(days=1))
    assert w.end == T0 + td(days=1)


def test_the_cursor_never_moves_into_the_span_a_vendor_is_still_filling_in():
    now = T0 + td(hours=5, minutes=3)
    w = history_window(T0, now, lookback=4, chunk=96, initial_history=td(days=1), settle=td(hours=3))
    # Collected up to the last closed interval, but the cursor stops 3 hours back, so the
    # provisional intervals are read again by every run until they settle.
    assert w.end == T0 + td(hours=5)
    assert w.advance_to == T0 + td(hours=2)
    later = history_window(
        w.advance_to,
        now + td(minutes=15),
        lookback=4,
        chunk=96,
        initial_history=td(days=1),
        settle=td(hours=3),
    )
    assert later.start <= T0 + td(hours=2) and later.end == T0 + td(hours=5, minutes=15)


def test_the_cursor_never_moves_backwards_for_a_long_settle_span():
    w = history_window(
        T0, T0 + td(hours=1), lookback=4, chunk=96, initial_history=td(days=1), settle=td(hours=3)
    )
    assert w.advance_to == T0


def test_history_window_without_a_cursor_starts_initial_history_ago():
    w = history_window(None, T0 + td(minutes=20), lookback=4, chunk=500, initial_history=td(hours=6))
    assert (w.start, w.end) == (T0 - td(hours=6) + INTERVAL, T0 + INTERVAL)


def test_an_explicit_window_moves_the_cursor_only_when_it_joins_on_to_it():
    now = T0 + td(hours=5)
    assert explicit_window(T0 - td(hours=2), T0 - td(hours=1), T0, now).advance_to is None
    assert explicit_window(T0 - td(hours=1), T0 + td(hours=2), T0, now).advance_to == T0 + td(hours=2)
    assert explicit_window(T0 + td(hours=1), T0 + td(hours=2), T0, now).advance_to is None
    assert explicit_window(T0, T0 + td(hours=2), None, now).advance_to is None


def test_count_intervals():
    assert count_intervals(T0, T0 + td(hours=1)) == 4
    assert count_intervals(T0, T0) == 0
