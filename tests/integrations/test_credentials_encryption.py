from __future__ import annotations

import pytest
from django.db import connection as db

from integrations.models import VendorConnection
from tests.conftest import make_connection


@pytest.mark.django_db
def test_it_stores_secrets_encrypted_and_reads_them_back(tenant_a):
    conn = make_connection(tenant_a, "tcn", "main", access_token="tcn-secret-value-0001")
    with db.cursor() as cur:
        cur.execute("SELECT realtime_secrets FROM integrations_vendorconnection WHERE id = %s", [conn.pk])
        (raw,) = cur.fetchone()
    assert "tcn-secret-value-0001" not in raw
    fresh = VendorConnection.objects.get(pk=conn.pk)
    assert fresh.values_of("realtime")["access_token"] == "tcn-secret-value-0001"


@pytest.mark.django_db
def test_repr_never_shows_a_secret(tenant_a):
    conn = make_connection(tenant_a, "tcn", "main", access_token="tcn-secret-value-0002")
    settings = conn.connection_settings()
    for text in (repr(conn), str(conn), repr(conn.realtime_secrets), repr(settings)):
        assert "tcn-secret-value-0002" not in text


@pytest.mark.django_db
def test_history_falls_back_to_realtime_values(tenant_a):
    conn = make_connection(tenant_a, "8x8", "eight", tenant="acme", token="8x8-secret-0003")
    history = conn.connection_settings().history
    assert history.values["token"] == "8x8-secret-0003"
    assert history.base_url == conn.realtime_base_url
