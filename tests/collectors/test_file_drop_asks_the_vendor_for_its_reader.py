"""The file drop, the FTP receiver and `ingest_file` serve any vendor that supplies data by
file: Tally (tests/collectors/tallyvendor.py) is one registry entry, and its files are
scanned, read by its own reader, stored, quarantined and refused like TCN's."""

# ruff: noqa: F811  (fixtures imported from drops_helpers are parameters here)
from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from collectors.drops import INGESTED, QUARANTINED, scan_all
from collectors.ftp import find_login
from collectors.models import CollectionRun, DropCall, DropFile, IntervalVolume
from integrations.models import VendorConnection
from integrations.vendors import get_vendor
from integrations.vendors.base import STREAM_FILE_DROP

from .drops_helpers import drop_root  # noqa: F401
from .tallyvendor import REGISTRY

pytestmark = pytest.mark.django_db
NINE = datetime(2025, 1, 15, 9, 0, tzinfo=UTC)


@pytest.fixture
def tally(settings, drop_root, tenant_a) -> VendorConnection:
    settings.SWITCHBOARD_EXTRA_VENDORS = REGISTRY
    conn = VendorConnection(
        tenant=tenant_a, vendor="tally", name="tally", realtime_base_url="https://t.example/"
    )
    conn.apply_vendor_defaults()
    conn.set_values("history", {"ftp_password": "tally-ftp-password"})
    conn.full_clean()
    conn.save()
    return conn


@pytest.fixture
def folder(drop_root, tally) -> Path:
    path = drop_root / "acme" / "tally"
    path.mkdir(parents=True)
    return path


def scan_twice() -> dict[str, object]:
    scan_all()  # the first scan only notes a new file
    return {r.name: r for r in scan_all()}


def test_a_vendor_that_supplies_volume_by_file_has_the_file_drop_stream(tally):
    assert get_vendor("tally").streams == (STREAM_FILE_DROP,)
    assert tally.has_drop


def test_its_interval_files_are_read_by_its_reader_and_stored(tally, folder):
    (folder / "t1.txt").write_bytes(b"Sales,2025-01-15T09:00+00:00,3,1,200\n")
    result = scan_twice()["t1.txt"]
    assert (result.status, result.rows, result.created) == (INGESTED, 1, 1)
    row = IntervalVolume.objects.get(connection=tally)
    assert (row.queue.vendor_id, row.interval_start, row.entered, row.abandoned, row.handle_seconds) == (
        "Sales",
        NINE,
        3,
        1,
        200,
    )
    assert DropFile.objects.get(connection=tally).status == DropFile.INGESTED
    assert (folder / "processed").is_dir()


def test_its_calls_go_through_the_call_ledger_and_count_once(settings, tally, folder):
    tally.options = {"tally_calls": True}
    tally.save()
    (folder / "a.txt").write_bytes(
        b"c1,Sales,2025-01-15T09:00+00:00,100,0\nc2,Sales,2025-01-15T09:00+00:00,0,1\n"
    )
    (folder / "b.txt").write_bytes(
        b"c2,Sales,2025-01-15T09:00+00:00,0,1\nc3,Sales,2025-01-15T09:00+00:00,50,0\n"
    )
    results = scan_twice()
    assert {r.status for r in results.values()} == {INGESTED}
    assert DropCall.objects.filter(connection=tally).count() == 3
    row = IntervalVolume.objects.get(connection=tally)
    assert (row.entered, row.abandoned, row.handle_seconds) == (3, 1, 150)


def test_a_file_its_reader_refuses_is_quarantined_with_the_readers_reason(tally, folder):
    (folder / "bad.txt").write_bytes(b"Sales,2025-01-15T09:00+00:00,3\n")
    result = scan_twice()["bad.txt"]
    assert result.status == QUARANTINED
    assert result.reason == "bad.txt: line 1: 3 cells where 5 were expected"
    assert (folder / "quarantine" / "bad.txt").exists()
    assert not IntervalVolume.objects.exists()


def test_options_its_reader_refuses_stop_the_scan_as_a_configuration_error(tally, folder):
    tally.options = {"tally_broken": True}
    tally.save()
    (folder / "t1.txt").write_bytes(b"Sales,2025-01-15T09:00+00:00,3,1,200\n")
    assert scan_twice() == {}
    run = CollectionRun.objects.get(connection=tally)
    assert (run.error_class, run.error_message) == ("DropConfigError", "the option tally_broken is set")
    assert (folder / "t1.txt").exists()


def test_ingest_file_takes_its_file(tally, tmp_path):
    path = tmp_path / "one.txt"
    path.write_bytes(b"Sales,2025-01-15T09:00+00:00,2,0,60\n")
    out = StringIO()
    call_command("ingest_file", "acme/tally", str(path), stdout=out)
    assert "one.txt ingested: 1 rows, 1 intervals created" in out.getvalue()
    assert path.exists()  # outside the drop folder: left where it is


def test_the_ftp_receiver_gives_it_a_login_jailed_to_its_folder(tally, folder):
    found = find_login("acme.tally")
    assert found is not None
    connection, password, home = found
    assert (connection.pk, password, home) == (tally.pk, "tally-ftp-password", folder)
