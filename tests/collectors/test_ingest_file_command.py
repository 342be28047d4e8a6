# ruff: noqa: F811  (fixtures imported from drops_helpers are parameters here)
from __future__ import annotations

import json
from datetime import UTC, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from collectors.models import IntervalVolume

from .drops_helpers import calls, drop_conn, drop_root, folder  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(datetime(2025, 1, 15, 18, 0, tzinfo=UTC), tick=False):
        yield


def test_it_ingests_a_file_and_reports_json(drop_conn, tmp_path):
    path = tmp_path / "manual.csv"
    path.write_bytes(calls("1,Sales,2025/01/15 09:02,120,ANSWERED"))
    out = StringIO()
    call_command("ingest_file", "acme/tcn-drop", str(path), "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert (report["status"], report["rows"], report["created"]) == ("ingested", 1, 1)
    assert IntervalVolume.objects.filter(connection=drop_conn).count() == 1
    assert path.exists(), "a file outside the drop folder is left where it is"


def test_a_second_run_is_a_no_op(drop_conn, tmp_path):
    path = tmp_path / "manual.csv"
    path.write_bytes(calls("1,Sales,2025/01/15 09:02,120,ANSWERED"))
    call_command("ingest_file", "acme/tcn-drop", str(path), stdout=StringIO())
    out = StringIO()
    call_command("ingest_file", "acme/tcn-drop", str(path), stdout=out)
    assert "manual.csv duplicate" in out.getvalue()


def test_a_file_in_the_drop_folder_is_filed_away(drop_conn, folder):
    path = folder / "a.csv"
    path.write_bytes(calls("1,Sales,2025/01/15 09:02,120,ANSWERED"))
    call_command("ingest_file", "acme/tcn-drop", str(path), stdout=StringIO())
    assert (folder / "processed" / "2025-01-15" / "a.csv").exists()


def test_a_bad_file_exits_1_with_the_reason(drop_conn, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(calls("1,Sales,2025/01/15 09:02,-1,ANSWERED"))
    with pytest.raises(CommandError) as info:
        call_command("ingest_file", "acme/tcn-drop", str(path), stdout=StringIO())
    assert info.value.returncode == 1
    assert "line 2, column 'Handle Time'" in str(info.value)


@pytest.mark.parametrize(
    ("conn", "file", "message"),
    [
        ("acme/nope", "x", "no connection 'acme/nope'"),
        ("nonsense", "x", "not of the form"),
        ("acme/tcn-drop", "/nonexistent/file.csv", "is not a file"),
    ],
)
def test_bad_arguments_exit_2(drop_conn, conn, file, message):
    with pytest.raises(CommandError, match=message) as info:
        call_command("ingest_file", conn, file)
    assert info.value.returncode == 2


def test_a_connection_of_another_vendor_is_refused(conn_b, tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"")
    with pytest.raises(CommandError, match="not TCN") as info:
        call_command("ingest_file", "bolt/eight", str(path))
    assert info.value.returncode == 2
