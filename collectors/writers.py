"""Bulk upserts of neutral rows on their natural keys.

Everything a vendor sends is checked before the first row is written: a record that
breaks an invariant raises `DataError` naming the field and the value, and nothing is
written (docs/architecture.md, "Errors"). Rows whose values did not change are left alone, so
rerunning a window changes nothing, not even `collected_at`.

On PostgreSQL the checked rows are streamed with `COPY` into a temporary table and merged
with one `INSERT … ON CONFLICT DO UPDATE … WHERE … IS DISTINCT FROM …` (no model instance
per row, no rendered VALUES lists); elsewhere (SQLite) the ORM does the same job.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from datetime import timedelta as td

from django.db import connection as db
from django.db import transaction

from collectors.models import Agent, IntervalVolume, Queue
from collectors.windows import as_utc
from integrations.models import VendorConnection
from integrations.vendors.errors import DataError
from integrations.vendors.grid import EARLIEST
from integrations.vendors.records import IntervalRecord

# Postgres allows 65535 parameters per statement; 7 columns per row stays well under it.
BATCH_SIZE = 2000
MAX_FUTURE = td(days=1)
INTERVAL = td(minutes=15)
COUNT_FIELDS = ("entered", "abandoned", "handle_seconds")
# PositiveBigIntegerField's ceiling on PostgreSQL; PositiveIntegerField's for the others.
MAX_INT = 2**31 - 1
MAX_BIGINT = 2**63 - 1
COUNT_LIMITS = {"entered": MAX_INT, "abandoned": MAX_INT, "handle_seconds": MAX_BIGINT}

# The PostgreSQL path. The staging table is session-local and dropped at commit; it is emptied
# first because an earlier call in the same (outer) transaction may have used it.
STAGE_SQL = """
CREATE TEMP TABLE IF NOT EXISTS switchboard_interval_stage (
    queue_id bigint NOT NULL, interval_start timestamptz NOT NULL,
    entered integer NOT NULL, abandoned integer NOT NULL, handle_seconds bigint NOT NULL
) ON COMMIT DROP;
TRUNCATE switchboard_interval_stage
"""
COPY_SQL = """
COPY switchboard_interval_stage (queue_id, interval_start, entered, abandoned, handle_seconds)
FROM STDIN (FORMAT BINARY)
"""
COPY_TYPES = ["int8", "timestamptz", "int4", "int4", "int8"]
# Unchanged rows are filtered by the DO UPDATE's WHERE, so they are neither rewritten nor
# returned; `xmax = 0` tells an inserted row from an updated one. Rows go in key order so two
# writers lock overlapping rows in the same order (no deadlock).
MERGE_SQL = """
WITH written AS (
    INSERT INTO collectors_intervalvolume AS t
        (connection_id, queue_id, interval_start, entered, abandoned, handle_seconds, collected_at)
    SELECT %s, s.queue_id, s.interval_start, s.entered, s.abandoned, s.handle_seconds, %s
    FROM switchboard_interval_stage s
    ORDER BY s.queue_id, s.interval_start
    ON CONFLICT (queue_id, interval_start) DO UPDATE SET
        entered = EXCLUDED.entered,
        abandoned = EXCLUDED.abandoned,
        handle_seconds = EXCLUDED.handle_seconds,
        collected_at = EXCLUDED.collected_at
    WHERE (t.entered, t.abandoned, t.handle_seconds)
        IS DISTINCT FROM (EXCLUDED.entered, EXCLUDED.abandoned, EXCLUDED.handle_seconds)
    RETURNING (t.xmax = 0) AS created
)
SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created) FROM written
"""

Key = tuple[str, datetime]


def _sample(record: IntervalRecord) -> str:
    return repr(record)


def validate_interval(record: IntervalRecord, now: datetime) -> datetime:
    """Check one record's invariants; return its interval start in UTC."""
    return _validate(record, as_utc(now) + MAX_FUTURE)


