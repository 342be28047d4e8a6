from __future__ import annotations

import pytest

from integrations.vendors.tcn.files import FileLayout, LayoutError


def test_the_default_layout_is_call_detail_with_the_documented_headers():
    layout = FileLayout.from_options({})
    assert layout.kind == "call_detail"
    assert dict(layout.columns) == {
        "call_id": "Call ID",
        "queue": "Hunt Group",
        "start": "Start Time",
        "handle_seconds": "Handle Time",
        "result": "Result",
    }
    assert layout.abandoned_results == {"abandoned", "2110", "ala", "answered linkcall abandoned"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"kind": "weekly"}, "kind must be one of"),
        ({"kind": "interval_summary", "columns": {"call_id": "X"}}, "unknown key"),
        ({"interval_minutes": 30}, "will not split longer ones"),
        ({"colums": {}}, "unknown key"),
        (42, "must be a layout name or an object"),
        ({"delimiter": ";;"}, "one character"),
    ],
)
def test_a_wrong_layout_option_is_a_clear_configuration_error(value, message):
    with pytest.raises(LayoutError, match=message):
        FileLayout.from_options({"file_layout": value})
