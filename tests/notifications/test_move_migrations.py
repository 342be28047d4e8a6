"""The migrations that move addresses and lists into this app, and flips into its outbox,
keep every row: a database that holds them before comes out with the same rows after."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.migrationkit import latest_schema_after, migrate  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("latest_schema_after")]

BEFORE = [
    ("tokens", "0002_bannershown_emailaddress_subscriber_subscriptionlist_and_more"),
    ("collectors", "0010_retention_horizon_run_totals_and_indexes"),
]
AFTER = [
    ("notifications", "0002_addresses_and_lists_from_tokens"),
    ("collectors", "0011_healthflip_in_the_one_outbox"),
]
T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)


def test_addresses_lists_and_subscribers_keep_their_rows_in_the_notifications_app():
    apps = migrate(BEFORE)
    User = apps.get_model("auth", "User")
    Tenant = apps.get_model("integrations", "Tenant")
    user = User.objects.create(username="ada", email="ada@example.com")
    tenant = Tenant.objects.create(name="Acme", slug="acme")
    address = apps.get_model("tokens", "EmailAddress").objects.create(
        user=user, email="ada@example.com", verified_at=T0
    )
    ops = apps.get_model("tokens", "SubscriptionList").objects.create(tenant=tenant, name="ops")
    member = apps.get_model("tokens", "Subscriber").objects.create(
        list=ops, email="noc@example.net", confirmed_at=T0
    )

    apps = migrate(AFTER)
    moved = apps.get_model("notifications", "EmailAddress").objects.get()
    assert (moved.pk, moved.user_id, moved.email, moved.verified_at) == (
        address.pk,
        user.pk,
        "ada@example.com",
        T0,
    )
    lst = apps.get_model("notifications", "SubscriptionList").objects.get()
    assert (lst.pk, lst.tenant_id, lst.name) == (ops.pk, tenant.pk, "ops")
    sub = apps.get_model("notifications", "Subscriber").objects.get()
    assert (sub.pk, sub.list_id, sub.email, sub.confirmed_at) == (member.pk, ops.pk, "noc@example.net", T0)
    ContentType = apps.get_model("contenttypes", "ContentType")
    assert not ContentType.objects.filter(app_label="tokens", model="emailaddress").exists()


def test_flips_mailed_before_are_finished_in_the_outbox_and_undecided_ones_wait():
    apps = migrate(BEFORE)
    Tenant = apps.get_model("integrations", "Tenant")
    Connection = apps.get_model("integrations", "VendorConnection")
    tenant = Tenant.objects.create(name="Acme", slug="acme")
    conn = Connection.objects.create(
        tenant=tenant,
        name="tcn",
        vendor="tcn",
        realtime_base_url="https://api.tcn3.com/",
        time_zone="UTC",
        interval_seconds=900,
    )
    Flip = apps.get_model("collectors", "HealthFlip")
    common = {"connection": conn, "stream": "agent_states", "old_status": "ok", "new_status": "late"}
    mailed = Flip.objects.create(created=T0, processed=T0, delivery="sent", **common)
    failed = Flip.objects.create(
        created=T0, processed=T0, delivery="failed", send_error="550 no such user", **common
    )
    undecided = Flip.objects.create(created=T0, **common)

    apps = migrate(AFTER)
    Flip = apps.get_model("collectors", "HealthFlip")
    rows = {f.pk: f for f in Flip.objects.all()}
    assert (rows[mailed.pk].sent_at, rows[mailed.pk].failed, rows[mailed.pk].delivery) == (T0, False, "sent")
    assert (rows[failed.pk].sent_at, rows[failed.pk].failed) == (T0, True)
    assert rows[failed.pk].error == "550 no such user"
    assert rows[undecided.pk].processed is None and rows[undecided.pk].sent_at is None
    # Nothing already mailed is waiting to be sent again.
    assert list(Flip.objects.filter(processed__isnull=False, sent_at=None)) == []
