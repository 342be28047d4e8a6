# ruff: noqa: F811  (fixtures imported from drops_helpers are parameters here)
from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from collectors.models import IntervalVolume

from .drops_helpers import calls, drop_conn, drop_root  # noqa: F401

pytestmark = pytest.mark.django_db


class Terminal(StringIO):
    """A stderr that says it is a terminal, as a shell's would."""

    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(datetime(2025, 1, 15, 18, 0, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def big_file(tmp_path):
    path = tmp_path / "CallVolume.csv"
    rows = [f"{n},Sales,2025/01/15 09:{n % 60:02d},120,ANSWERED" for n in range(5000)]
    path.write_bytes(calls(*rows))
    return path


def test_on_a_terminal_a_bar_shows_the_bytes_read_with_rate_and_time_left(drop_conn, big_file):
    err = Terminal()
    # The clock runs during the ingestion (a frozen one leaves the rate unknown: "?B/s").
    with time_machine.travel(datetime(2025, 1, 15, 18, 0, tzinfo=UTC), tick=True):
        call_command("ingest_file", "acme/tcn-drop", str(big_file), stdout=StringIO(), stderr=err)
    size = big_file.stat().st_size
    final = err.getvalue().split("\r")[-1]
    # e.g. "CallVolume.csv: 100%|##########| 204k/204k [00:00<00:00, 1.25MB/s]"
    assert final.startswith("CallVolume.csv: 100%|")
    assert f"{size / 1024:.0f}k/{size / 1024:.0f}k" in final
    assert re.search(r"\[\d\d:\d\d<\d\d:\d\d, [\d.]+[kMG]?B/s\]", final), final
    assert IntervalVolume.objects.filter(connection=drop_conn).count() == 4


def test_under_json_nothing_but_the_document_is_printed_even_on_a_terminal(drop_conn, big_file):
    out, err = StringIO(), Terminal()
    call_command("ingest_file", "acme/tcn-drop", str(big_file), "--json", stdout=out, stderr=err)
    assert json.loads(out.getvalue())["rows"] == 5000
    assert err.getvalue() == ""


def test_when_stderr_is_not_a_terminal_no_bar_is_drawn(drop_conn, big_file):
    out, err = StringIO(), StringIO()
    call_command("ingest_file", "acme/tcn-drop", str(big_file), stdout=out, stderr=err)
    assert err.getvalue() == ""
    assert out.getvalue().startswith("acme/tcn-drop: CallVolume.csv ingested: 5000 rows")
