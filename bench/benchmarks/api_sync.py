"""The read API: a full sync of N intervals (JSON pages, CSV), one incremental page as the table
grows, and what the change-position triggers cost the interval upsert.

The API is driven in process through Django's test client (the whole view stack: middleware,
key lookup, throttle, queries, serializer, renderer; no socket), as one consumer would page
through it: JSON pages of 5,000 rows, or one streamed CSV. The reference is `manage.py
export volume` over the same rows, the path a WFM system had before the API.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.benchmarks.fixtures import analyze, bench_connection
from bench.benchmarks.upserts import TABLE, Upserts, counts, layout, seed_intervals
from bench.harness import REFERENCE, SWITCHBOARD, Benchmark, Reference

CONNECTION = "api-sync"
# A tenant of its own: the shared benchmark tenant also holds the dispatch and reminder
# benchmarks' pools (up to 50,000 connections), and a tenant-wide page reads each of its
# connections' index once, which no real tenant's handful of vendor accounts resembles.
TENANT = "bench-api"
JSON_PAGE = 5000
PAGE = 500
PAGES_PER_RUN = 20
TRIGGERS = ("collectors_intervalvolume_change_insert", "collectors_intervalvolume_change_update")
POSITION_INDEX = "interval_change_position"


def load(size: int) -> Any:
    """N intervals of the API connection, written once and reused while the count matches."""
    from django.db import connection as db

    from collectors.models import IntervalVolume, Queue

    conn = bench_connection(CONNECTION, tenant_slug=TENANT)
    if IntervalVolume.objects.filter(connection=conn).count() == size:
        return conn
    with db.cursor() as cur:
        cur.execute(f"DELETE FROM {TABLE} WHERE connection_id = %s", [conn.pk])
    Queue.objects.filter(connection=conn).delete()
    n_queues, n_intervals = layout(size)
    seed_intervals(conn, n_queues, n_intervals, per_queue=n_intervals, limit=size)
    analyze(TABLE, "collectors_queue")
    return conn


def settle() -> None:
    """Wait until no transaction older than the loaded rows is open (else the API holds them back)."""
    from django.db import connection as db

    from api.changes import horizon

    with db.cursor() as cur:
        cur.execute("SELECT coalesce(max(change_txid), 0) FROM collectors_intervalvolume")
        newest = cur.fetchone()[0]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if horizon() > newest:
            return
        time.sleep(0.05)
    raise RuntimeError("a transaction on the server stayed open for 2 minutes: the API would hold rows back")


def api_client(conn: Any) -> tuple[Any, dict[str, str]]:
    from django.conf import settings
    from django.test import Client

    from api.models import ApiKey

    settings.ALLOWED_HOSTS = ["testserver"]
    settings.API_THROTTLE_RATE = "1000000/s"  # a benchmark is not a client to protect against
    ApiKey.objects.filter(tenant=conn.tenant, name="bench").delete()
    _key, plain = ApiKey.create(conn.tenant, "bench", ["data:read"], None)
    return Client(), {"HTTP_AUTHORIZATION": f"Bearer {plain}"}


def export(conn: Any, workdir: Path) -> int:
    """`manage.py export volume --connection … --format csv` into a file; the rows written."""
    from django.core.management import call_command

    out = workdir / "export.csv"
    with out.open("w") as stream:
        call_command("export", "volume", "--connection", conn.key, "--format", "csv", stdout=stream)
    with out.open() as stream:
        return sum(1 for _ in stream) - 1


class _ApiBenchmark(Benchmark):
    unit = "rows"
    sizes = {"tiny": (200,), "small": (10_000, 50_000), "full": (10_000, 100_000, 1_000_000)}
    reference_label = "`manage.py export volume --connection … --format csv` into a file"

    def missing(self) -> str | None:
        try:
            import api.views  # noqa: F401
        except ImportError as exc:
            return f"the api app is not importable ({exc})"
        return None

    def setup(self, side: str, size: int, workdir: Path) -> Any:
        conn = load(size)
        settle()
        client, auth = api_client(conn)
        return {"connection": conn, "client": client, "auth": auth, "workdir": workdir}

    def verify(self, side: str, size: int, state: Any, result: dict[str, Any]) -> dict[str, Any]:
        if result["rows"] != size:
            raise AssertionError(f"{self.name}/{side}: {result['rows']} rows came out of {size}")
        return {}

    def verdict(self, table: list[dict[str, Any]]) -> tuple[bool | None, str]:
        rows = [r for r in table if r.get("ratio") is not None]
        if not rows:
            return None, "no ratio measured"
        worst = max(rows, key=lambda r: r["ratio"])
        ok = all(r["ratio"] <= self.max_ratio for r in rows)
        return ok, f"worst ratio {worst['ratio']:.2f} at {worst['size']:,} rows; target ≤ {self.max_ratio:g}"


class ApiSyncJson(_ApiBenchmark):
    name = "api_sync_json"
    title = "Read API: full sync of the intervals, JSON pages of 5,000"
    switchboard_label = "GET /api/v1/intervals/?connection=…&limit=5000&after=… until has_more is false"
    target = "within 4× the export command (ratio ≤ 4)"
    max_ratio = 4.0

    def run(self, side: str, size: int, state: Any) -> dict[str, Any]:
        if side != SWITCHBOARD:
            return {"rows": export(state["connection"], state["workdir"])}
        client, auth = state["client"], state["auth"]
        rows, pages, cursor = 0, 0, None
        while True:
            params = {
                "connection": state["connection"].pk,
                "limit": JSON_PAGE,
                **({"after": cursor} if cursor else {}),
            }
            body = client.get("/api/v1/intervals/", params, **auth).json()
            rows += len(body["results"])
            pages += 1
            cursor = body["next"]
            if not body["has_more"]:
                return {"rows": rows, "pages": pages}


class ApiSyncCsv(_ApiBenchmark):
    name = "api_sync_csv"
    title = "Read API: full sync of the intervals as one streamed CSV"
    switchboard_label = "GET /api/v1/intervals/?format=csv (StreamingHttpResponse, keyset chunks of 5,000)"
    target = "within 2× the export command (ratio ≤ 2)"
    max_ratio = 2.0

    def run(self, side: str, size: int, state: Any) -> dict[str, Any]:
        if side != SWITCHBOARD:
            return {"rows": export(state["connection"], state["workdir"])}
        params = {"connection": state["connection"].pk, "format": "csv"}
        response = state["client"].get("/api/v1/intervals/", params, **state["auth"])
        lines = sum(chunk.count(b"\n") for chunk in response.streaming_content)
        return {"rows": lines - 1, "cursor": bool(response.get("X-Next-Cursor"))}


class ApiPage(_ApiBenchmark):
    name = "api_page"
    title = f"Read API: one page of {PAGE} rows after a cursor as the table grows ({PAGES_PER_RUN} per run)"
    switchboard_label = f"GET /api/v1/intervals/?after=<cursor {PAGE} rows before the end>&limit={PAGE}"
    reference_label = f"the same page by offset (ORDER BY id OFFSET N-{PAGE} LIMIT {PAGE}), same serializer"
    target = "flat: the time per page grows by at most ×2 from the smallest size to the largest"

    def setup(self, side: str, size: int, workdir: Path) -> Any:
        from api.changes import Cursor
        from collectors.models import IntervalVolume

        state = super().setup(side, size, workdir)
        conn = state["connection"]
        last = (
            IntervalVolume.objects.filter(connection=conn)
            .order_by("change_txid", "change_seq")
            .values_list("change_txid", "change_seq")[max(0, size - PAGE - 1)]
        )
        state["cursor"] = Cursor(tuple(last), datetime.now(UTC)).encode()
        return state

    def run(self, side: str, size: int, state: Any) -> dict[str, Any]:
        rows = 0
        if side == SWITCHBOARD:
            for _ in range(PAGES_PER_RUN):
                body = (
                    state["client"]
                    .get("/api/v1/intervals/", {"after": state["cursor"], "limit": PAGE}, **state["auth"])
                    .json()
                )
                rows = len(body["results"])
            return {"rows": rows}
        from api.serializers import IntervalSerializer
        from collectors.models import IntervalVolume

        qs = IntervalVolume.objects.filter(connection=state["connection"]).select_related("queue")
        qs = qs.order_by("id")
        for _ in range(PAGES_PER_RUN):
            page = list(qs[max(0, size - PAGE) : size])
            rows = len(IntervalSerializer(page, many=True).data)
        return {"rows": rows}

    def verify(self, side: str, size: int, state: Any, result: dict[str, Any]) -> dict[str, Any]:
        if result["rows"] < min(PAGE, size - 1):
            raise AssertionError(f"{self.name}/{side}: a page of {result['rows']} rows")
        return {}

    def verdict(self, table: list[dict[str, Any]]) -> tuple[bool | None, str]:
        pts = [r for r in table if r.get("sb_seconds")]
        if len(pts) < 2:
            return None, "one size only"
        growth = pts[-1]["sb_seconds"] / pts[0]["sb_seconds"]
        per_page_ms = pts[-1]["sb_seconds"] / PAGES_PER_RUN * 1000
        return growth <= 2.0, (
            f"a page costs ×{growth:.2f} at {pts[-1]['size']:,} rows against {pts[0]['size']:,} "
            f"({per_page_ms:.1f} ms per page at the largest size)"
        )


class ChangeTriggers(Upserts):
    """The upsert benchmark's workload with and without change positions (triggers and index)."""

    name = "change_triggers"
    title = "Change positions: the interval upsert with the triggers and index, against without"
    switchboard_label = "collectors.writers.upsert_intervals with the change-position triggers and index"
    reference_label = "the same call with the two triggers disabled and the position index dropped"
    target = "the triggers cost at most 25% (time ratio ≤ 1.25)"

    def references(self) -> tuple[Reference, ...]:
        # One reference only: the upsert benchmark's raw SQL references measure something else.
        return (Reference(REFERENCE, self.reference_label),)

    def missing(self) -> str | None:
        return None

    def setup(self, side: str, size: int, workdir: Path) -> Any:
        positions(enabled=side == SWITCHBOARD)
        return super().setup(side, size, workdir)

    def run(self, side: str, size: int, state: Any) -> dict[str, Any]:
        from collectors.writers import upsert_intervals
        from integrations.vendors.records import IntervalRecord

        records = (
            IntervalRecord(f"q{q}", start, *counts(q, i, 1), queue_name=f"Queue {q}")
            for q, i, start in self._records(state)
        )
        created, updated = upsert_intervals(state["connection"], records, datetime.now(UTC))
        return {"created": created, "updated": updated}

    def verify(self, side: str, size: int, state: Any, result: dict[str, Any]) -> dict[str, Any]:
        extra = super().verify(side, size, state, result)
        positions(enabled=True)  # leave the database as the migrations made it
        return extra

    def verdict(self, table: list[dict[str, Any]]) -> tuple[bool | None, str]:
        rows = [r for r in table if r.get("ratio") is not None]
        if not rows:
            return None, "no ratio measured"
        worst = max(rows, key=lambda r: r["ratio"])
        return all(r["ratio"] <= 1.25 for r in rows), (
            f"the change positions cost {worst['ratio'] - 1:+.0%} at worst ({worst['size']:,} rows)"
        )


def positions(enabled: bool) -> None:
    from django.db import connection as db

    with db.cursor() as cur:
        for trigger in TRIGGERS:
            cur.execute(f"ALTER TABLE {TABLE} {'ENABLE' if enabled else 'DISABLE'} TRIGGER {trigger}")
        if enabled:
            columns = "connection_id, change_txid, change_seq"
            cur.execute(f"CREATE INDEX IF NOT EXISTS {POSITION_INDEX} ON {TABLE} ({columns})")
        else:
            cur.execute(f"DROP INDEX IF EXISTS {POSITION_INDEX}")