def _validate(record: IntervalRecord, latest: datetime) -> datetime:
    """`validate_interval` with the latest allowed start computed once per batch.

    The common case (a UTC start, plain ints in range) is decided with a few integer
    comparisons; anything else falls through to the checks that name what is wrong.
    """
    vendor_id = record.queue_vendor_id
    if not isinstance(vendor_id, str) or not vendor_id.strip():
        raise DataError(f"queue_vendor_id is empty ({vendor_id!r})", sample=_sample(record))
    start = record.interval_start
    if not isinstance(start, datetime) or (
        start.tzinfo is not UTC and (start.tzinfo is None or start.utcoffset() is None)
    ):
        raise DataError(
            f"interval_start {start!r} of queue {vendor_id!r} is not a timezone-aware datetime",
            sample=_sample(record),
        )
    if start.tzinfo is not UTC:
        start = start.astimezone(UTC)
    # The grid is aligned to the Unix epoch, a UTC midnight, and 900 s divides a day: in UTC a
    # start is on it exactly when its minute is a multiple of 15 and nothing finer is set.
    if start.minute % 15 or start.second or start.microsecond:
        raise DataError(
            f"interval_start {start.isoformat()} of queue {vendor_id!r} is not on the 15-minute UTC grid",
            sample=_sample(record),
        )
    if start > latest:
        raise DataError(
            f"interval_start {start.isoformat()} of queue {vendor_id!r} is more than a day in the future",
            sample=_sample(record),
        )
    if start < EARLIEST:
        raise DataError(
            f"interval_start {start.isoformat()} of queue {vendor_id!r} is before "
            f"{EARLIEST:%Y-%m-%d}, the earliest date Switchboard accepts",
            sample=_sample(record),
        )
    entered, abandoned, handle = record.entered, record.abandoned, record.handle_seconds
    if not (
        type(entered) is int
        and type(abandoned) is int
        and type(handle) is int
        and 0 <= entered <= MAX_INT
        and 0 <= abandoned <= MAX_INT
        and 0 <= handle <= MAX_BIGINT
    ):
        _check_counts(record, start)
    return start


def _check_counts(record: IntervalRecord, start: datetime) -> None:
    """Raise naming the first count that is not an integer in range (int subclasses pass)."""
    for name in COUNT_FIELDS:
        value = getattr(record, name)
        where = f"of queue {record.queue_vendor_id!r} at {start.isoformat()}"
        if isinstance(value, bool) or not isinstance(value, int):
            raise DataError(f"{name} {value!r} {where} is not an integer", sample=_sample(record))
        if value < 0:
            raise DataError(f"{name} {value} {where} is negative", sample=_sample(record))
        if value > COUNT_LIMITS[name]:
            raise DataError(f"{name} {value} {where} is implausibly large", sample=_sample(record))


def resolve_by_vendor_id(
    model: type[Queue] | type[Agent], connection: VendorConnection, names: dict[str, str], now: datetime
) -> tuple[dict[str, int], int]:
    """Ids by vendor id of a connection's queues or agents, and how many were created.

    Rows first seen here are created, named from the record when it gives a name; a name
    given that differs replaces the stored one, an empty name never erases one. Creation
    tolerates a concurrent writer (ignore_conflicts, then re-read). The connection's rows
    are read whole (one query however many names a snapshot carries).
    """
    if not names:
        return {}, 0
    rows = model.objects.filter(connection=connection).values_list("vendor_id", "id", "name")
    found = {vendor_id: (pk, name) for vendor_id, pk, name in rows}
    missing = [vid for vid in names if vid not in found]
    if missing:
        model.objects.bulk_create(
            [
                model(connection=connection, vendor_id=vid, name=names[vid], first_seen=now, last_seen=now)
                for vid in missing
            ],
            ignore_conflicts=True,
            batch_size=BATCH_SIZE,
        )
        rows = model.objects.filter(connection=connection, vendor_id__in=missing).values_list(
            "vendor_id", "id", "name"
        )
        found.update({vendor_id: (pk, name) for vendor_id, pk, name in rows})
    renamed = [
        model(id=found[vid][0], name=name)
        for vid, name in names.items()
        if name and vid in found and found[vid][1] != name and vid not in missing
    ]
    if renamed:
        model.objects.bulk_update(renamed, ["name"], batch_size=BATCH_SIZE)
    return {vid: found[vid][0] for vid in names if vid in found}, len(missing)


