"""The TCN guide's default call result map decides which calls count as abandoned."""

from __future__ import annotations

import pytest

from .tcn_helpers import CALL_HEADER, parse


@pytest.mark.parametrize("result", ["ABANDONED", "ALA", "Answered Linkcall Abandoned", "2110", "ala"])
def test_the_guides_abandoned_results_count_as_abandoned_by_default(result):
    text = CALL_HEADER + f"1,Q,2025/01/15 09:02,0,{result}\r\n2,Q,2025/01/15 09:03,30,ANS\r\n"
    [record] = parse(text)
    assert (record.entered, record.abandoned) == (2, 1)


@pytest.mark.parametrize(
    "result",
    ["ANS", "Answered", "ANL", "Answered Linkcall", "AGT", "Answered Linkcall Agent Talk", "NOA", "2100"],
)
def test_the_guides_other_results_do_not_count_as_abandoned(result):
    [record] = parse(CALL_HEADER + f"1,Q,2025/01/15 09:02,12,{result}\r\n")
    assert (record.entered, record.abandoned) == (1, 0)


def test_a_connections_own_abandoned_results_replace_the_guides_set():
    layout = {"kind": "call_detail", "abandoned_results": ["NOA"]}
    text = CALL_HEADER + "1,Q,2025/01/15 09:02,0,ALA\r\n2,Q,2025/01/15 09:03,0,NOA\r\n"
    [record] = parse(text, layout)
    assert (record.entered, record.abandoned) == (2, 1)
