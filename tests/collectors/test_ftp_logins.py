# ruff: noqa: F811  (fixtures imported from other test modules are parameters here)
"""FTP logins are one connection's each, and a session sees only that connection's folder.

Before: A's manager could give A's connection B's login and lock B out with 530, and a
path to B's folder put B's files in A's listing.
"""

from __future__ import annotations

import contextlib
import ftplib
import io

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.urls import reverse

from integrations.models import VendorConnection
from tests.conftest import make_connection

from .drops_helpers import calls, drop_root  # noqa: F401
from .test_ftp_receiver import login, receiver  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD_A = "ftp-secret-a-0123456789"
PASSWORD_B = "ftp-secret-b-0123456789"


def tcn_with_ftp(tenant, name: str, password: str, **history: str) -> VendorConnection:
    conn = make_connection(tenant, "tcn", name)
    conn.set_values("history", {"ftp_password": password, **history})
    conn.save()
    return conn


@pytest.fixture
def conn_a(drop_root, tenant_a):
    # An explicit path equal to the derived one: a session reaches the same folder either way.
    return tcn_with_ftp(tenant_a, "tcn", PASSWORD_A, drop_folder="acme/tcn")


@pytest.fixture
def conn_b(drop_root, tenant_b):
    conn = tcn_with_ftp(tenant_b, "tcn", PASSWORD_B, drop_folder="bolt/tcn")
    folder = drop_root / "bolt" / "tcn"
    (folder / "processed" / "2025-01-15").mkdir(parents=True)
    (folder / "b-waiting.csv").write_bytes(calls("1,Sales,2025/01/15 09:02,120,ANSWERED"))
    (folder / "processed" / "2025-01-15" / "b-taken.csv").write_bytes(b"x")
    return conn


def post_login(client, conn: VendorConnection, login_name: str):
    return client.post(
        reverse("admin:integrations_vendorconnection_change", args=[conn.pk]),
        {
            "name": conn.name,
            "enabled": "on",
            "realtime_base_url": conn.realtime_base_url,
            "interval_seconds": str(conn.interval_seconds),
            "time_zone": conn.time_zone,
            "history_base_url": "",
            "history_ftp_username": login_name,
            "options": "{}",
            "state_map": "{}",
        },
    )


@pytest.mark.parametrize("claimed", ["bolt.tcn", "BOLT.tcn", " bolt.tcn"])
def test_a_manager_cannot_claim_another_tenants_login(client, manager_a, conn_a, conn_b, receiver, claimed):
    client.force_login(manager_a)
    response = post_login(client, conn_a, claimed)
    assert response.status_code == 200
    [error] = response.context["adminform"].form.errors["history_ftp_username"]
    assert "already another connection's" in error
    assert "Bolt" not in error
    # B still logs in with B's own password (before: 530, A's password was asked for).
    ftp = login(receiver, user="bolt.tcn", password=PASSWORD_B)
    ftp.quit()


def test_the_database_refuses_a_second_connection_with_the_same_login(conn_a, tenant_b):
    with pytest.raises(IntegrityError):
        tcn_with_ftp(tenant_b, "tcn", PASSWORD_B, ftp_username="acme.tcn")


def test_a_login_claimed_explicitly_blocks_the_default_of_a_later_connection_by_a_field_error(
    drop_root, tenant_a, tenant_b
):
    tcn_with_ftp(tenant_a, "tcn", PASSWORD_A, ftp_username="shared-upload")
    conn = VendorConnection(tenant=tenant_b, vendor="tcn", name="tcn")
    conn.apply_vendor_defaults()
    conn.set_values("realtime", {"access_token": "tcn-token-b-0123456789"})
    conn.set_values("history", {"ftp_username": "Shared-Upload"})
    with pytest.raises(ValidationError) as info:
        conn.full_clean()
    assert "history_ftp_username" in info.value.message_dict


def test_a_login_never_lists_another_connections_files_or_processed_names(
    drop_root, conn_a, conn_b, receiver
):
    for path in ("bolt/tcn", "bolt", "acme/../bolt/tcn"):
        # As the database may hold it from before the rules: written without the check.
        VendorConnection.objects.filter(pk=conn_a.pk).update(
            history_values={**conn_a.history_values, "drop_folder": path}
        )
        try:
            ftp = login(receiver, user="acme.tcn", password=PASSWORD_A)
        except ftplib.error_perm as exc:
            assert str(exc).startswith("530")
            continue
        seen = ftp.nlst()
        for sub in ("tcn", "processed", "tcn/processed/2025-01-15"):
            with contextlib.suppress(ftplib.error_perm):
                seen += ftp.nlst(sub)
        ftp.quit()
        assert not any("b-waiting" in name or "b-taken" in name for name in seen), (path, seen)


def test_a_login_lists_its_own_top_level_but_not_its_processed_names(drop_root, conn_a, receiver):
    folder = drop_root / "acme" / "tcn"
    (folder / "processed" / "2025-01-15").mkdir(parents=True)
    (folder / "processed" / "2025-01-15" / "taken.csv").write_bytes(b"x")
    ftp = login(receiver, user="acme.tcn", password=PASSWORD_A)
    ftp.storbinary("STOR new.csv", io.BytesIO(b"x"))
    assert "new.csv" in ftp.nlst()
    with pytest.raises(ftplib.error_perm, match=r"^550"):
        ftp.nlst("processed/2025-01-15")
    with pytest.raises(ftplib.error_perm, match=r"^550"):
        ftp.cwd("processed")
    ftp.quit()


def test_logins_are_case_insensitive_and_reach_the_one_connection(drop_root, conn_a, receiver):
    ftp = login(receiver, user="ACME.TCN", password=PASSWORD_A)
    ftp.storbinary("STOR up.csv", io.BytesIO(b"x"))
    ftp.quit()
    assert (drop_root / "acme" / "tcn" / "up.csv").exists()
