"""Rotating keys: after the command, the new key alone decrypts everything."""

from __future__ import annotations

import io
import json

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import CommandError, call_command
from django.db import connection as db
from django.test import override_settings

from integrations.models import VendorConnection
from tests.conftest import make_connection

pytestmark = pytest.mark.django_db

OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()


def raw_rows() -> dict[int, tuple[str, str]]:
    with db.cursor() as cur:
        cur.execute("SELECT id, realtime_secrets, history_secrets FROM integrations_vendorconnection")
        return {pk: (rt, hi) for pk, rt, hi in cur.fetchall()}


def test_after_rotating_only_the_new_key_is_needed(tenant_a, tenant_b):
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD]):
        conns = [
            make_connection(tenant_a, "tcn", f"tcn-{i}", access_token=f"tcn-secret-{i:04d}-xyz")
            for i in range(7)
        ]
        make_connection(tenant_b, "nextiva", "ncc", password="nextiva-secret-0001")
        before = raw_rows()
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW, OLD]):
        out = io.StringIO()
        call_command("rotate_encryption_keys", "--batch-size", "3", "--json", stdout=out)
        assert json.loads(out.getvalue())["rotated"]["integrations.VendorConnection"] == 8
    after = raw_rows()
    for pk, (rt, hi) in after.items():
        assert rt not in before[pk] and hi not in before[pk]
        # The old key alone can no longer read a single value.
        with pytest.raises(InvalidToken):
            Fernet(OLD.encode()).decrypt(rt.encode())
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW]):
        for i, conn in enumerate(conns):
            assert VendorConnection.objects.get(pk=conn.pk).values_of("realtime")["access_token"] == (
                f"tcn-secret-{i:04d}-xyz"
            )
        ncc = VendorConnection.objects.get(name="ncc")
        assert ncc.values_of("realtime")["password"] == "nextiva-secret-0001"


def test_without_the_old_key_the_rotation_fails_and_changes_nothing(tenant_a):
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD]):
        make_connection(tenant_a, "tcn", "tcn-main")
        before = raw_rows()
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW]), pytest.raises(CommandError) as exc:
        call_command("rotate_encryption_keys", stdout=io.StringIO())
    assert exc.value.returncode == 1
    assert "nothing was changed" in str(exc.value)
    assert raw_rows() == before


def test_the_plain_output_counts_rows(tenant_a):
    make_connection(tenant_a, "tcn", "tcn-main")
    out = io.StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert "integrations.VendorConnection: 1 row(s) re-encrypted" in out.getvalue()


def test_a_bad_batch_size_is_a_bad_argument():
    with pytest.raises(CommandError) as exc:
        call_command("rotate_encryption_keys", "--batch-size", "0")
    assert exc.value.returncode == 2
