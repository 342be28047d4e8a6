"""Migration 0017 turns every stored call into its 64-bit key, so a call stored before the
upgrade still counts once when a file after it repeats the call."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from collectors.models import DropCall, call_key_of
from tests.migrationkit import latest_schema_after, migrate  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("latest_schema_after")]

BEFORE = [("collectors", "0016_schedule_health_due_times")]
AFTER = [("collectors", "0017_compact_call_ledger")]
START = datetime(2025, 1, 15, 17, 0, tzinfo=UTC)
# blake2b-64 of (len 5, "Sales", "1"), personalised: pinned so a change of the key is seen.
KNOWN_SALES_1 = 1882989317568645084


def test_stored_calls_get_the_key_new_calls_get_and_keep_their_file_and_interval():
    apps = migrate(BEFORE)
    Tenant = apps.get_model("integrations", "Tenant")
    Connection = apps.get_model("integrations", "VendorConnection")
    DropFile = apps.get_model("collectors", "DropFile")
    OldCall = apps.get_model("collectors", "DropCall")
    tenant = Tenant.objects.create(name="Acme", slug="acme")
    conn = Connection.objects.create(
        tenant=tenant,
        name="tcn",
        vendor="tcn",
        realtime_base_url="https://api.tcn3.com/",
        time_zone="UTC",
        interval_seconds=900,
    )
    file = DropFile.objects.create(
        connection=conn, name="a.csv", sha256="0" * 64, size=1, received_at=START, status="ingested"
    )
    for queue, call in [("Sales", "1"), ("Service", "1"), ("Sales", "2")]:
        OldCall.objects.create(
            connection=conn,
            queue_vendor_id=queue,
            call_id=call,
            interval_start=START,
            handle_seconds=10,
            abandoned=False,
            file=file,
        )
    migrate(AFTER)
    rows = set(DropCall.objects.values_list("connection_id", "call_key", "interval_start", "file_id"))
    assert rows == {
        (conn.pk, call_key_of("Sales", "1"), START, file.pk),
        (conn.pk, call_key_of("Service", "1"), START, file.pk),
        (conn.pk, call_key_of("Sales", "2"), START, file.pk),
    }


def test_the_key_is_fixed_across_processes_and_tells_the_queue_from_the_call_id():
    # A fixed value: a key that changed between processes or versions would count calls twice.
    assert call_key_of("Sales", "1") == call_key_of("Sales", "1")
    assert call_key_of("ab", "c") != call_key_of("a", "bc")
    assert call_key_of("Sales", "1") == KNOWN_SALES_1
