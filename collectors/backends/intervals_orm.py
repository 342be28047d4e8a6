"""Interval volume on any other database (SQLite): the portable ORM path.

Reads the stored counts of the queues and dates in play, then bulk-upserts only the rows
that changed, so the created and updated counts match PostgreSQL's merge.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from collectors.backends import IntervalRow
from collectors.interval_rules import COUNT_FIELDS
from collectors.models import IntervalVolume
from collectors.windows import as_utc
from integrations.models import VendorConnection

# Postgres allows 65535 parameters per statement; 7 columns per row stays well under it (Django
# shrinks the batches further where a database allows fewer).
BATCH_SIZE = 2000


def merge(
    connection: VendorConnection,
    batches: Iterable[list[IntervalRow]],
    collected_at: datetime,
) -> tuple[int, int]:
    """Read the stored counts, then bulk-upsert only what changed.

    Holds every row of the call (SQLite serves a demo and the tests, not millions of rows).
    """
    by_key = {(queue_id, start): counts for rows in batches for queue_id, start, *counts in rows}
    starts = [start for _queue_id, start in by_key]
    existing: dict[tuple[int, datetime], tuple[int, ...]] = {}
    ids = sorted({queue_id for queue_id, _start in by_key})
    for i in range(0, len(ids), BATCH_SIZE):
        stored = IntervalVolume.objects.filter(
            queue_id__in=ids[i : i + BATCH_SIZE],
            interval_start__gte=min(starts),
            interval_start__lte=max(starts),
        ).values_list("queue_id", "interval_start", *COUNT_FIELDS)
        for queue_id, start, *before in stored:
            existing[(queue_id, as_utc(start))] = tuple(before)

    created = updated = 0
    changed: list[IntervalVolume] = []
    for (queue_id, start), counts in by_key.items():
        before = existing.get((queue_id, start))
        if before == tuple(counts):
            continue
        if before is None:
            created += 1
        else:
            updated += 1
        entered, abandoned, handle_seconds = counts
        changed.append(
            IntervalVolume(
                connection=connection,
                queue_id=queue_id,
                interval_start=start,
                entered=entered,
                abandoned=abandoned,
                handle_seconds=handle_seconds,
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
