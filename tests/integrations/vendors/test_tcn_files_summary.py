from __future__ import annotations

from datetime import UTC, datetime

import pytest

from integrations.vendors.errors import DataError

from .tcn_helpers import FIXTURES, SUMMARY_HEADER, parse

SUMMARY = "interval_summary"


def test_it_reads_the_default_summary_layout_and_skips_the_totals_row():
    records = parse((FIXTURES / "interval_summary.csv").read_bytes(), SUMMARY)
    assert [
        (r.queue_vendor_id, r.interval_start, r.entered, r.abandoned, r.handle_seconds) for r in records
    ] == [
        ("Sales", datetime(2025, 1, 15, 17, 0, tzinfo=UTC), 12, 2, 1450),
        ("Service", datetime(2025, 1, 15, 17, 0, tzinfo=UTC), 5, 0, 600),
        ("Sales", datetime(2025, 1, 15, 17, 15, tzinfo=UTC), 7, 1, 800),
    ]


def test_custom_headers_come_from_the_column_mapping():
    layout = {
        "kind": SUMMARY,
        "columns": {
            "queue": "Skill",
            "interval_start": "Period",
            "entered": "Offered",
            "abandoned": "Abd",
            "handle_seconds": "AHT Total",
        },
    }
    text = "Period;Skill;Offered;Abd;AHT Total\r\n2025/01/15 09:00;Sales;3;0;90\r\n"
    [record] = parse(text, {**layout, "delimiter": ";"})
    assert (record.queue_vendor_id, record.entered, record.handle_seconds) == ("Sales", 3, 90)


def test_rows_of_one_queue_and_interval_add_up():
    text = SUMMARY_HEADER + "Sales,2025/01/15 09:00,2,1,10\r\nSales,2025/01/15 09:00,3,0,20\r\n"
    [record] = parse(text, SUMMARY)
    assert (record.entered, record.abandoned, record.handle_seconds) == (5, 1, 30)


def test_a_start_off_the_quarter_hour_is_refused():
    with pytest.raises(
        DataError, match=r"line 2, column 'Interval Start': '2025/01/15 09:10' is not on the 15-minute"
    ):
        parse(SUMMARY_HEADER + "Sales,2025/01/15 09:10,1,0,1\r\n", SUMMARY)


def test_a_half_hour_grid_is_refused_rather_than_split():
    rows = "".join(f"Sales,2025/01/15 {h:02d}:{m:02d},1,0,1\r\n" for h in (9, 10) for m in (0, 30))
    with pytest.raises(DataError, match="all on the half-hour grid"):
        parse(SUMMARY_HEADER + rows, SUMMARY)


def test_an_hour_grid_is_refused_rather_than_split():
    rows = "".join(f"Sales,2025/01/15 {h:02d}:00,1,0,1\r\n" for h in (9, 10, 11, 12))
    with pytest.raises(DataError, match="all on the hour grid"):
        parse(SUMMARY_HEADER + rows, SUMMARY)


def test_an_interval_end_column_longer_than_15_minutes_is_refused():
    layout = {"kind": SUMMARY, "columns": {"interval_end": "Interval End"}}
    text = (
        SUMMARY_HEADER.replace("\r\n", ",Interval End\r\n")
        + "Sales,2025/01/15 09:00,1,0,1,2025/01/15 09:30\r\n"
    )
    with pytest.raises(DataError, match="30 minutes after the start"):
        parse(text, layout)


def test_more_abandoned_than_offered_is_refused():
    with pytest.raises(DataError, match=r"column 'Calls Abandoned': '5' is more than the 2 calls offered"):
        parse(SUMMARY_HEADER + "Sales,2025/01/15 09:00,2,5,1\r\n", SUMMARY)


def test_a_negative_count_is_refused():
    with pytest.raises(DataError, match=r"column 'Calls Offered': '-2' is not a non-negative whole number"):
        parse(SUMMARY_HEADER + "Sales,2025/01/15 09:00,-2,0,1\r\n", SUMMARY)
