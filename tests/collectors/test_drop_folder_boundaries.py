# ruff: noqa: F811  (fixtures imported from drops_helpers are parameters here)
"""A scan reads only a connection's own folder, checked again on the filesystem every time.

Paths stored before the rules (or written around them) that lead to tenant B's folder, and
folders swapped for a link after saving, fail A's scan with a run that says why; nothing of
B's is ingested under A and B's files stay where they are.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from collectors.drops import scan_all, scan_connection
from collectors.models import CollectionRun, DropFile, IntervalVolume
from integrations.models import VendorConnection
from tests.conftest import make_connection

from .drops_helpers import calls, drop_root  # noqa: F401

pytestmark = pytest.mark.django_db
NOW = datetime(2025, 1, 15, 18, 0, tzinfo=UTC)
B_FILE = calls("1,Sales,2025/01/15 09:02,120,ANSWERED")


@pytest.fixture
def conn_b(drop_root, tenant_b) -> VendorConnection:
    conn = make_connection(tenant_b, "tcn", "tcn")
    conn.set_values("history", {})
    conn.save()
    return conn


@pytest.fixture
def b_folder(drop_root, conn_b) -> Path:
    folder = drop_root / "bolt" / "tcn"
    folder.mkdir(parents=True)
    (folder / "CallVolume_b.csv").write_bytes(B_FILE)
    return folder


@pytest.fixture
def conn_a(drop_root, tenant_a) -> VendorConnection:
    conn = make_connection(tenant_a, "tcn", "tcn")
    conn.set_values("history", {})
    conn.save()
    (drop_root / "acme").mkdir(exist_ok=True)
    return conn


def store_path(conn: VendorConnection, folder: str) -> None:
    """Set a path as the database may already hold it: without the save-time check."""
    VendorConnection.objects.filter(pk=conn.pk).update(history_values={"drop_folder": folder})
    conn.refresh_from_db()


def assert_nothing_of_b_under_a(conn_a: VendorConnection, b_folder: Path) -> None:
    assert not DropFile.objects.filter(connection=conn_a).exists()
    assert not IntervalVolume.objects.filter(connection=conn_a).exists()
    assert (b_folder / "CallVolume_b.csv").read_bytes() == B_FILE
    assert not (b_folder / "processed").exists()


@pytest.mark.parametrize("form", ["relative", "absolute", "dot-dot", "parent", "symlink"])
def test_a_stored_path_to_bs_folder_fails_as_scan_and_ingests_nothing(
    drop_root, conn_a, conn_b, b_folder, form
):
    if form == "symlink":
        (drop_root / "acme" / "link").symlink_to(b_folder)
    path = {
        "relative": "bolt/tcn",
        "absolute": str(b_folder),
        "dot-dot": "acme/../bolt/tcn",
        "parent": "bolt",
        "symlink": "acme/link",
    }[form]
    store_path(conn_a, path)
    assert scan_connection(conn_a, now=NOW) == []
    assert scan_connection(conn_a, now=NOW) == []
    run = CollectionRun.objects.get(connection=conn_a)
    assert run.status == CollectionRun.FAILED
    assert run.error_class == "DropConfigError"
    assert "DROP_ROOT/acme/" in run.error_message or "symbolic link" in run.error_message
    assert_nothing_of_b_under_a(conn_a, b_folder)


def test_bs_own_scan_still_takes_bs_file(drop_root, conn_a, conn_b, b_folder):
    store_path(conn_a, "acme/../bolt/tcn")
    scan_all(now=NOW)
    scan_all(now=NOW)
    assert DropFile.objects.filter(connection=conn_b, status=DropFile.INGESTED).count() == 1
    assert not DropFile.objects.filter(connection=conn_a).exists()


def test_a_folder_swapped_for_a_link_after_saving_is_refused_at_scan_time(
    drop_root, conn_a, conn_b, b_folder
):
    inbox = drop_root / "acme" / "inbox"
    inbox.mkdir()
    conn_a.set_values("history", {"drop_folder": "acme/inbox"})
    conn_a.full_clean()  # a real folder inside acme's: accepted when saved
    conn_a.save()
    inbox.rmdir()
    os.symlink(b_folder, inbox)
    scan_connection(conn_a, now=NOW)
    scan_connection(conn_a, now=NOW)
    run = CollectionRun.objects.get(connection=conn_a)
    assert run.status == CollectionRun.FAILED
    assert "symbolic link" in run.error_message
    assert_nothing_of_b_under_a(conn_a, b_folder)


def test_a_derived_folder_replaced_by_a_link_is_refused_at_scan_time(drop_root, conn_a, conn_b, b_folder):
    os.symlink(b_folder, drop_root / "acme" / "tcn")
    scan_connection(conn_a, now=NOW)
    scan_connection(conn_a, now=NOW)
    run = CollectionRun.objects.get(connection=conn_a)
    assert "symbolic link" in run.error_message
    assert_nothing_of_b_under_a(conn_a, b_folder)


def test_a_tenant_folder_replaced_by_a_link_to_another_tenants_is_refused(
    drop_root, conn_a, conn_b, b_folder
):
    store_path(conn_a, "acme/tcn")  # explicit, as valid as the derived one when stored
    (drop_root / "acme").rmdir()
    os.symlink(drop_root / "bolt", drop_root / "acme")
    scan_connection(conn_a, now=NOW)
    scan_connection(conn_a, now=NOW)
    run = CollectionRun.objects.get(connection=conn_a)
    assert run.status == CollectionRun.FAILED
    assert_nothing_of_b_under_a(conn_a, b_folder)


def test_two_connections_stored_with_overlapping_folders_are_both_refused(drop_root, tenant_a, conn_a):
    other = make_connection(tenant_a, "tcn", "other")
    store_path(other, "acme/tcn/inner")
    (drop_root / "acme" / "tcn" / "inner").mkdir(parents=True)
    (drop_root / "acme" / "tcn" / "inner" / "x.csv").write_bytes(B_FILE)
    for conn in (conn_a, other):
        scan_connection(conn, now=NOW)
        run = CollectionRun.objects.get(connection=conn)
        assert "another connection's drop folder" in run.error_message
    assert not DropFile.objects.exists()
