"""Bulk upserts of neutral rows on their natural keys.

Everything a vendor sends is checked before the first row is written: a record that
breaks an invariant raises `DataError` naming the field and the value, and nothing is
written (DESIGN.md, "Errors"). Rows whose values did not change are left alone, so
rerunning a window changes nothing, not even `collected_at`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from datetime import timedelta as td

from django.db import transaction

from collectors.models import IntervalVolume, Queue
from collectors.windows import as_utc, is_on_grid
from integrations.models import VendorConnection
from integrations.vendors.errors import DataError
from integrations.vendors.records import IntervalRecord

# Postgres allows 65535 parameters per statement; 7 columns per row stays well under it.
BATCH_SIZE = 2000
MAX_FUTURE = td(days=1)
COUNT_FIELDS = ("entered", "abandoned", "handle_seconds")
# PositiveBigIntegerField's ceiling on PostgreSQL; PositiveIntegerField's for the others.
COUNT_LIMITS = {"entered": 2**31 - 1, "abandoned": 2**31 - 1, "handle_seconds": 2**63 - 1}


def _sample(record: IntervalRecord) -> str:
    return repr(record)


def validate_interval(record: IntervalRecord, now: datetime) -> datetime:
    """Check one record's invariants; return its interval start in UTC."""
    if not isinstance(record.queue_vendor_id, str) or not record.queue_vendor_id.strip():
        raise DataError(f"queue_vendor_id is empty ({record.queue_vendor_id!r})", sample=_sample(record))
    start = record.interval_start
    if not isinstance(start, datetime) or start.tzinfo is None or start.utcoffset() is None:
        raise DataError(
            f"interval_start {start!r} of queue {record.queue_vendor_id!r} is not a timezone-aware datetime",
            sample=_sample(record),
        )
    start = as_utc(start)
    if not is_on_grid(start):
        raise DataError(
            f"interval_start {start.isoformat()} of queue {record.queue_vendor_id!r} "
            "is not on the 15-minute UTC grid",
            sample=_sample(record),
        )
    if start > now + MAX_FUTURE:
        raise DataError(
            f"interval_start {start.isoformat()} of queue {record.queue_vendor_id!r} "
            "is more than a day in the future",
            sample=_sample(record),
        )
    for name in COUNT_FIELDS:
        value = getattr(record, name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise DataError(
                f"{name} {value!r} of queue {record.queue_vendor_id!r} at {start.isoformat()} "
                "is not an integer",
                sample=_sample(record),
            )
        if value < 0:
            raise DataError(
                f"{name} {value} of queue {record.queue_vendor_id!r} at {start.isoformat()} is negative",
                sample=_sample(record),
            )
        if value > COUNT_LIMITS[name]:
            raise DataError(
                f"{name} {value} of queue {record.queue_vendor_id!r} at {start.isoformat()} "
                "is implausibly large",
                sample=_sample(record),
            )
    return start


def resolve_queues(connection: VendorConnection, names: dict[str, str], now: datetime) -> dict[str, int]:
    """Queue ids by vendor id, creating queues first seen here (named from the record when given).

    Names given by a record replace a stored name that differs; an empty name never
    erases one. Creation tolerates a concurrent writer (ignore_conflicts, then re-read).
    """
    if not names:
        return {}
    rows = Queue.objects.filter(connection=connection, vendor_id__in=list(names)).values_list(
        "vendor_id", "id", "name"
    )
    found = {vendor_id: (pk, name) for vendor_id, pk, name in rows}
    missing = [vid for vid in names if vid not in found]
    if missing:
        Queue.objects.bulk_create(
            [
                Queue(connection=connection, vendor_id=vid, name=names[vid], first_seen=now, last_seen=now)
                for vid in missing
            ],
            ignore_conflicts=True,
            batch_size=BATCH_SIZE,
        )
        rows = Queue.objects.filter(connection=connection, vendor_id__in=missing).values_list(
            "vendor_id", "id", "name"
        )
        found.update({vendor_id: (pk, name) for vendor_id, pk, name in rows})
    renamed = [
        Queue(id=found[vid][0], name=name)
        for vid, name in names.items()
        if name and vid in found and found[vid][1] != name and vid not in missing
    ]
    if renamed:
        Queue.objects.bulk_update(renamed, ["name"], batch_size=BATCH_SIZE)
    return {vid: pk for vid, (pk, _name) in found.items()}


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
    by_key: dict[tuple[str, datetime], IntervalRecord] = {}
    names: dict[str, str] = {}
    for record in records:
        start = validate_interval(record, collected_at)
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
