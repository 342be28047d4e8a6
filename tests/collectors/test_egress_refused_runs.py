"""A collection aimed inward fails its run at once (no retry), naming the host, storing no answer."""

from __future__ import annotations

import pytest

from collectors.models import CollectionRun
from collectors.runs import run_collection
from integrations.models import VendorConnection
from tests.collectors.enginekit import T0, schedule_of
from tests.conftest import make_connection
from tests.integrations.egresskit import INTERNAL_BODY

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("vendor", "stream"), [("8x8", "agent_states"), ("nextiva", "config")])
def test_a_run_against_an_inward_address_fails_as_refused(tenant_a, internal, vendor, stream):
    conn = make_connection(tenant_a, vendor, "inward")
    VendorConnection.objects.filter(pk=conn.pk).update(realtime_base_url=internal.url("/api/"))
    result = run_collection(schedule_of(conn, stream), now=T0)
    run = result.run
    assert result.retry_in is None
    assert (run.status, run.error_class) == (CollectionRun.FAILED, "EgressRefused")
    assert "127.0.0.1 is an address the egress policy refuses (loopback)" in run.error_message
    assert run.payload_sample == ""
    assert INTERNAL_BODY not in run.error_message
    assert internal.received == []
