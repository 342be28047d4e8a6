"""Interval volume on any other database (SQLite): the portable ORM path.

Reads the stored counts of the queues and dates in play, then bulk-upserts only the rows
that changed, so the created and updated counts match PostgreSQL's merge.
"""

from __future__ import annotations

from datetime import datetime

from collectors.backends import Key
from collectors.interval_rules import COUNT_FIELDS
from collectors.models import IntervalVolume
from collectors.windows import as_utc
from integrations.models import VendorConnection
from integrations.vendors.records import IntervalRecord

# Postgres allows 65535 parameters per statement; 7 columns per row stays well under it (Django
# shrinks the batches further where a database allows fewer).
BATCH_SIZE = 2000


def merge(
    connection: VendorConnection,
    by_key: dict[Key, IntervalRecord],
    queue_ids: dict[str, int],
    collected_at: datetime,
) -> tuple[int, int]:
    """Read the stored counts, then bulk-upsert only what changed."""
    starts = [start for _vid, start in by_key]
    existing: dict[tuple[int, datetime], tuple[int, ...]] = {}
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
