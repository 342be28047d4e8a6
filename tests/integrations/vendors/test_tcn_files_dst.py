"""A Pacific-time file on both daylight-saving days (America/Los_Angeles, 2025)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from integrations.vendors.errors import DataError
from integrations.vendors.tcn.files import ParseStats

from .tcn_helpers import CALL_HEADER, SUMMARY_HEADER, parse


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_spring_forward_day_maps_either_side_of_the_gap_to_consecutive_utc_intervals():
    # 01:45 PST (UTC-8) is 09:45 UTC; 03:00 PDT (UTC-7) is 10:00 UTC: no hole in the UTC grid.
    text = CALL_HEADER + "1,Q,2025/03/09 01:50,10,ANSWERED\r\n2,Q,2025/03/09 03:05,20,ANSWERED\r\n"
    records = parse(text)
    assert [r.interval_start for r in records] == [utc(2025, 3, 9, 9, 45), utc(2025, 3, 9, 10, 0)]


def test_spring_forward_day_refuses_a_local_time_that_does_not_exist():
    text = CALL_HEADER + "1,Q,2025/03/09 01:50,10,ANSWERED\r\n2,Q,2025/03/09 02:30,20,ANSWERED\r\n"
    with pytest.raises(DataError) as info:
        parse(text)
    assert str(info.value) == (
        "line 3, column 'Start Time': '2025/03/09 02:30' is a local time that does not exist in "
        "America/Los_Angeles (clocks skip this hour when daylight saving starts)"
    )


def test_spring_forward_summary_day_has_92_intervals():
    rows = []
    for h in range(24):
        if h == 2:
            continue
        rows += [f"Q,2025/03/09 {h:02d}:{m:02d},1,0,5\r\n" for m in (0, 15, 30, 45)]
    records = parse(SUMMARY_HEADER + "".join(rows), "interval_summary")
    assert len(records) == 92
    assert records[0].interval_start == utc(2025, 3, 9, 8, 0)
    assert records[-1].interval_start == utc(2025, 3, 10, 6, 45)


def test_fall_back_call_in_the_repeated_hour_takes_the_first_pass_and_says_so():
    stats = ParseStats()
    text = CALL_HEADER + "1,Q,2025/11/02 01:20,10,ANSWERED\r\n2,Q,2025/11/02 02:05,10,ANSWERED\r\n"
    records = parse(text, stats=stats)
    # 01:20 PDT (UTC-7) = 08:15 UTC bucket; 02:05 PST (UTC-8) = 10:00 UTC.
    assert [r.interval_start for r in records] == [utc(2025, 11, 2, 8, 15), utc(2025, 11, 2, 10, 0)]
    assert any("repeated fall-back hour" in n for n in stats.notes)


def test_fall_back_summary_lists_the_repeated_hour_twice_and_both_passes_are_kept():
    rows = []
    for h in (0, 1, 1, 2):  # TCN lists 01:xx twice: daylight time, then standard time.
        rows += [f"Q,2025/11/02 {h:02d}:{m:02d},1,0,5\r\n" for m in (0, 15, 30, 45)]
    records = parse(SUMMARY_HEADER + "".join(rows), "interval_summary")
    starts = [r.interval_start for r in records]
    assert len(starts) == len(set(starts)) == 16
    assert starts[0] == utc(2025, 11, 2, 7, 0)  # 00:00 PDT
    assert starts[4] == utc(2025, 11, 2, 8, 0)  # 01:00 PDT, first pass
    assert starts[8] == utc(2025, 11, 2, 9, 0)  # 01:00 PST, second pass
    assert starts[-1] == utc(2025, 11, 2, 10, 45)  # 02:45 PST
    assert all(r.entered == 1 for r in records)


def test_fall_back_summary_day_has_100_intervals():
    rows = []
    for h in [*range(2), 1, *range(2, 24)]:
        rows += [f"Q,2025/11/02 {h:02d}:{m:02d},1,0,5\r\n" for m in (0, 15, 30, 45)]
    records = parse(SUMMARY_HEADER + "".join(rows), "interval_summary")
    assert len(records) == 100
    assert records[-1].interval_start == utc(2025, 11, 3, 7, 45)
