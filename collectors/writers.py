"""Bulk upserts of neutral rows on their natural keys.

Everything a vendor sends is checked before the first row is written: a record that
breaks an invariant raises `DataError` naming the field and the value, and nothing is
written. The invariants are declared once, in `collectors.interval_rules`, for records
checked here in Python and for totals computed inside PostgreSQL (`merge_named_stage`).
Rows whose values did not change are left alone, so rerunning a window changes nothing,
not even `collected_at`.

How the checked rows reach the table depends on the database (`collectors.backends`):
binary COPY and one INSERT … ON CONFLICT on PostgreSQL, the ORM elsewhere (SQLite).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta as td

from django.db import transaction

from collectors import backends
from collectors.backends import Key
from collectors.backends.intervals_pg import (
    NAMED_STAGE_SQL,
    NAMED_TABLE,
    first_broken_named,
    merge_named,
    named_queue_ids,
)
from collectors.interval_rules import (
    COUNT_FIELDS,
    COUNT_LIMITS,
    MAX_BIGINT,
    MAX_FUTURE,
    MAX_INT,
    Checker,
    check_record,
    staged_error,
)
from collectors.models import Agent, Queue
from collectors.windows import as_utc
from integrations.models import VendorConnection
from integrations.vendors.errors import DataError
from integrations.vendors.records import IntervalRecord

__all__ = [
    "BATCH_SIZE",
    "COUNT_FIELDS",
    "COUNT_LIMITS",
    "INTERVAL",
    "MAX_BIGINT",
    "MAX_FUTURE",
    "MAX_INT",
    "NAMED_STAGE_SQL",
    "NAMED_TABLE",
    "Merged",
    "merge_named_stage",
    "resolve_by_vendor_id",
    "resolve_queues",
    "upsert_intervals",
    "validate_interval",
]

# Postgres allows 65535 parameters per statement; 7 columns per row stays well under it.
BATCH_SIZE = 2000
INTERVAL = td(minutes=15)


def validate_interval(record: IntervalRecord, now: datetime) -> datetime:
    """Check one record's invariants; return its interval start in UTC."""
    return check_record(record, as_utc(now) + MAX_FUTURE)


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
    check = Checker(collected_at + MAX_FUTURE)
    by_key: dict[Key, IntervalRecord] = {}
    names: dict[str, str] = {}
    for record in records:
        start = check(record)
        key = (record.queue_vendor_id, start)
        if key in by_key:
            raise DataError(
                f"interval_start {start.isoformat()} of queue {record.queue_vendor_id!r} appears twice",
                sample=f"{by_key[key]!r}\n{record!r}",
            )
        by_key[key] = record
        if record.queue_name or record.queue_vendor_id not in names:
            names[record.queue_vendor_id] = record.queue_name or names.get(record.queue_vendor_id, "")
    if not by_key:
        return 0, 0

    with transaction.atomic():
        queue_ids = resolve_queues(connection, names, collected_at)
        return backends.merge_intervals()(connection, by_key, queue_ids, collected_at)


@dataclass(frozen=True)
class Merged:
    created: int
    updated: int
    window: tuple[datetime | None, datetime | None]


def merge_named_stage(connection: VendorConnection, collected_at: datetime) -> Merged:
    """Check and merge the totals a caller put in `switchboard_interval_named` (NAMED_STAGE_SQL).

    PostgreSQL only, inside the caller's transaction. Raises DataError naming the first bad
    row, worded as for a vendor's record, before anything is merged.
    """
    collected_at = as_utc(collected_at)
    bad = first_broken_named(collected_at + MAX_FUTURE)
    if bad is not None:
        raise staged_error(bad)
    names = {vid: vid for vid in named_queue_ids()}
    if not names:
        return Merged(0, 0, (None, None))
    queue_ids = resolve_queues(connection, names, collected_at)
    created, updated, first, last = merge_named(connection, queue_ids, collected_at)
    return Merged(created, updated, (as_utc(first), as_utc(last) + INTERVAL))
