"""Drop files that cannot be stored are quarantined with a reason; they never stop a scan.

A NUL (or any control character but tab, CR and LF) is corrupt input on every database,
an unterminated quote is malformed CSV, a call from 1900 is as impossible as one from next
year, and a file the database refuses for any reason is rolled back and quarantined, while
the files after it, in the same folder and in other tenants' folders, are ingested.
"""

# ruff: noqa: F811  (fixtures imported from drops_helpers are parameters here)
from __future__ import annotations

import os
from datetime import UTC, datetime
from unittest import mock

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DataError as DatabaseDataError
from django.db import OperationalError

from collectors import drops
from collectors.drops import FAILED, INGESTED, QUARANTINED, ingest_path, scan_all
from collectors.models import CollectionRun, DropCall, DropFile, IntervalVolume, call_key_of
from tests.conftest import make_connection

from .drops_helpers import calls, drop_conn, drop_root, folder  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)
GOOD = "1,Sales,2025/01/15 09:02,120,ANSWERED"


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(datetime(2025, 1, 15, 18, 0, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def bolt_folder(drop_root, tenant_b):
    conn = make_connection(tenant_b, "tcn", "tcn-drop", drop_folder="bolt/tcn")
    path = drop_root / "bolt" / "tcn"
    path.mkdir(parents=True)
    return conn, path


def write(path, content: bytes, age: int) -> None:
    """A file with an mtime `age` seconds back: older files are taken first."""
    path.write_bytes(content)
    stamp = (datetime(2025, 1, 15, 17, 0, tzinfo=UTC).timestamp() - age) * 10**9
    os.utime(path, ns=(int(stamp), int(stamp)))


def scan_twice():
    scan_all()  # first sight: files are complete when a second scan sees them unchanged
    return {r.name: r for r in scan_all()}


def test_a_nul_byte_file_is_quarantined_and_the_good_files_of_both_tenants_after_it_are_ingested(
    drop_conn, folder, bolt_folder
):
    bolt, bolt_path = bolt_folder
    write(folder / "a1-corrupt.csv", calls(GOOD, "2,Sa\x00les,2025/01/15 09:05,60,ANSWERED"), age=300)
    write(folder / "a2-good.csv", calls("3,Sales,2025/01/15 09:20,30,ANSWERED"), age=200)
    write(bolt_path / "b1-good.csv", calls("7,Support,2025/01/15 09:40,45,ANSWERED"), age=100)

    results = scan_twice()

    bad = results["a1-corrupt.csv"]
    assert bad.status == QUARANTINED
    assert "line 3, column 2 ('Hunt Group')" in bad.reason
    assert "U+0000 (NUL)" in bad.reason
    assert (folder / "quarantine" / "a1-corrupt.csv").exists()
    assert "U+0000" in (folder / "quarantine" / "a1-corrupt.csv.reason").read_text()
    assert results["a2-good.csv"].status == INGESTED
    assert results["b1-good.csv"].status == INGESTED
    # Nothing of the corrupt file, not even its good first row, was stored.
    assert sorted(DropCall.objects.values_list("connection__tenant__slug", "call_key")) == sorted(
        [("acme", call_key_of("Sales", "3")), ("bolt", call_key_of("Support", "7"))]
    )
    assert IntervalVolume.objects.filter(connection=bolt).count() == 1
    run = CollectionRun.objects.get(pk=bad.run_id)
    assert (run.status, run.error_class, run.source) == ("failed", "DataError", "a1-corrupt.csv")


@pytest.mark.parametrize("char", ["\x1b", "\x7f", "\x0b", "\x85"])
def test_other_control_characters_are_corrupt_input_but_tabs_and_newlines_in_quotes_are_not(
    drop_conn, folder, char
):
    path = folder / "x.csv"
    path.write_bytes(calls(f"1,Sales,2025/01/15 09:02,120,ANS{char}WERED"))
    result = ingest_path(drop_conn, path)
    assert result.status == QUARANTINED
    assert f"U+{ord(char):04X}" in result.reason and "column 5 ('Result')" in result.reason

    fine = folder / "y.csv"
    fine.write_bytes(calls('2,"Sales\tEast",2025/01/15 09:02,120,"ANSWERED\r\nby bot"'))
    assert ingest_path(drop_conn, fine).status == INGESTED


def test_an_unterminated_quote_is_refused_as_malformed_not_read_as_an_empty_file(drop_conn, folder):
    path = folder / "cut.csv"
    path.write_bytes(
        calls(GOOD, '"2,Sales,2025/01/15 09:05,60,ANSWERED', "3,Sales,2025/01/15 09:06,60,ANSWERED")
    )
    result = ingest_path(drop_conn, path)
    assert result.status == QUARANTINED
    assert "line 3: malformed CSV, a quoted field opened on this line is never closed" in result.reason
    assert not DropCall.objects.exists()
    assert DropFile.objects.get(connection=drop_conn).status == DropFile.QUARANTINED


@pytest.mark.parametrize("when", ["1900/01/01 09:00", "1999/12/31 15:45", "1900-01-01T09:00:00+00:00"])
def test_a_call_from_before_2000_is_refused_like_a_future_one(drop_conn, folder, when):
    path = folder / "old.csv"
    path.write_bytes(calls(GOOD, f"2,Sales,{when},60,ANSWERED"))
    result = ingest_path(drop_conn, path)
    assert result.status == QUARANTINED
    assert "line 3, column 'Start Time'" in result.reason
    assert "before 2000-01-01, the earliest date Switchboard accepts" in result.reason
    assert not IntervalVolume.objects.exists()


def test_a_file_the_database_refuses_is_rolled_back_quarantined_and_the_next_file_is_ingested(
    drop_conn, folder
):
    real = drops.store_calls

    def store_then_refuse(connection, ledger, rows, now):
        merged = real(connection, ledger, rows, now)
        if ledger.name == "refused.csv":  # refused after its calls and intervals were written
            raise DatabaseDataError("value too long for type character varying(200)\nCONTEXT: COPY")
        return merged

    write(folder / "refused.csv", calls(GOOD), age=200)
    write(folder / "next.csv", calls("9,Sales,2025/01/15 09:31,10,ANSWERED"), age=100)
    with mock.patch.object(drops, "store_calls", store_then_refuse):
        results = scan_twice()

    refused = results["refused.csv"]
    assert refused.status == QUARANTINED
    assert refused.reason == (
        "refused.csv: the database refused the file "
        "(DataError: value too long for type character varying(200) CONTEXT: COPY)"
    )
    assert (folder / "quarantine" / "refused.csv").exists()
    ledger = DropFile.objects.get(name="refused.csv")
    assert (ledger.status, ledger.rows) == (DropFile.QUARANTINED, 0)
    assert CollectionRun.objects.get(pk=refused.run_id).status == "failed"
    assert results["next.csv"].status == INGESTED
    assert list(DropCall.objects.values_list("call_key", flat=True)) == [call_key_of("Sales", "9")]
    assert list(IntervalVolume.objects.values_list("entered", flat=True)) == [1]


def test_a_database_outage_leaves_the_file_for_the_next_scan_and_goes_on_with_the_others(drop_conn, folder):
    real = drops.store_calls

    def outage(connection, ledger, rows, now):
        if ledger.name == "first.csv":
            raise OperationalError("server closed the connection unexpectedly")
        return real(connection, ledger, rows, now)

    write(folder / "first.csv", calls(GOOD), age=200)
    write(folder / "second.csv", calls("9,Sales,2025/01/15 09:31,10,ANSWERED"), age=100)
    with mock.patch.object(drops, "store_calls", outage):
        results = scan_twice()
    assert results["first.csv"].status == FAILED
    assert "the file stays for the next scan" in results["first.csv"].reason
    assert (folder / "first.csv").exists()
    assert not DropFile.objects.filter(name="first.csv").exists()
    assert results["second.csv"].status == INGESTED
    # Once the database is back, the file is ingested (seen complete again by two scans).
    assert {n: r.status for n, r in scan_twice().items()} == {"first.csv": INGESTED}


def test_a_control_character_deep_in_a_large_file_is_found_on_its_line(drop_conn, folder):
    # Text is searched in 64 KiB chunks; the line reported must still be the physical line.
    rows = [f"{n},Sales,2025/01/15 09:{n % 60:02d},{n % 300},ANSWERED" for n in range(6000)]
    rows[4500] = '4500,Sales,2025/01/15 09:00,10,"ANS\r\nWER\x00ED"'
    path = folder / "big.csv"
    path.write_bytes(calls(*rows))
    assert path.stat().st_size > 3 * 65536
    result = ingest_path(drop_conn, path)
    assert result.status == QUARANTINED
    # Header on line 1, row n on line n + 2; the quoted cell's second line holds the NUL.
    assert "line 4503, column 5 ('Result'): U+0000 (NUL) at character 9 of the cell" in result.reason


def test_ingest_file_exits_1_and_leaves_the_file_when_the_database_fails(drop_conn, folder):
    path = folder / "first.csv"
    path.write_bytes(calls(GOOD))
    with (
        mock.patch.object(drops, "store_calls", side_effect=OperationalError("could not obtain lock")),
        pytest.raises(CommandError, match="the database failed") as info,
    ):
        call_command("ingest_file", "acme/tcn-drop", str(path))
    assert info.value.returncode == 1
    assert path.exists()


@pytest.mark.parametrize(
    "row", [f"1,{'Q' * 201},2025/01/15 09:02,1,ANSWERED", f"{'9' * 201},Sales,2025/01/15 09:02,1,X"]
)
def test_a_label_or_call_id_too_long_to_store_is_refused_alike_on_every_database(drop_conn, folder, row):
    path = folder / "long.csv"
    path.write_bytes(calls(GOOD, row))
    result = ingest_path(drop_conn, path)
    assert result.status == QUARANTINED
    assert "line 3, column" in result.reason and "longer than 200 characters" in result.reason
    assert not DropCall.objects.exists()
