"""A fractional count in a TCN file is refused with the column named, never rounded.

A decimal comma (`2,5` in a `;`-separated file) used to be read as 25. Nextiva/Thrio's
fractional counts are cases of test_ncc_bad_input.py.
"""

from __future__ import annotations

import pytest

from integrations.vendors.errors import DataError

from .tcn_helpers import SUMMARY_HEADER, parse

SUMMARY = "interval_summary"


@pytest.mark.parametrize(
    ("cells", "column", "value"),
    [
        ("2.5;1;10", "Calls Offered", "2.5"),
        ("2,5;1;10", "Calls Offered", "2,5"),
        ("3;0,5;10", "Calls Abandoned", "0,5"),
    ],
)
def test_it_refuses_a_fractional_count_in_a_tcn_file_instead_of_reading_a_decimal_comma_as_digits(
    cells, column, value
):
    header = SUMMARY_HEADER.replace(",", ";")
    text = header + f"Sales;2025/01/15 09:00;{cells}\r\n"
    with pytest.raises(DataError, match=rf"line 2, column '{column}': '{value}' is a fractional count"):
        parse(text, {"kind": SUMMARY, "delimiter": ";"})


def test_a_decimal_comma_in_a_handle_time_is_refused_and_thousands_commas_still_read():
    header = SUMMARY_HEADER.replace(",", ";")
    with pytest.raises(DataError, match=r"column 'Handle Time': '1,5' is not a duration"):
        parse(header + "Sales;2025/01/15 09:00;3;1;1,5\r\n", {"kind": SUMMARY, "delimiter": ";"})
    [record] = parse(SUMMARY_HEADER + 'Sales,2025/01/15 09:00,"1,234",1,"12,000"\r\n', SUMMARY)
    assert (record.entered, record.handle_seconds) == (1234, 12000)
