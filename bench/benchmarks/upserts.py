"""1) Interval upserts into PostgreSQL: Switchboard's write path against the strongest raw SQL.

N records over Q queues, half of them already stored with other counts (updates), half new.
Every side consumes a generator of the same records, so none holds its input in advance:
what a side keeps in memory is its own doing. Two references, both COPY into a temp table:
one INSERT … ON CONFLICT DO UPDATE, or an UPDATE … FROM the staging table plus an INSERT of
the rows not yet stored (an anti-join), which skips ON CONFLICT's speculative insertion of
every row that exists. Switchboard is compared with whichever is faster at each size.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from datetime import timedelta as td
from pathlib import Path
from typing import Any

from bench.benchmarks.fixtures import analyze, bench_connection, intervals_digest, stored_intervals, truncate
from bench.harness import COUNTER, REFERENCE, SWITCHBOARD, Benchmark, Reference

TABLE = "collectors_intervalvolume"
CONNECTION = "upserts"
UPDATE_FROM = f"{REFERENCE}:update-from"
# What a run may add to the setup's peak memory whatever the rows: batches of records in flight.
MEMORY_ALLOWANCE_MIB = 64


def layout(size: int) -> tuple[int, int]:
    """(queues, intervals per queue) for `size` records."""
    queues = max(2, min(200, size // 5000))
    return queues, max(2, size // queues)


def grid_start(intervals: int) -> datetime:
    now = datetime.now(UTC)
    end = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0) - td(days=2)
    return end - intervals * td(minutes=15)


def counts(q: int, i: int, version: int) -> tuple[int, int, int]:
    entered = (q * 7 + i * 3) % 50 + version
    return entered, entered // 10, entered * 180 + version


class Upserts(Benchmark):
    name = "upserts"
    title = "Interval upserts into PostgreSQL (half new, half updates)"
    unit = "rows"
    sizes = {"tiny": (200,), "small": (10_000, 50_000), "full": (10_000, 100_000, 1_000_000)}
    switchboard_label = "collectors.writers.upsert_intervals"
    reference_label = "psycopg COPY into a temp table + one INSERT … ON CONFLICT DO UPDATE"
    target = "≥ 0.9× the strongest reference's throughput (time ratio ≤ 1.11); peak memory bounded"

    def references(self) -> tuple[Reference, ...]:
        return (
            Reference(REFERENCE, self.reference_label),
            Reference(
                UPDATE_FROM,
                "psycopg COPY into a temp table + UPDATE … FROM it + anti-join INSERT of the rows not stored",
            ),
        )

    def missing(self) -> str | None:
        try:
            from collectors.writers import upsert_intervals  # noqa: F401
        except ImportError as exc:
            return f"collectors.writers.upsert_intervals not importable ({exc})"
        return None

    def setup(self, side: str, size: int, workdir: Path) -> Any:
        conn = bench_connection(CONNECTION)
        truncate(TABLE, "collectors_queue")
        n_queues, n_intervals = layout(size)
        # The first half of every queue's intervals is already stored, with other counts.
        ids, start = seed_intervals(conn, n_queues, n_intervals, per_queue=n_intervals // 2)
        analyze(TABLE, "collectors_queue")
        return {"connection": conn, "ids": ids, "start": start, "queues": n_queues, "intervals": n_intervals}

    def _records(self, state: dict[str, Any]) -> Iterator[tuple[int, int, datetime]]:
        step = td(minutes=15)
        for q in range(state["queues"]):
            for i in range(state["intervals"]):
                yield q, i, state["start"] + i * step

    def run(self, side: str, size: int, state: Any) -> dict[str, Any]:
        collected_at = datetime.now(UTC)
        if side == SWITCHBOARD:
            from collectors.writers import upsert_intervals
            from integrations.vendors.records import IntervalRecord

            records = (
                IntervalRecord(f"q{q}", start, *counts(q, i, 1), queue_name=f"Queue {q}")
                for q, i, start in self._records(state)
            )
            created, updated = upsert_intervals(state["connection"], records, collected_at)
            return {"created": created, "updated": updated}
        if side == UPDATE_FROM:
            return self._update_from(state, collected_at)
        return self._raw(state, collected_at)

    def _stage(self, cur: Any, state: dict[str, Any]) -> None:
        """COPY every record into a temp table dropped at commit (the references' first step)."""
        from collectors.models import Queue

        ids = dict(Queue.objects.filter(connection=state["connection"]).values_list("vendor_id", "id"))
        cur.execute(
            "CREATE TEMP TABLE iv_stage (queue_id bigint, interval_start timestamptz, entered integer,"
            " abandoned integer, handle_seconds bigint) ON COMMIT DROP"
        )
        COUNTER.note()  # the COPY below bypasses Django's execute wrappers
        with cur.copy("COPY iv_stage FROM STDIN") as copy:
            for q, i, start in self._records(state):
                copy.write_row((ids[f"q{q}"], start, *counts(q, i, 1)))

    def _update_from(self, state: dict[str, Any], collected_at: datetime) -> dict[str, Any]:
        from django.db import connection as db
        from django.db import transaction

        conn = state["connection"]
        with transaction.atomic(), db.cursor() as cur:
            self._stage(cur, state)
            # Without statistics the planner takes the staging table for a few rows and probes
            # the natural-key index once per row; with them it hash-joins at large sizes.
            cur.execute("ANALYZE iv_stage")
            cur.execute(
                f"UPDATE {TABLE} t SET entered = s.entered, abandoned = s.abandoned,"
                " handle_seconds = s.handle_seconds, collected_at = %s FROM iv_stage s"
                " WHERE t.queue_id = s.queue_id AND t.interval_start = s.interval_start",
                [collected_at],
            )
            updated = cur.rowcount
            cur.execute(
                f"INSERT INTO {TABLE} (connection_id, queue_id, interval_start, entered, abandoned,"
                " handle_seconds, collected_at)"
                " SELECT %s, s.queue_id, s.interval_start, s.entered, s.abandoned, s.handle_seconds, %s"
                f" FROM iv_stage s WHERE NOT EXISTS (SELECT 1 FROM {TABLE} t"
                " WHERE t.queue_id = s.queue_id AND t.interval_start = s.interval_start)",
                [conn.id, collected_at],
            )
            return {"written": updated + cur.rowcount}

    def _raw(self, state: dict[str, Any], collected_at: datetime) -> dict[str, Any]:
        from django.db import connection as db
        from django.db import transaction

        conn = state["connection"]
        with transaction.atomic(), db.cursor() as cur:
            self._stage(cur, state)
            cur.execute(
                f"INSERT INTO {TABLE} (connection_id, queue_id, interval_start, entered, abandoned,"
                " handle_seconds, collected_at)"
                " SELECT %s, queue_id, interval_start, entered, abandoned, handle_seconds, %s FROM iv_stage"
                " ON CONFLICT (queue_id, interval_start) DO UPDATE SET entered = EXCLUDED.entered,"
                " abandoned = EXCLUDED.abandoned, handle_seconds = EXCLUDED.handle_seconds,"
                " collected_at = EXCLUDED.collected_at",
                [conn.id, collected_at],
            )
            return {"written": cur.rowcount}

    def verify(self, side: str, size: int, state: Any, result: dict[str, Any]) -> dict[str, Any]:
        # Every stored interval, counts included, is exactly the one the records carry: each side
        # (Switchboard and every reference) stores the same intervals.
        expected = intervals_digest(
            (f"q{q}", int(start.timestamp()), *counts(q, i, 1)) for q, i, start in self._records(state)
        )
        stored = stored_intervals(state["connection"].id)
        if stored != expected:
            raise AssertionError(
                f"{side}: {stored[0]} rows stored (digest {stored[1]}), expected {expected[0]} "
                f"with the updated counts (digest {expected[1]})"
            )
        return {"rows": expected[0]}

    def verdict(self, table: list[dict[str, Any]]) -> tuple[bool | None, str]:
        rows = [r for r in table if r.get("ratio") is not None]
        if not rows:
            return None, "no ratio measured"
        worst = max(rows, key=lambda r: r["ratio"])
        # Bounded: what the run adds to the setup's peak stays within a fixed allowance (the
        # records stream through in batches) rather than growing with the rows.
        growth = max(r["sb_peak_mib"] - r["sb_setup_mib"] for r in rows)
        ok = all(r["ratio"] <= 1 / 0.9 for r in rows) and growth <= MEMORY_ALLOWANCE_MIB
        return ok, (
            f"Switchboard reached {1 / worst['ratio']:.0%} of the strongest reference's throughput at its "
            f"worst size ({worst['size']:,} rows, against `{worst['ref_side']}`); target ≥ 90%; "
            f"peak memory at most {growth:.0f} MiB above setup (bounded: ≤ {MEMORY_ALLOWANCE_MIB} MiB)"
        )


def seed_intervals(
    conn: Any, n_queues: int, n_intervals: int, per_queue: int, limit: int | None = None
) -> tuple[dict[str, int], datetime]:
    """`n_queues` queues of `conn` and, by one COPY, the first `per_queue` intervals of each
    (at most `limit` rows in all); returns the queue ids by vendor id and the grid's start."""
    from django.db import connection as db

    from collectors.models import Queue

    now = datetime.now(UTC)
    Queue.objects.bulk_create(
        [
            Queue(connection=conn, vendor_id=f"q{q}", name=f"Queue {q}", first_seen=now, last_seen=now)
            for q in range(n_queues)
        ]
    )
    ids = dict(Queue.objects.filter(connection=conn).values_list("vendor_id", "id"))
    start = grid_start(n_intervals)
    rows = (
        (conn.id, ids[f"q{q}"], start + i * td(minutes=15), *counts(q, i, 0), now)
        for q in range(n_queues)
        for i in range(per_queue)
    )
    with (
        db.cursor() as cur,
        cur.copy(
            f"COPY {TABLE} (connection_id, queue_id, interval_start, entered, abandoned, handle_seconds,"
            " collected_at) FROM STDIN"
        ) as copy,
    ):
        for written, row in enumerate(rows):
            if written == limit:
                break
            copy.write_row(row)
    return ids, start