def resolve_queues(connection: VendorConnection, names: dict[str, str], now: datetime) -> dict[str, int]:
    """Queue ids by vendor id, creating queues first seen here."""
    return resolve_by_vendor_id(Queue, connection, names, now)[0]


def upsert_intervals(
    connection: VendorConnection, records: Iterable[IntervalRecord], collected_at: datetime
) -> tuple[int, int]:
    """Write interval volume rows; return (created, updated).

    All records are validated before anything is written. Rows whose counts did not
    change are neither written nor counted. Two records for the same queue and interval
    are refused (a caller aggregating call detail must sum them first), since which one
    should win cannot be guessed.
    """
    collected_at = as_utc(collected_at)
    latest = collected_at + MAX_FUTURE
    by_key: dict[Key, IntervalRecord] = {}
    names: dict[str, str] = {}
    for record in records:
        start = _validate(record, latest)
        key = (record.queue_vendor_id, start)
        if key in by_key:
            raise DataError(
                f"interval_start {start.isoformat()} of queue {record.queue_vendor_id!r} appears twice",
                sample=f"{_sample(by_key[key])}\n{_sample(record)}",
            )
        by_key[key] = record
        if record.queue_name or record.queue_vendor_id not in names:
            names[record.queue_vendor_id] = record.queue_name or names.get(record.queue_vendor_id, "")
    if not by_key:
        return 0, 0

    with transaction.atomic():
        queue_ids = resolve_queues(connection, names, collected_at)
        if db.vendor == "postgresql":
            return _merge_postgres(connection, by_key, queue_ids, collected_at)
        return _merge_orm(connection, by_key, queue_ids, collected_at)


def _merge_postgres(
    connection: VendorConnection,
    by_key: dict[Key, IntervalRecord],
    queue_ids: dict[str, int],
    collected_at: datetime,
) -> tuple[int, int]:
    """COPY into a temporary table, then one INSERT … ON CONFLICT that skips unchanged rows."""
    with db.cursor() as cur:
        cur.execute(STAGE_SQL)
        with cur.copy(COPY_SQL) as copy:
            copy.set_types(COPY_TYPES)
            write = copy.write_row
            for (vendor_id, start), record in by_key.items():
                write((queue_ids[vendor_id], start, record.entered, record.abandoned, record.handle_seconds))
        cur.execute(MERGE_SQL, [connection.pk, collected_at])
        created, updated = cur.fetchone()
    return created, updated


# Interval totals computed in the database (a call-detail file's recomputed intervals) are
# staged by queue vendor id, checked with the same rules as `_validate`, and merged without
# a Python object per interval: memory stays flat however many intervals a file touches.
NAMED_STAGE_SQL = """
CREATE TEMP TABLE IF NOT EXISTS switchboard_interval_named (
    queue_vendor_id text NOT NULL, interval_start timestamptz NOT NULL,
    entered bigint NOT NULL, abandoned bigint NOT NULL, handle_seconds numeric NOT NULL
) ON COMMIT DROP;
TRUNCATE switchboard_interval_named
"""
NAMED_TABLE = "switchboard_interval_named"
NAMED_CHECK_SQL = """
SELECT queue_vendor_id, interval_start, entered, abandoned, handle_seconds
FROM switchboard_interval_named WHERE {condition}
ORDER BY interval_start, queue_vendor_id LIMIT 1
"""
NAMED_CHECKS = (
    ("queue_vendor_id = '' OR btrim(queue_vendor_id) = ''", "queue_vendor_id is empty ({vid!r})"),
    (
        "mod(extract(epoch FROM interval_start)::numeric, 900) <> 0",
        "interval_start {start} of queue {vid!r} is not on the 15-minute UTC grid",
    ),
    (
        "interval_start > %(latest)s",
        "interval_start {start} of queue {vid!r} is more than a day in the future",
    ),
    (
        "interval_start < %(earliest)s",
        "interval_start {start} of queue {vid!r} is before "
        f"{EARLIEST:%Y-%m-%d}, the earliest date Switchboard accepts",
    ),
    (
        f"entered > {MAX_INT} OR abandoned > {MAX_INT} OR handle_seconds > {MAX_BIGINT}",
        "the counts of queue {vid!r} at {start} are implausibly large",
    ),
)


