# ruff: noqa: F811  (fixtures imported from drops_helpers are parameters here)
"""An ingested call-detail file over the fall-back hour: the run's notes say how it was placed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from collectors.models import CollectionRun, IntervalVolume

from .drops_helpers import calls, drop_conn, drop_root  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(datetime(2025, 11, 3, 18, 0, tzinfo=UTC), tick=False):
        yield


def ingest(tmp_path, *rows: str) -> dict:
    path = tmp_path / "day.csv"
    path.write_bytes(calls(*rows))
    out = StringIO()
    call_command("ingest_file", "acme/tcn-drop", str(path), "--json", stdout=out)
    return json.loads(out.getvalue())


def test_a_file_crossing_the_hour_stores_both_passes_and_notes_it_on_the_run(drop_conn, tmp_path):
    # The connection is on US Pacific time: 01:xx PDT is 08:xx UTC, 01:xx PST 09:xx UTC.
    report = ingest(
        tmp_path,
        "1,Sales,2025/11/02 01:50,60,ANSWERED",
        "2,Sales,2025/11/02 01:05,60,ANSWERED",
        "3,Sales,2025/11/02 02:05,60,ANSWERED",
    )
    starts = sorted(
        IntervalVolume.objects.filter(connection=drop_conn).values_list("interval_start", flat=True)
    )
    assert starts == [
        datetime(2025, 11, 2, 8, 45, tzinfo=UTC),
        datetime(2025, 11, 2, 9, 0, tzinfo=UTC),
        datetime(2025, 11, 2, 10, 0, tzinfo=UTC),
    ]
    note = "placed by the file's time order: 1 in its first pass (daylight time), 1 in its second"
    assert any(note in n for n in report["notes"])
    assert note in CollectionRun.objects.get(pk=report["run"]).notes


def test_a_file_that_cannot_tell_says_so_on_the_run(drop_conn, tmp_path):
    report = ingest(tmp_path, "1,Sales,2025/11/02 01:05,60,ANSWERED", "2,Sales,2025/11/02 01:20,60,ANSWERED")
    note = "were placed in its first pass (daylight time) of America/Los_Angeles"
    assert any(note in n for n in report["notes"])
    assert note in CollectionRun.objects.get(pk=report["run"]).notes
