"""The call ledger's write path: a file's new calls stored once each and added to their intervals.

Call-by-call files keep one `DropCall` row per (queue, call id), as a 64-bit key
(`call_key_of`): a call reported by two overlapping files counts once, the first report
winning. A file's new calls are aggregated per interval and added to the interval's stored
totals; calls already stored add nothing. That equals recomputing the interval from every
stored call as long as the interval rows of a call-detail connection are written only here
(they are: one file of a connection at a time, under its row lock), and needs no index on
the calls' intervals nor their facts in the ledger (bench/ANALYSIS.md 2b).

On PostgreSQL the calls are streamed with a binary COPY into a temporary table, the new
ones stored with one `INSERT … SELECT … WHERE NOT EXISTS` (the file's ledger id set at
insert; safe because one file of a connection is ingested at a time, under its row lock),
and the touched intervals are summed, checked and merged inside the database; other
databases (SQLite) take the ORM path, same semantics. `store_calls` is the one place that
chooses.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from datetime import timedelta as td

from django.db import connection as db

from collectors.models import DropCall, DropFile, IntervalVolume, Queue, call_key_of
from collectors.writers import NAMED_STAGE_SQL, NAMED_TABLE, Merged, merge_named_stage, upsert_intervals
from integrations.models import VendorConnection
from integrations.vendors.filereader import CallRow
from integrations.vendors.records import IntervalRecord

log = logging.getLogger(__name__)

CALL_BATCH = 2000


def store_calls(
    connection: VendorConnection, ledger: DropFile, calls: Iterable[CallRow], now: datetime
) -> Merged:
    """Store a file's new calls under its (saved) ledger row, the first report of a call
    winning, and add them to the intervals the file touched.

    Runs inside the caller's transaction, which must hold the connection's row lock (as
    `ingest_path` does): new calls are found by an anti-join, not ON CONFLICT, and the
    stored interval totals read here cannot change before the merge. A DataError raised by
    `calls` part-way leaves nothing behind once the caller's savepoint rolls back.
    """
    from collectors.retention import retention_horizon

    horizon = retention_horizon(DropCall)
    if horizon is not None:
        calls = _after_horizon(connection, ledger, calls, horizon)
    if db.vendor == "postgresql":
        return _store_calls_copy(connection, ledger, calls, now)
    records = _store_calls_orm(connection, ledger, calls)
    return Merged(*upsert_intervals(connection, records, now), window_of(records))


# A temporary table of the transaction; dropped after use too, so a second file ingested in
# the same transaction (tests, a caller's outer atomic block) starts from an empty one.
_CALLS_TEMP = "sb_drop_calls"
_FRESH_TEMP = "sb_drop_calls_fresh"


def _keyed(calls: Iterable[CallRow]) -> Iterator[tuple[int, str, datetime, int, bool]]:
    for call_id, queue, start, handle, abandoned in calls:
        yield call_key_of(queue, call_id), queue, start, handle, abandoned


def _store_calls_copy(
    connection: VendorConnection, ledger: DropFile, calls: Iterable[CallRow], now: datetime
) -> Merged:
    table = DropCall._meta.db_table
    with db.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_CALLS_TEMP} (n bigint GENERATED ALWAYS AS IDENTITY, call_key bigint, "
            "queue_vendor_id text, interval_start timestamptz, handle_seconds bigint, abandoned boolean) "
            "ON COMMIT DROP"
        )
        # Straight to psycopg's binary COPY: no model instance, no rendered VALUES, one round trip.
        with cursor.cursor.copy(
            f"COPY {_CALLS_TEMP} (call_key, queue_vendor_id, interval_start, handle_seconds, abandoned) "
            "FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["int8", "text", "timestamptz", "int8", "bool"])
            write = copy.write_row
            for row in _keyed(calls):
                write(row)
        # Row estimates for the joins below (a fresh temporary table has none).
        cursor.execute(f"ANALYZE {_CALLS_TEMP}")
        # The calls not stored yet, each once, its first row in the file winning. An anti-join
        # rather than ON CONFLICT DO NOTHING: its speculative insertion nearly doubled the
        # statement (bench/: 13.8 s against 7.4 s for a million new calls). It is safe because
        # the caller holds the connection's row lock, so no other file of this connection
        # writes calls meanwhile; the unique constraint still stands behind it.
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_FRESH_TEMP} ON COMMIT DROP AS "  # noqa: S608 (table names from the models)
            "SELECT DISTINCT ON (call_key) n, call_key, interval_start "
            f"FROM {_CALLS_TEMP} t WHERE NOT EXISTS (SELECT 1 FROM {table} c WHERE c.connection_id = %s "
            "AND c.call_key = t.call_key) ORDER BY call_key, n",
            [connection.pk],
        )
        # Key order makes the unique index's insertions sequential.
        cursor.execute(
            f"INSERT INTO {table} (connection_id, call_key, interval_start, file_id) "  # noqa: S608
            f"SELECT %s, call_key, interval_start, %s FROM {_FRESH_TEMP} ORDER BY call_key",
            [connection.pk, ledger.pk],
        )
        # Every interval the file touched, staged as its stored totals plus the file's new
        # calls (a touched interval without new calls is staged unchanged, so the run's window
        # is the file's and the merge leaves it alone), checked and merged without coming
        # through Python.
        cursor.execute(NAMED_STAGE_SQL)
        cursor.execute(
            f"INSERT INTO {NAMED_TABLE} "  # noqa: S608 (table names from the models)
            "SELECT d.queue_vendor_id, d.interval_start, d.entered + coalesce(v.entered, 0), "
            "d.abandoned + coalesce(v.abandoned, 0), d.handle_seconds + coalesce(v.handle_seconds, 0) "
            "FROM (SELECT t.queue_vendor_id, t.interval_start, count(f.n) AS entered, "
            "count(f.n) FILTER (WHERE t.abandoned) AS abandoned, "
            "coalesce(sum(t.handle_seconds) FILTER (WHERE f.n IS NOT NULL), 0) AS handle_seconds "
            f"FROM {_CALLS_TEMP} t LEFT JOIN {_FRESH_TEMP} f ON f.n = t.n "
            "GROUP BY t.queue_vendor_id, t.interval_start) d "
            f"LEFT JOIN {Queue._meta.db_table} q ON q.connection_id = %s AND q.vendor_id = d.queue_vendor_id "
            f"LEFT JOIN {IntervalVolume._meta.db_table} v "
            "ON v.queue_id = q.id AND v.interval_start = d.interval_start",
            [connection.pk],
        )
        cursor.execute(f"DROP TABLE {_CALLS_TEMP}, {_FRESH_TEMP}")
    return merge_named_stage(connection, now)


def _after_horizon(
    connection: VendorConnection, ledger: DropFile, calls: Iterable[CallRow], horizon: datetime
) -> Iterable[CallRow]:
    """The calls at or after the call ledger's retention horizon. An older call may repeat one
    whose row was pruned, and its interval would be recomputed from part of its calls."""
    skipped = 0
    for row in calls:
        if row[2] < horizon:
            skipped += 1
            continue
        yield row
    if skipped:
        log.warning(
            "drop %s: %s: %s call(s) before the call ledger's retention horizon %s ignored",
            connection.key,
            ledger.name,
            skipped,
            horizon.isoformat(),
        )


def _store_calls_orm(
    connection: VendorConnection, ledger: DropFile, calls: Iterable[CallRow]
) -> list[IntervalRecord]:
    """The portable path (SQLite): per batch, the keys already stored are read and only the
    new calls inserted and summed; then the touched intervals' stored totals are added."""
    delta: dict[tuple[str, datetime], list[int]] = {}
    batch: dict[int, tuple[str, datetime, int, bool]] = {}

    def flush() -> None:
        known = set(
            DropCall.objects.filter(connection=connection, call_key__in=list(batch)).values_list(
                "call_key", flat=True
            )
        )
        fresh = [(key, row) for key, row in batch.items() if key not in known]
        DropCall.objects.bulk_create(
            [
                DropCall(connection=connection, call_key=key, interval_start=start, file=ledger)
                for key, (_, start, _, _) in fresh
            ],
            batch_size=CALL_BATCH,
        )
        for _, (queue, start, handle, abandoned) in fresh:
            totals = delta[(queue, start)]
            totals[0] += 1
            totals[1] += abandoned
            totals[2] += handle
        batch.clear()

    for key, queue, start, handle, abandoned in _keyed(calls):
        delta.setdefault((queue, start), [0, 0, 0])
        # setdefault: a call listed twice keeps its first row.
        batch.setdefault(key, (queue, start, handle, abandoned))
        if len(batch) >= CALL_BATCH:
            flush()
    if batch:
        flush()
    if not delta:
        return []
    starts = [s for _, s in delta]
    stored = IntervalVolume.objects.filter(
        connection=connection,
        queue__vendor_id__in=sorted({q for q, _ in delta}),
        interval_start__gte=min(starts),
        interval_start__lte=max(starts),
    ).values_list("queue__vendor_id", "interval_start", "entered", "abandoned", "handle_seconds")
    for queue, start, stored_entered, stored_abandoned, stored_handle in stored:
        totals = delta.get((queue, start.astimezone(UTC)))
        if totals is not None:
            totals[0] += stored_entered
            totals[1] += stored_abandoned
            totals[2] += stored_handle
    return [
        IntervalRecord(
            queue_vendor_id=queue,
            interval_start=start,
            entered=entered,
            abandoned=abandoned,
            handle_seconds=handle,
            queue_name=queue,
        )
        for (queue, start), (entered, abandoned, handle) in delta.items()
    ]


def window_of(records: list[IntervalRecord]) -> tuple[datetime | None, datetime | None]:
    """The span of a file's intervals, shown on its run."""
    if not records:
        return None, None
    starts = [r.interval_start for r in records]
    return min(starts), max(starts) + td(minutes=15)
