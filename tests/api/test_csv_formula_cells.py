"""The API's CSV neutralises cells a spreadsheet would run as formulas, as `manage.py export` does."""

from __future__ import annotations

import csv
import io
from datetime import timedelta as td

import pytest

from collectors.writers import upsert_intervals
from integrations.vendors.records import IntervalRecord
from tests.api.conftest import T0, bearer

pytestmark = pytest.mark.django_db


def test_a_queue_named_like_a_formula_comes_out_as_text(client, conn_a, keys, no_horizon):
    upsert_intervals(conn_a, [IntervalRecord('=HYPERLINK("http://x","y")', T0 - td(minutes=15), 3, 0, 0)], T0)
    response = client.get("/api/v1/intervals/", {"format": "csv"}, **bearer(keys["manager_a"]))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    queue_cells = [value for value in rows[0].values() if "HYPERLINK" in value]
    assert queue_cells == ['\'=HYPERLINK("http://x","y")']
    # The JSON carries the value exactly as stored.
    listed = client.get("/api/v1/intervals/", **bearer(keys["manager_a"])).json()["results"]
    assert '=HYPERLINK("http://x","y")' in listed[0].values()
