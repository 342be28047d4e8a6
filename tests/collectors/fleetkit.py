"""Many tenants, connections and schedules at once, inserted in bulk (no save(), no signals):
enough rows to show that a page or a scrape costs the same at 20 and at 20,000 connections."""

from __future__ import annotations

from datetime import timedelta as td

from collectors.models import CollectionSchedule
from integrations.models import Tenant, VendorConnection
from tests.collectors.healthkit import T0

STREAMS = ("agent_states", "config", "volume")


def add_fleet(tenants: list[Tenant], per_tenant: int, *, prefix: str = "bulk", status: str = "ok") -> None:
    """`per_tenant` 8x8 connections in each tenant, each with its three schedules."""
    conns = VendorConnection.objects.bulk_create(
        [
            VendorConnection(tenant=t, vendor="8x8", name=f"{prefix}-{i:05d}", interval_seconds=10)
            for t in tenants
            for i in range(per_tenant)
        ],
        batch_size=2000,
    )
    CollectionSchedule.objects.bulk_create(
        [
            CollectionSchedule(
                connection=c,
                stream=stream,
                interval_seconds=60,
                next_run_at=T0,
                status=status,
                last_success_at=T0 - td(minutes=1),
            )
            for c in conns
            for stream in STREAMS
        ],
        batch_size=5000,
    )


def add_tenants(count: int, *, prefix: str = "t") -> list[Tenant]:
    return Tenant.objects.bulk_create(
        [Tenant(name=f"Tenant {prefix}{i:05d}", slug=f"{prefix}{i:05d}") for i in range(count)],
        batch_size=2000,
    )
