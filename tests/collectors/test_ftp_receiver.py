# ruff: noqa: F811  (fixtures imported from drops_helpers are parameters here)
"""A real FTP session against the embedded receiver, in a thread on 127.0.0.1."""

from __future__ import annotations

import ftplib
import io
import threading
from datetime import UTC, datetime

import pytest
from django.db import connections

from collectors.drops import scan_connection
from collectors.ftp import build_server
from collectors.models import IntervalVolume
from tests.conftest import make_connection

from .drops_helpers import calls, drop_root  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "ftp-secret-0123456789"


@pytest.fixture
def ftp_conn(drop_root, tenant_a):
    conn = make_connection(tenant_a, "tcn", "tcn-ftp")
    conn.set_values("history", {"drop_folder": "acme/ftp", "ftp_password": PASSWORD})
    conn.save()
    return conn


@pytest.fixture
def receiver():
    server = build_server("127.0.0.1", 0)
    server.handler.auth_failed_timeout = 0
    stop = threading.Event()

    def serve() -> None:
        try:
            while not stop.is_set():
                server.serve_forever(timeout=0.05, blocking=False)
        finally:
            # The logins queried the database from this thread: close its connection, or
            # PostgreSQL cannot drop the test database at the end of the run.
            connections.close_all()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.address[:2]
    stop.set()
    thread.join(5)
    server.close_all()


def login(address, user="acme.tcn-ftp", password=PASSWORD) -> ftplib.FTP:
    ftp = ftplib.FTP()
    ftp.connect(*address, timeout=5)
    ftp.login(user, password)
    return ftp


def test_an_upload_through_ftplib_ends_in_interval_rows_after_a_scan(ftp_conn, drop_root, receiver):
    ftp = login(receiver)
    content = calls("1,Sales,2025/01/15 09:02,120,ANSWERED", "2,Sales,2025/01/15 09:03,0,ABANDONED")
    ftp.storbinary("STOR CallVolume_20250115_1700.csv.tmp", io.BytesIO(content))
    ftp.rename("CallVolume_20250115_1700.csv.tmp", "CallVolume_20250115_1700.csv")
    ftp.storbinary("STOR second.csv", io.BytesIO(calls("3,Sales,2025/01/15 09:20,60,ANSWERED")))
    ftp.quit()
    landed = drop_root / "acme" / "ftp" / "CallVolume_20250115_1700.csv"
    assert landed.read_bytes() == content
    # The receiver registered both finished uploads, so one scan takes them.
    results = scan_connection(ftp_conn, now=datetime(2025, 1, 15, 18, 0, tzinfo=UTC))
    assert sorted(r.name for r in results) == ["CallVolume_20250115_1700.csv", "second.csv"]
    rows = sorted(IntervalVolume.objects.filter(connection=ftp_conn).values_list("interval_start", "entered"))
    assert rows == [
        (datetime(2025, 1, 15, 17, 0, tzinfo=UTC), 2),
        (datetime(2025, 1, 15, 17, 15, tzinfo=UTC), 1),
    ]


@pytest.mark.parametrize("target", ["../escape.csv", "/../../escape.csv", "../../../escape.csv"])
def test_dot_dot_never_leaves_the_drop_folder(ftp_conn, drop_root, receiver, target):
    ftp = login(receiver)
    try:
        ftp.storbinary(f"STOR {target}", io.BytesIO(b"x"))
    except ftplib.error_perm as exc:
        assert str(exc).startswith("550")
    ftp.cwd("..")
    assert ftp.pwd() == "/"
    ftp.quit()
    # The drop folder is the session's root: "/.." is "/" as in a chroot.
    escaped = [
        p for p in drop_root.parent.rglob("escape.csv") if (drop_root / "acme" / "ftp") not in p.parents
    ]
    assert escaped == []


def test_an_absolute_server_path_is_taken_inside_the_jail(ftp_conn, drop_root, receiver):
    outside = drop_root.parent / "abs.csv"
    ftp = login(receiver)
    with pytest.raises(ftplib.error_perm, match=r"^550"):
        ftp.storbinary(f"STOR {outside}", io.BytesIO(b"x"))
    ftp.quit()
    assert not outside.exists()


def test_a_symlink_out_of_the_drop_folder_is_refused(ftp_conn, drop_root, receiver, tmp_path):
    folder = drop_root / "acme" / "ftp"
    folder.mkdir(parents=True, exist_ok=True)
    (tmp_path / "secret").mkdir()
    (folder / "out").symlink_to(tmp_path / "secret")
    ftp = login(receiver)
    with pytest.raises(ftplib.error_perm, match=r"^550"):
        ftp.storbinary("STOR out/x.csv", io.BytesIO(b"x"))
    with pytest.raises(ftplib.error_perm, match=r"^550"):
        ftp.cwd("out")
    ftp.quit()
    assert not (tmp_path / "secret" / "x.csv").exists()


def test_uploads_into_subfolders_are_refused(ftp_conn, drop_root, receiver):
    (drop_root / "acme" / "ftp" / "processed").mkdir(parents=True)
    ftp = login(receiver)
    with pytest.raises(ftplib.error_perm, match=r"^550"):
        ftp.storbinary("STOR processed/x.csv", io.BytesIO(b"x"))
    ftp.quit()


def test_files_cannot_be_read_back_or_deleted(ftp_conn, drop_root, receiver):
    ftp = login(receiver)
    ftp.storbinary("STOR a.csv", io.BytesIO(b"x"))
    with pytest.raises(ftplib.error_perm, match=r"^550"):
        ftp.retrbinary("RETR a.csv", lambda _: None)
    with pytest.raises(ftplib.error_perm, match=r"^550"):
        ftp.delete("a.csv")
    ftp.quit()


def test_a_wrong_password_or_unknown_login_is_refused(ftp_conn, receiver):
    with pytest.raises(ftplib.error_perm, match=r"^530"):
        login(receiver, password="wrong")
    with pytest.raises(ftplib.error_perm, match=r"^530"):
        login(receiver, user="nobody")


def test_a_connection_without_an_ftp_password_has_no_login(drop_root, tenant_a, receiver):
    make_connection(tenant_a, "tcn", "plain", drop_folder="acme/plain")
    with pytest.raises(ftplib.error_perm, match=r"^530"):
        login(receiver, user="acme.plain", password="")
