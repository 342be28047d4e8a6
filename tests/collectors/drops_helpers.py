"""Fixtures shared by the drop-folder, ingest_file and FTP receiver tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import make_connection

CALL_HEADER = "Call ID,Hunt Group,Start Time,Handle Time,Result\r\n"


def calls(*rows: str) -> bytes:
    return (CALL_HEADER + "".join(r + "\r\n" for r in rows)).encode()


@pytest.fixture
def drop_root(settings, tmp_path) -> Path:
    root = tmp_path / "drops"
    root.mkdir()
    settings.DROP_ROOT = str(root)
    return root


@pytest.fixture
def drop_conn(drop_root, tenant_a):
    return make_connection(tenant_a, "tcn", "tcn-drop", drop_folder="acme/tcn")


@pytest.fixture
def folder(drop_root, drop_conn) -> Path:
    path = drop_root / "acme" / "tcn"
    path.mkdir(parents=True)
    return path
