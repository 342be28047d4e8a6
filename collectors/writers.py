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

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta as td
from itertools import chain
from typing import Any, TypeVar

from django.db import transaction

from collectors import backends
from collectors.backends import IntervalRow
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


_Named = TypeVar("_Named", Queue, Agent)
# A record and its interval start in UTC, once checked.
Checked = tuple[IntervalRecord, datetime]


def resolve_by_vendor_id(
    model: type[_Named],
    connection: VendorConnection,
    names: dict[str, str],
    now: datetime,
    rows: Iterable[tuple[str, int, str]] | None = None,
) -> tuple[dict[str, int], int]:
    """Ids by vendor id of a connection's queues or agents, and how many were created.

    Rows first seen here are created, named from the record when it gives a name; a name
    given that differs replaces the stored one, an empty name never erases one. Creation
    tolerates a concurrent writer (ignore_conflicts, then re-read). The connection's rows
    (vendor id, id, name) are read whole, one query however many names a snapshot carries,
    unless the caller read them already.
    """
    if not names:
        return {}, 0
    if rows is None:
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

    Records are checked and staged in batches of STREAM_BATCH, so memory stays bounded
    however many a caller streams in; everything happens in one transaction, so a bad record
    anywhere (even the last) leaves nothing written, queues included. Rows whose counts did
    not change are neither written nor counted. Two records for the same queue and interval
    are refused (a caller aggregating call detail must sum them first), since which one
    should win cannot be guessed.
    """
    collected_at = as_utc(collected_at)
    batches = _checked_batches(records, Checker(collected_at + MAX_FUTURE))
    first = next(batches, None)
    if first is None:
        return 0, 0
    with transaction.atomic():
        queues = QueueIds(connection, collected_at)
        rows = (queues.rows(batch) for batch in chain((first,), batches))
        return backends.merge_intervals()(connection, rows, collected_at)


# Records checked and held at a time: enough to amortise a COPY, small enough to bound memory.
STREAM_BATCH = 20_000


def _checked_batches(records: Iterable[IntervalRecord], check: Checker) -> Iterator[list[Checked]]:
    """The records checked, in batches; DataError at the first bad or repeated one."""
    seen = SeenIntervals()
    batch: list[Checked] = []
    append = batch.append
    for record in records:
        start = check(record)
        if not seen.add(record.queue_vendor_id, start):
            raise DataError(
                f"interval_start {start.isoformat()} of queue {record.queue_vendor_id!r} appears twice",
                sample=repr(record),
            )
        append((record, start))
        if len(batch) == STREAM_BATCH:
            yield batch
            batch = []
            append = batch.append
    if batch:
        yield batch


class SeenIntervals:
    """The queues and intervals met so far in one call: one bit per queue and 15-minute interval.

    A set of keys would grow with every record; a bitmap grows with the span of intervals per
    queue instead (a year of one queue is 4.3 KiB), so memory stays bounded by queues, not rows.
    """

    __slots__ = ("_maps",)

    def __init__(self) -> None:
        # Per queue vendor id: [index of the map's first interval, its bits].
        self._maps: dict[str, list[Any]] = {}

    def add(self, vid: str, start: datetime) -> bool:
        """Mark (vid, start), a start on the UTC grid; False when it was already marked."""
        n = int(start.timestamp()) // 900
        entry = self._maps.get(vid)
        if entry is None:
            self._maps[vid] = entry = [n - n % 8, bytearray(64)]
        first, bits = entry
        offset = n - first
        if offset < 0:
            grow = (-offset + 7) // 8 + len(bits)
            bits[:0] = bytes(grow)
            first -= grow * 8
            entry[0], offset = first, n - first
        elif offset >= len(bits) * 8:
            bits.extend(bytes(offset // 8 + 1))
        byte, mask = offset >> 3, 1 << (offset & 7)
        if bits[byte] & mask:
            return False
        bits[byte] |= mask
        return True


class QueueIds:
    """A connection's queue ids by vendor id, resolved batch by batch as records stream in.

    A queue is created the first time a batch names it; a non-empty name that differs from the
    last one applied renames it (the last name given wins, an empty one never erases one).
    """

    def __init__(self, connection: VendorConnection, now: datetime) -> None:
        self.connection, self.now = connection, now
        self.ids: dict[str, int] = {}
        self.names: dict[str, str] = {}

    def rows(self, batch: list[Checked]) -> list[IntervalRow]:
        ids, names = self.ids, self.names
        pending: dict[str, str] = {}
        for record, _start in batch:
            vid, name = record.queue_vendor_id, record.queue_name
            if vid not in ids or (name and name != names.get(vid)):
                pending[vid] = name or pending.get(vid, "")
        if pending:
            resolved = resolve_queues(self.connection, pending, self.now)
            ids.update(resolved)
            names.update({vid: name for vid, name in pending.items() if name})
        return [
            (ids[r.queue_vendor_id], start, r.entered, r.abandoned, r.handle_seconds) for r, start in batch
        ]


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
