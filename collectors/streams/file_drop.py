"""Interval volume delivered as files (a drop folder, fed over FTP) instead of polled.

The dispatcher never runs this stream: the periodic `scan_drops` tick (its `transport`)
takes every complete new file, writes its intervals and records one run per file on the
stream's schedule, which the health monitor watches like any other. Its gaps are counted
with the volume stream's, since both fill the 15-minute grid.
"""

from __future__ import annotations

from collectors.streams.base import Stream
from integrations.vendors.base import STREAM_FILE_DROP
from integrations.vendors.records import IntervalRecord

STREAM = Stream(
    key=STREAM_FILE_DROP,
    label="File drop",
    record=IntervalRecord,
    transport="collectors.drops.scan_all",
    # Delivered over FTP: no vendor token to expire.
    sections=(),
    grace_seconds=3600,
    gaps=True,
    # It succeeds once per file taken, never per scan, so its proof of life is the newest file.
    freshness="last_file",
    nothing_yet="no file received",
    last_seen="last file received",
)