@dataclass(frozen=True)
class Merged:
    created: int
    updated: int
    window: tuple[datetime | None, datetime | None]


def merge_named_stage(connection: VendorConnection, collected_at: datetime) -> Merged:
    """Check and merge the rows a caller put in `switchboard_interval_named` (NAMED_STAGE_SQL).

    PostgreSQL only, inside the caller's transaction. Raises DataError naming the first bad
    row, before anything is merged.
    """
    collected_at = as_utc(collected_at)
    with db.cursor() as cur:
        for condition, message in NAMED_CHECKS:
            cur.execute(
                NAMED_CHECK_SQL.format(condition=condition),
                {"latest": collected_at + MAX_FUTURE, "earliest": EARLIEST},
            )
            bad = cur.fetchone()
            if bad is not None:
                vid, start = bad[0], as_utc(bad[1]).isoformat()
                raise DataError(message.format(vid=vid, start=start), sample=repr(bad))
        cur.execute("SELECT DISTINCT queue_vendor_id FROM switchboard_interval_named")
        names = {vid: vid for (vid,) in cur.fetchall()}
        if not names:
            return Merged(0, 0, (None, None))
        queue_ids = resolve_queues(connection, names, collected_at)
        cur.execute(STAGE_SQL)
        cur.execute(
            "INSERT INTO switchboard_interval_stage "
            "(queue_id, interval_start, entered, abandoned, handle_seconds) "
            "SELECT q.id, n.interval_start, n.entered, n.abandoned, n.handle_seconds "
            "FROM switchboard_interval_named n JOIN unnest(%s::text[], %s::bigint[]) AS q (vid, id) "
            "ON q.vid = n.queue_vendor_id",
            [list(queue_ids), list(queue_ids.values())],
        )
        cur.execute(MERGE_SQL, [connection.pk, collected_at])
        created, updated = cur.fetchone()
        cur.execute("SELECT min(interval_start), max(interval_start) FROM switchboard_interval_named")
        first, last = cur.fetchone()
    return Merged(created, updated, (as_utc(first), as_utc(last) + INTERVAL))


def _merge_orm(
    connection: VendorConnection,
    by_key: dict[Key, IntervalRecord],
    queue_ids: dict[str, int],
    collected_at: datetime,
) -> tuple[int, int]:
    """The portable path: read the stored counts, then bulk-upsert only what changed."""
    starts = [start for _vid, start in by_key]
    existing: dict[tuple[int, datetime], tuple[int, int, int]] = {}
    ids = sorted(set(queue_ids.values()))
    for i in range(0, len(ids), BATCH_SIZE):
        rows = IntervalVolume.objects.filter(
            queue_id__in=ids[i : i + BATCH_SIZE],
            interval_start__gte=min(starts),
            interval_start__lte=max(starts),
        ).values_list("queue_id", "interval_start", *COUNT_FIELDS)
        for queue_id, start, *counts in rows:
            existing[(queue_id, as_utc(start))] = tuple(counts)

    created = updated = 0
    changed: list[IntervalVolume] = []
    for (vid, start), record in by_key.items():
        queue_id = queue_ids[vid]
        counts = (record.entered, record.abandoned, record.handle_seconds)
        before = existing.get((queue_id, start))
        if before == counts:
            continue
        if before is None:
            created += 1
        else:
            updated += 1
        changed.append(
            IntervalVolume(
                connection=connection,
                queue_id=queue_id,
                interval_start=start,
                entered=record.entered,
                abandoned=record.abandoned,
                handle_seconds=record.handle_seconds,
                collected_at=collected_at,
            )
        )
    if changed:
        IntervalVolume.objects.bulk_create(
            changed,
            batch_size=BATCH_SIZE,
            update_conflicts=True,
            unique_fields=["queue", "interval_start"],
            update_fields=[*COUNT_FIELDS, "collected_at"],
        )
    return created, updated
