"""A test-only neutral stream, declared in this one module: real-time queue statistics.

Registered through `settings.COLLECT_EXTRA_STREAMS`; a vendor supplies it by listing its
key in `Vendor.streams` and answering `fetch_queue_stats` on its adapter. Its writer keeps
what it was handed in `WRITTEN` (a real stream's writes a table).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from collectors.streams.base import Job, Stream, Written
from integrations.vendors.base import REALTIME

if TYPE_CHECKING:
    from integrations.models import VendorConnection

KEY = "queue_stats"


@dataclass(frozen=True)
class QueueStatsRecord:
    queue_vendor_id: str
    waiting: int
    observed_at: datetime


def every_minute(connection: VendorConnection) -> int:
    return 60


STREAM = Stream(
    key=KEY,
    label="Queue statistics",
    record=QueueStatsRecord,
    fetch="fetch_queue_stats",
    collect="tests.collectors.streams.fake_stream.collect",
    queue="queue_stats",
    interval=every_minute,
    sections=(REALTIME,),
    grace_seconds=30,
    nothing_yet="no statistics",
    last_seen="last statistics",
)

# (connection id, record) pairs the writer was handed, oldest first.
WRITTEN: list[tuple[int, QueueStatsRecord]] = []


def collect(job: Job) -> Written:
    records: list[QueueStatsRecord] = job.fetch(job.now)
    WRITTEN.extend((job.connection.pk, record) for record in records)
    written = Written(created=len(records), notes=[f"{len(records)} queue(s)"])
    job.finish(written)
    return written
