"""`read_call_rows`, the tuple form of `read_calls` used for bulk storage, reads the same calls."""

from __future__ import annotations

import io

import pytest

from integrations.vendors.errors import DataError
from integrations.vendors.tcn.files import CallFact, FileLayout, ParseStats, read_call_rows, read_calls

from .tcn_helpers import CALL_HEADER, FIXTURES, PACIFIC


def both(data: bytes, layout: object = "call_detail") -> tuple[list, list, ParseStats, ParseStats]:
    shape = FileLayout.from_options({"file_layout": layout})
    s1, s2 = ParseStats(), ParseStats()
    facts = list(read_calls(io.BytesIO(data), shape, PACIFIC, s1))
    rows = list(read_call_rows(io.BytesIO(data), shape, PACIFIC, s2))
    return facts, rows, s1, s2


def test_it_yields_the_fields_of_every_call_fact_in_file_order():
    facts, rows, s1, s2 = both((FIXTURES / "call_detail.csv").read_bytes())
    assert facts == [CallFact(*row) for row in rows]
    assert len(rows) == 4
    assert (s2.rows, s2.skipped, s2.notes) == (s1.rows, s1.skipped, s1.notes) == (4, 1, s1.notes)


def test_result_codes_and_flags_are_judged_per_value_case_insensitively():
    text = CALL_HEADER + "1,Q,2025/01/15 09:02,0,abandoned\r\n2,Q,2025/01/15 09:02,5,ANSWERED\r\n"
    _, rows, _, _ = both(text.encode())
    assert [r[4] for r in rows] == [True, False]
    layout = {"kind": "call_detail", "columns": {"abandoned": "Abandoned"}}
    flags = (
        "Call ID,Hunt Group,Start Time,Handle Time,Abandoned\r\n"
        "1,Q,2025/01/15 09:02,0,Yes\r\n2,Q,2025/01/15 09:02,0,\r\n"
    )
    _, rows, _, _ = both(flags.encode(), layout)
    assert [r[4] for r in rows] == [True, False]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            ["1,Q,2025/01/15 09:02,10,ANSWERED", "Total,,,10,", "2,Q,2025/01/15 09:03,5,ANSWERED"],
            "line 4: data row after a totals/footer row",
        ),
        (
            ["1,Q,2025/01/15 09:02,10,ANSWERED", "2,Q,2025/01/15 09:03,1:xx,ANSWERED"],
            "line 3, column 'Handle Time': '1:xx' is not a duration",
        ),
        (
            ["1,Q,2025/03/09 02:30,10,ANSWERED"],
            "line 2, column 'Start Time': '2025/03/09 02:30' is a local time",
        ),
        ([",Q,2025/01/15 09:02,10,ANSWERED"], "line 2, column 'Call ID': '' is empty"),
    ],
)
def test_it_refuses_what_read_calls_refuses_with_the_same_message(rows, expected):
    data = (CALL_HEADER + "".join(r + "\r\n" for r in rows)).encode()
    shape = FileLayout.from_options({})
    messages = []
    for reader in (read_calls, read_call_rows):
        with pytest.raises(DataError) as exc:
            list(reader(io.BytesIO(data), shape, PACIFIC, ParseStats()))
        messages.append(str(exc.value))
    assert messages[0] == messages[1]
    assert expected in messages[0]
