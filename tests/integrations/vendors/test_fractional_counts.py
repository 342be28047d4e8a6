"""A fractional count is refused with the field named, never rounded (2.5 calls is a broken answer).

Durations may carry a fraction of a second, which is rounded to the second: that is a
unit, not a count.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import responses
import time_machine

from integrations.vendors.base import ConnectionSettings, Section
from integrations.vendors.errors import DataError
from integrations.vendors.ncc.adapter import NCCAdapter
from integrations.vendors.ncc.client import forget_all

from .tcn_helpers import SUMMARY_HEADER, parse

SUMMARY = "interval_summary"
LOGIN = "https://login.thrio.com/provider/token-with-authorities"
CLUSTER = "https://nv7.thrio.io"
NOW = datetime(2025, 11, 20, 12, 0, tzinfo=UTC)
T_10_00 = 1763632800


@pytest.fixture(autouse=True)
def fresh_token_cache():
    forget_all()
    yield
    forget_all()


def ncc_volume(**changes: object):
    item = {
        "queueId": "q1",
        "queueName": "Sales",
        "intervalStart": T_10_00,
        "sumHandleTime": 100,
        "enteredCount": 3,
        "abandonedCount": 1,
        **changes,
    }
    responses.get(LOGIN, json={"token": "tok", "location": CLUSTER})
    responses.get(CLUSTER + "/wfm/api/queueintervals", json={"intervals": [item]})
    section = Section("https://login.thrio.com/", {"account": "acct", "password": "pw"})
    adapter = NCCAdapter(
        ConnectionSettings(key="acme/thrio", vendor="thrio", realtime=section, history=section)
    )
    return adapter.fetch_volume(
        datetime(2025, 11, 20, 10, 0, tzinfo=UTC), datetime(2025, 11, 20, 11, 0, tzinfo=UTC)
    )


@pytest.mark.parametrize(("field", "value"), [("enteredCount", 2.5), ("abandonedCount", 0.4)])
@time_machine.travel(NOW, tick=False)
@responses.activate
def test_it_refuses_a_fractional_count_from_nextiva_naming_the_field(field, value):
    with pytest.raises(DataError, match=rf"'{field}' is {value}, a fractional count"):
        ncc_volume(**{field: value})


@time_machine.travel(NOW, tick=False)
@responses.activate
def test_a_whole_count_sent_as_a_float_and_a_fractional_handle_time_are_accepted():
    [record] = ncc_volume(enteredCount=3.0, sumHandleTime=100.4)
    assert (record.entered, record.handle_seconds) == (3, 100)


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
