"""Small builders shared by the TCN tests."""

from __future__ import annotations

import io
from pathlib import Path
from zoneinfo import ZoneInfo

from integrations.vendors.tcn.files import FileLayout, ParseStats, parse_file

FIXTURES = Path(__file__).parent / "fixtures" / "tcn"
PACIFIC = ZoneInfo("America/Los_Angeles")
CALL_HEADER = "Call ID,Hunt Group,Start Time,Handle Time,Result\r\n"
SUMMARY_HEADER = "Hunt Group,Interval Start,Calls Offered,Calls Abandoned,Handle Time\r\n"


def parse(text: str | bytes, layout: object = "call_detail", zone: ZoneInfo = PACIFIC, stats=None):
    data = text.encode() if isinstance(text, str) else text
    return parse_file(
        io.BytesIO(data), FileLayout.from_options({"file_layout": layout}), zone, stats or ParseStats()
    )
