from __future__ import annotations

from datetime import UTC, datetime

import pytest

from integrations.vendors.errors import DataError
from integrations.vendors.tcn.files import ParseStats

from .tcn_helpers import CALL_HEADER, FIXTURES, parse


def test_it_counts_calls_into_utc_intervals_despite_bom_crlf_quotes_and_a_totals_row():
    stats = ParseStats()
    records = parse((FIXTURES / "call_detail.csv").read_bytes(), stats=stats)
    by_key = {(r.queue_vendor_id, r.interval_start): r for r in records}
    # 09:02 and 09:14 Pacific (UTC-8 in January) are the 17:00 UTC interval.
    sales_17 = by_key[("Sales", datetime(2025, 1, 15, 17, 0, tzinfo=UTC))]
    assert (sales_17.entered, sales_17.abandoned, sales_17.handle_seconds) == (2, 1, 120)
    sales_1715 = by_key[("Sales", datetime(2025, 1, 15, 17, 15, tzinfo=UTC))]
    assert (sales_1715.entered, sales_1715.abandoned, sales_1715.handle_seconds) == (1, 0, 95)
    assert by_key[("Service, West", datetime(2025, 1, 15, 17, 15, tzinfo=UTC))].handle_seconds == 300
    assert stats.rows == 4
    assert stats.skipped == 1


def test_it_counts_a_call_listed_twice_in_one_file_once():
    text = CALL_HEADER + "7,Sales,2025/01/15 09:02,60,ANSWERED\r\n7,Sales,2025/01/15 09:02,60,ANSWERED\r\n"
    [record] = parse(text)
    assert record.entered == 1


def test_an_empty_file_and_a_header_only_file_give_no_records():
    assert parse(b"") == []
    assert parse(CALL_HEADER) == []


def test_it_reads_iso_8601_with_an_offset_as_given():
    text = CALL_HEADER + "1,Sales,2025-01-15T09:02:00-05:00,30,ANSWERED\r\n"
    [record] = parse(text)
    assert record.interval_start == datetime(2025, 1, 15, 14, 0, tzinfo=UTC)


def test_it_reads_iso_8601_without_offset_in_the_connection_zone():
    [record] = parse(CALL_HEADER + "1,Sales,2025-07-01T10:20:00,30,ANSWERED\r\n")
    assert record.interval_start == datetime(2025, 7, 1, 17, 15, tzinfo=UTC)


def test_handle_time_may_be_h_mm_ss():
    [record] = parse(CALL_HEADER + "1,Sales,2025/01/15 09:02,1:02:03,ANSWERED\r\n")
    assert record.handle_seconds == 3723


def test_an_abandoned_flag_column_replaces_result_codes():
    layout = {"kind": "call_detail", "columns": {"abandoned": "Abandoned"}}
    text = (
        "Call ID,Hunt Group,Start Time,Handle Time,Abandoned\r\n"
        "1,Q,2025/01/15 09:02,0,Y\r\n2,Q,2025/01/15 09:03,9,N\r\n"
    )
    [record] = parse(text, layout)
    assert (record.entered, record.abandoned) == (2, 1)


def test_result_codes_counting_as_abandoned_are_configurable():
    layout = {"kind": "call_detail", "abandoned_results": ["ALA", "NOA"]}
    text = (
        CALL_HEADER
        + "1,Q,2025/01/15 09:02,0,ALA\r\n2,Q,2025/01/15 09:03,0,ABANDONED\r\n3,Q,2025/01/15 09:04,0,noa\r\n"
    )
    [record] = parse(text, layout)
    assert record.abandoned == 2


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            "1,Sales,2025/13/15 09:02,10,ANSWERED",
            "line 2, column 'Start Time': '2025/13/15 09:02' is not a valid",
        ),
        ("1,Sales,yesterday,10,ANSWERED", "line 2, column 'Start Time': 'yesterday' is not a time"),
        ("1,Sales,2025/01/15 09:02,-5,ANSWERED", "line 2, column 'Handle Time': '-5' is not a non-negative"),
        ("1,Sales,2025/01/15 09:02,ten,ANSWERED", "line 2, column 'Handle Time': 'ten' is not a duration"),
        (
            "1,Sales,2025/01/15 09:02,99999999999999999999999,ANSWERED",
            "line 2, column 'Handle Time': '99999999999999999999999' is implausibly long for one call",
        ),
        (
            "1,Sales,2025/01/15 09:02,200:00:00,ANSWERED",
            "line 2, column 'Handle Time': '200:00:00' is implausibly long",
        ),
        (",Sales,2025/01/15 09:02,10,ANSWERED", "line 2, column 'Call ID': '' is empty"),
    ],
)
def test_a_bad_value_names_its_line_column_and_value(row, expected):
    with pytest.raises(DataError) as info:
        parse(CALL_HEADER + row + "\r\n")
    assert str(info.value).startswith(expected)


def test_a_missing_column_names_the_header_it_wanted_and_what_it_found():
    with pytest.raises(DataError, match=r"header lacks column\(s\) 'Result' \(result\).*found 'Call ID'"):
        parse("Call ID,Hunt Group,Start Time,Handle Time\r\n1,Q,2025/01/15 09:02,1\r\n")


def test_data_after_a_totals_row_is_refused():
    text = CALL_HEADER + "Total,,,0,\r\n1,Sales,2025/01/15 09:02,10,ANSWERED\r\n"
    with pytest.raises(DataError, match="line 3: data row after a totals/footer row"):
        parse(text)


def test_a_file_that_is_not_utf8_is_refused_clearly():
    with pytest.raises(DataError, match="not UTF-8"):
        parse(CALL_HEADER.encode() + b"1,Caf\xe9,2025/01/15 09:02,10,ANSWERED\r\n")
