# ruff: noqa: F811  (fixtures imported from drops_helpers are parameters here)
from __future__ import annotations

import os

import pytest

from collectors.drops import INGESTED, scan_connection
from collectors.models import DropFile, DropPending
from collectors.tasks import scan_drops

from .drops_helpers import calls, drop_conn, drop_root, folder  # noqa: F401

pytestmark = pytest.mark.django_db
CONTENT = calls("1,Sales,2025/01/15 09:02,120,ANSWERED")


def test_a_file_is_taken_only_when_a_second_scan_sees_it_unchanged(drop_conn, folder):
    path = folder / "a.csv"
    path.write_bytes(CONTENT[:20])
    assert scan_connection(drop_conn) == []
    path.write_bytes(CONTENT)  # still being uploaded: it grew
    assert scan_connection(drop_conn) == []
    assert path.exists()
    [result] = scan_connection(drop_conn)
    assert (result.name, result.status) == ("a.csv", INGESTED)
    assert not DropPending.objects.filter(connection=drop_conn).exists()


def test_a_touched_file_of_the_same_size_waits_another_scan(drop_conn, folder):
    path = folder / "a.csv"
    path.write_bytes(CONTENT)
    os.utime(path, ns=(10**18, 10**18))
    scan_connection(drop_conn)
    os.utime(path, ns=(2 * 10**18, 2 * 10**18))
    assert scan_connection(drop_conn) == []
    assert len(scan_connection(drop_conn)) == 1


def test_a_file_renamed_from_a_temporary_name_is_taken_at_first_sight(drop_conn, folder):
    tmp = folder / "CallVolume_20250115_1700.csv.tmp"
    tmp.write_bytes(CONTENT)
    assert scan_connection(drop_conn) == []
    tmp.rename(folder / "CallVolume_20250115_1700.csv")
    [result] = scan_connection(drop_conn)
    assert result.name == "CallVolume_20250115_1700.csv"


@pytest.mark.parametrize("name", ["x.csv.tmp", "x.csv.part", ".x.csv", "x.filepart"])
def test_temporary_and_hidden_files_are_never_ingested(drop_conn, folder, name):
    (folder / name).write_bytes(CONTENT)
    for _ in range(3):
        assert scan_connection(drop_conn) == []
    assert (folder / name).exists()


def test_processed_and_quarantine_folders_are_not_scanned(drop_conn, folder):
    (folder / "processed").mkdir()
    (folder / "processed" / "old.csv").write_bytes(CONTENT)
    scan_connection(drop_conn)
    assert scan_connection(drop_conn) == []


def test_the_beat_task_scans_every_tcn_connection(drop_conn, folder):
    (folder / "a.csv").write_bytes(CONTENT)
    assert scan_drops() == 0
    assert scan_drops() == 1
    assert DropFile.objects.filter(connection=drop_conn, status=DropFile.INGESTED).count() == 1


def test_a_drop_folder_outside_the_root_fails_the_scan_without_touching_it(drop_conn, tmp_path):
    drop_conn.set_values("history", {"drop_folder": str(tmp_path / "elsewhere")})
    drop_conn.save()
    assert scan_connection(drop_conn) == []
    assert not (tmp_path / "elsewhere").exists()
    run = drop_conn.runs.get()
    assert run.error_class == "DropConfigError"
    assert "must lie inside this tenant's folder DROP_ROOT/acme/" in run.error_message
