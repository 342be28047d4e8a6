"""Rows every benchmark starts from: one benchmark tenant and its connections."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection as db

CREDENTIALS = {
    "tcn": {"access_token": "bench-tcn-token-0123456789"},
    "8x8": {"tenant": "bench", "token": "bench-8x8-token-0123456789"},
    "nextiva": {"username": "bench", "password": "bench-nextiva-password"},
    "thrio": {"account": "bench", "password": "bench-thrio-password"},
}


def bench_tenant(slug: str = "bench"):
    from integrations.models import Tenant

    tenant, _ = Tenant.objects.get_or_create(
        slug=slug, defaults={"name": f"Benchmarks ({slug})", "time_zone": "America/Chicago"}
    )
    return tenant


def bench_connection(
    name: str,
    vendor: str = "tcn",
    *,
    base_url: str = "http://127.0.0.1:8765/",
    tenant_slug: str = "bench",
    **options,
):
    """The benchmark tenant's connection `name`, created with the vendor's defaults when missing."""
    from integrations.models import VendorConnection

    tenant = bench_tenant(tenant_slug)
    conn = VendorConnection.objects.filter(tenant=tenant, name=name).first()
    if conn is None:
        conn = VendorConnection(tenant=tenant, vendor=vendor, name=name, realtime_base_url=base_url)
        conn.apply_vendor_defaults()
        conn.set_values("realtime", CREDENTIALS[vendor])
        if vendor == "tcn":
            conn.set_values("history", {"drop_folder": "/tmp/bench-drop"})
    conn.options = {**(conn.options or {}), **options}
    conn.save()
    return conn


def truncate(*tables: str) -> None:
    """Empty tables of the benchmark database (and whatever references them)."""
    with db.cursor() as cur:
        cur.execute(f"TRUNCATE {', '.join(tables)} CASCADE")


def analyze(*tables: str) -> None:
    """Fresh planner statistics, so both sides start from the same plans."""
    with db.cursor() as cur:
        for table in tables:
            cur.execute(f"ANALYZE {table}")


POOL_PREFIX = "pool-"


def pool_connections(count: int) -> list[int]:
    """Ids of `count` plain benchmark connections, bulk-created (no signals, so no schedules)."""
    from integrations.models import VendorConnection

    tenant = bench_tenant()
    pool = VendorConnection.objects.filter(tenant=tenant, name__startswith=POOL_PREFIX)
    have = dict(pool.values_list("name", "id"))
    names = [f"{POOL_PREFIX}{n:06d}" for n in range(count)]
    missing = [
        VendorConnection(
            tenant=tenant,
            vendor="8x8",
            name=name,
            realtime_base_url="http://127.0.0.1:8765/8x8/api/",
            interval_seconds=30,
            time_zone="UTC",
        )
        for name in names
        if name not in have
    ]
    if missing:
        VendorConnection.objects.bulk_create(missing, batch_size=2000)
        have = dict(pool.values_list("name", "id"))
    return [have[name] for name in names]


def stored_intervals(connection_id: int) -> tuple[int, str]:
    """(rows, digest) of the intervals stored for a connection: queue, start, the three counts.

    The same digest as `intervals_digest` over the same rows, so a side's stored intervals can
    be checked against those it should have written, exactly and without holding them all.
    """
    with db.cursor() as cur:
        cur.execute(
            "SELECT count(*), md5(coalesce(string_agg(concat_ws(',', q.vendor_id,"
            " extract(epoch FROM v.interval_start)::bigint, v.entered, v.abandoned, v.handle_seconds),"
            " E'\\n' ORDER BY q.vendor_id COLLATE \"C\", v.interval_start), ''))"
            " FROM collectors_intervalvolume v JOIN collectors_queue q ON q.id = v.queue_id"
            " WHERE v.connection_id = %s",
            [connection_id],
        )
        rows, digest = cur.fetchone()
    return rows, digest


def intervals_digest(intervals: Iterable[tuple[str, int, int, int, int]]) -> tuple[int, str]:
    """(rows, digest) of (queue vendor id, start as epoch seconds, entered, abandoned, handle)."""
    import hashlib

    lines = sorted(intervals, key=lambda row: (row[0].encode(), row[1]))
    text = "\n".join(",".join(map(str, row)) for row in lines)
    return len(lines), hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()
