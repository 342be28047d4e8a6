""" "Test connection" on a connection aimed inward: refused by name, the internal answer never shown."""

from __future__ import annotations

import pytest

from integrations.connection_check import check_connection
from integrations.models import VendorConnection
from tests.conftest import make_connection
from tests.integrations.egresskit import INTERNAL_BODY
from tests.integrations.test_admin_test_connection import run_action

pytestmark = pytest.mark.django_db


def aimed_at(conn: VendorConnection, url: str) -> VendorConnection:
    # Saved before the egress policy existed (or by a shell): no form ever checked it.
    VendorConnection.objects.filter(pk=conn.pk).update(realtime_base_url=url)
    conn.refresh_from_db()
    return conn


@pytest.mark.parametrize("vendor", ["tcn", "8x8", "nextiva"])
def test_the_check_is_refused_before_anything_reaches_the_internal_service(tenant_a, internal, vendor):
    conn = aimed_at(make_connection(tenant_a, vendor, "inward"), internal.url("/"))
    result = check_connection(conn)
    assert not result.ok
    assert result.error_class == "EgressRefused"
    assert "127.0.0.1 is an address the egress policy refuses (loopback)" in result.error
    assert INTERNAL_BODY not in result.error
    assert internal.received == []


def test_the_admin_action_names_the_host_and_never_shows_the_answer(client, manager_a, tenant_a, internal):
    conn = aimed_at(make_connection(tenant_a, "tcn", "inward"), internal.url("/backoffice/"))
    messages = run_action(client, manager_a, conn)
    text = " ".join(messages)
    assert "127.0.0.1" in text and "egress policy" in text
    assert INTERNAL_BODY not in text
    assert internal.received == []


def test_an_allowed_vendors_unexpected_answer_is_shown_as_a_short_excerpt(tenant_a, internal, settings):
    settings.VENDOR_EGRESS_ALLOW = ["127.0.0.1/32"]
    internal.answer = lambda path: (200, {}, "<html>" + "maintenance " * 200 + "</html>")
    conn = aimed_at(make_connection(tenant_a, "tcn", "allowed"), internal.url("/backoffice/"))
    result = check_connection(conn)
    assert result.error_class == "DataError"
    assert "got '<html>maintenance maintenance" in result.error
    assert len(result.error) < 300
