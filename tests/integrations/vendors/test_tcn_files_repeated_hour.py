"""The repeated fall-back hour of a call-detail file: the file's time order settles the pass.

US Central time, 2025-11-02: 01:00-01:59 local happens twice, first on daylight time (UTC-5,
06:00-06:59 UTC), then on standard time (UTC-6, 07:00-07:59 UTC).
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from integrations.vendors.tcn.files import FileLayout, ParseStats, read_call_rows

from .tcn_helpers import CALL_HEADER, parse

CENTRAL = ZoneInfo("America/Chicago")


def utc(hour: int, minute: int, day: int = 2) -> datetime:
    return datetime(2025, 11, day, hour, minute, tzinfo=UTC)


def rows(*times: str) -> str:
    return CALL_HEADER + "".join(f"{i},Q,2025/11/02 {t},10,ANSWERED\r\n" for i, t in enumerate(times, 1))


def placed(text: str, stats: ParseStats | None = None) -> list[tuple[str, datetime]]:
    """(call id, UTC interval start) of every call, in the order the reader gives them."""
    layout = FileLayout.from_options({})
    found = read_call_rows(io.BytesIO(text.encode()), layout, CENTRAL, stats or ParseStats())
    return [(row[0], row[2]) for row in found]


def test_a_file_crossing_the_repeated_hour_once_puts_the_calls_after_the_return_in_the_second_pass():
    stats = ParseStats()
    text = rows("00:50", "01:20", "01:58", "01:59", "01:00", "01:40", "02:10")
    assert placed(text, stats) == [
        ("1", utc(5, 45)),  # 00:50 CDT
        ("2", utc(6, 15)),  # 01:20 CDT, first pass
        ("3", utc(6, 45)),  # 01:58 CDT
        ("4", utc(6, 45)),  # 01:59 CDT
        ("5", utc(7, 0)),  # 01:00 CST, second pass
        ("6", utc(7, 30)),  # 01:40 CST
        ("7", utc(8, 0)),  # 02:10 CST
    ]
    assert stats.notes == [
        "5 call(s) in the repeated fall-back hour of America/Chicago were placed by the file's time order: "
        "3 in its first pass (daylight time), 2 in its second (standard time)"
    ]


def test_a_whole_fall_back_day_keeps_every_interval_apart():
    times = [f"{h:02d}:{m:02d}" for h in (0, 1, 1, 2, 3) for m in range(0, 60, 5)]
    records = parse(rows(*times), zone=CENTRAL)
    starts = [r.interval_start for r in records]
    # 00:00 CDT (05:00 UTC) to 03:59 CST (09:59 UTC): five hours, twenty intervals, none merged.
    assert starts == [utc(5, 0) + i * (utc(5, 15) - utc(5, 0)) for i in range(20)]
    assert all(r.entered == 3 for r in records)


def test_the_order_of_the_calls_is_the_files_order():
    text = rows("01:50", "01:10", "02:00", "02:01")
    assert [call_id for call_id, _ in placed(text)] == ["1", "2", "3", "4"]
    assert [start for _, start in placed(text)] == [utc(6, 45), utc(7, 0), utc(8, 0), utc(8, 0)]


def test_times_only_inside_the_repeated_hour_without_a_return_keep_the_first_pass_and_say_so():
    stats = ParseStats()
    assert placed(rows("01:05", "01:20", "01:20", "01:44"), stats) == [
        ("1", utc(6, 0)),
        ("2", utc(6, 15)),
        ("3", utc(6, 15)),
        ("4", utc(6, 30)),
    ]
    assert stats.notes == [
        "4 call(s) in the repeated fall-back hour were placed in its first pass (daylight time) of "
        "America/Chicago: the file's times there never return to the hour's start, "
        "so they do not show the pass"
    ]


def test_times_out_of_order_in_the_repeated_hour_keep_the_first_pass_and_say_so():
    stats = ParseStats()
    found = placed(rows("01:30", "01:10", "01:50", "01:05", "02:30"), stats)
    assert [start for _, start in found] == [utc(6, 30), utc(6, 0), utc(6, 45), utc(6, 0), utc(8, 30)]
    assert stats.notes == [
        "4 call(s) in the repeated fall-back hour were placed in its first pass (daylight time) of "
        "America/Chicago: the file's times there are not in time order"
    ]


def test_a_file_starting_after_the_hour_has_nothing_to_settle():
    stats = ParseStats()
    assert placed(rows("02:00", "02:20"), stats) == [("1", utc(8, 0)), ("2", utc(8, 15))]
    assert stats.notes == []


@pytest.mark.parametrize("second_year", [False, True], ids=["one-day", "two-fall-back-days"])
def test_each_fall_back_day_of_a_file_is_settled_on_its_own(second_year):
    text = rows("01:40", "01:10")
    if second_year:
        text += "3,Q,2026/11/01 01:30,10,ANSWERED\r\n4,Q,2026/11/01 01:45,10,ANSWERED\r\n"
    found = placed(text)
    assert found[:2] == [("1", utc(6, 30)), ("2", utc(7, 0))]
    if second_year:
        # 2026-11-01 01:30 and 01:45 never return: today's rule, the first pass (CDT).
        assert found[2:] == [
            ("3", utc(6, 30, day=1).replace(year=2026)),
            ("4", utc(6, 45, day=1).replace(year=2026)),
        ]


def test_iso_times_with_an_offset_are_never_moved():
    text = CALL_HEADER + (
        "1,Q,2025/11/02 01:50,10,ANSWERED\r\n"
        "2,Q,2025-11-02T01:20:00-06:00,10,ANSWERED\r\n"
        "3,Q,2025/11/02 01:10,10,ANSWERED\r\n"
    )
    assert placed(text) == [("1", utc(6, 45)), ("2", utc(7, 15)), ("3", utc(7, 0))]
