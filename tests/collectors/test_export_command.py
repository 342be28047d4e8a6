"""`manage.py export`: neutral data as CSV or JSON, UTC timestamps, filtered, streamed."""

from __future__ import annotations

import csv
import inspect
import json
import os
from datetime import timedelta as td
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from collectors.agent_states import apply_snapshot
from collectors.config_import import import_config
from collectors.management.commands.export import Command
from collectors.writers import upsert_intervals
from integrations.vendors.records import AgentStateRecord, IntervalRecord, StateSnapshot
from tests.collectors.enginekit import T0, FakeAdapter
from tests.conftest import make_connection

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(eight, tenant_b):
    other = make_connection(tenant_b, "8x8", "other")
    for conn in (eight, other):
        upsert_intervals(
            conn,
            [
                IntervalRecord("sales", T0 + td(minutes=15 * i), 10 + i, 1, 300, queue_name="Sales")
                for i in range(4)
            ],
            T0 + td(hours=1),
        )
    import_config(eight, FakeAdapter().config, T0)
    apply_snapshot(eight, StateSnapshot(T0, [AgentStateRecord("a1", "available")]), interval_seconds=30)
    apply_snapshot(
        eight, StateSnapshot(T0 + td(minutes=1), [AgentStateRecord("a1", "busy")]), interval_seconds=30
    )
    return eight, other


def export(*args):
    out = StringIO()
    call_command("export", *args, stdout=out)
    return out.getvalue()


def test_volume_as_csv_with_utc_iso_timestamps(data):
    rows = list(csv.DictReader(StringIO(export("volume", "--connection", "acme/eight"))))
    assert len(rows) == 4
    assert rows[0] == {
        "tenant": "acme",
        "connection": "eight",
        "vendor": "8x8",
        "queue_id": "sales",
        "queue_name": "Sales",
        "interval_start": "2026-03-02T12:00:00Z",
        "interval_end": "2026-03-02T12:15:00Z",
        "entered": "10",
        "abandoned": "1",
        "handle_seconds": "300",
        "collected_at": "2026-03-02T13:00:00Z",
    }


def test_volume_filtered_by_tenant_and_time_as_json(data):
    rows = json.loads(
        export(
            "volume",
            "--tenant",
            "bolt",
            "--start",
            "2026-03-02T12:15Z",
            "--end",
            "2026-03-02T12:45Z",
            "--format",
            "json",
        )
    )
    assert [(r["tenant"], r["interval_start"], r["entered"]) for r in rows] == [
        ("bolt", "2026-03-02T12:15:00Z", 11),
        ("bolt", "2026-03-02T12:30:00Z", 12),
    ]


def test_agent_states_overlapping_the_window_including_open_ones(data):
    rows = json.loads(export("agent-states", "--json", "--start", "2026-03-02T12:00:30Z"))
    assert [(r["agent_id"], r["state"], r["start"], r["end"]) for r in rows] == [
        ("a1", "available", "2026-03-02T12:00:00Z", "2026-03-02T12:01:00Z"),
        ("a1", "busy", "2026-03-02T12:01:00Z", None),
    ]
    later = json.loads(export("agent-states", "--json", "--start", "2026-03-02T12:02Z"))
    assert [r["state"] for r in later] == ["busy"]


def test_agents_with_their_queues_and_queues(data):
    agents = list(csv.DictReader(StringIO(export("agents"))))
    assert [(a["agent_id"], a["name"], a["queues"], a["active"]) for a in agents] == [
        ("a1", "Ann", "sales", "True"),
        ("a2", "Bob", "support", "True"),
    ]
    queues = json.loads(export("queues", "--json"))
    assert {(q["tenant"], q["queue_id"]) for q in queues} == {
        ("acme", "sales"),
        ("acme", "support"),
        ("bolt", "sales"),
    }


def test_an_empty_export_is_valid(db):
    assert json.loads(export("queues", "--json")) == []
    assert export("volume").strip().startswith("tenant,connection,vendor,queue_id")


def test_rows_are_produced_as_a_stream_not_loaded_at_once():
    assert inspect.isgeneratorfunction(Command.rows_volume)
    assert inspect.isgeneratorfunction(Command.rows_agent_states)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("calls",), "unknown export 'calls'"),
        (("volume", "--format", "xml"), "unknown format 'xml'"),
        (("volume", "--tenant", "nope"), "no tenant 'nope'"),
        (("volume", "--connection", "acme/nope"), "no connection 'acme/nope'"),
        (("volume", "--start", "soon"), "--start 'soon' is not an ISO 8601 time"),
        (("volume", "--start", "2026-03-02T12:00", "--end", "2026-03-02T11:00"), "--end must be after"),
    ],
)
def test_a_bad_argument_exits_2(db, args, message):
    with pytest.raises(CommandError, match=message) as excinfo:
        export(*args)
    assert excinfo.value.returncode == 2


def test_a_reader_that_stops_early_ends_the_export_quietly(data, capsys):
    # `export volume | head -1`: the pipe's reading end closes while rows are still coming.
    read_end, write_end = os.pipe()
    os.close(read_end)
    with open(write_end, "w", buffering=1) as closed_pipe:
        call_command("export", "volume", stdout=closed_pipe)
        closed_pipe.write("the interpreter's last flush has nowhere to fail\n")
    assert capsys.readouterr().err == ""
