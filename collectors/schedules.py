"""One `CollectionSchedule` row per (connection, stream), kept in step with the connections.

The rows are the schedule: beat has a handful of global ticks and `dispatch_due` claims
due rows, so a connection added, paused or re-timed in the admin needs no beat entry. What
differs between streams (interval, delay after the grid point, phase and jitter) is read
from their declarations (`collectors.streams`).
"""

from __future__ import annotations

import random
from datetime import datetime
from datetime import timedelta as td

from django.db import transaction
from django.utils import timezone

from collectors.conf import app_settings
from collectors.models import CollectionSchedule
from collectors.streams import STREAMS, get_stream
from collectors.windows import floor_to
from integrations.models import VendorConnection

# The built-in streams the dispatcher runs (bench/ seeds them); the engine asks the registry
# at use (`dispatched_streams()`), which also counts streams added in settings.
DISPATCHED_STREAMS = tuple(key for key in STREAMS if get_stream(key).dispatched)


def stream_interval(connection: VendorConnection, stream: str) -> int:
    """Seconds between runs of a stream (`Stream.interval`: a poll's is the connection's)."""
    return get_stream(stream).interval(connection)


def stream_offset(stream: str) -> int:
    """Seconds after a grid point a stream runs: history waits until the vendor closed the interval."""
    setting = get_stream(stream).delay_setting
    return int(getattr(app_settings, setting)) if setting else 0


def jitter(interval_seconds: int) -> float:
    """A small random delay so many connections on one grid do not all fire in the same second."""
    return random.uniform(0, min(app_settings.JITTER_MAX_SECONDS, interval_seconds * 0.1))


# 1/golden ratio: multiples of it modulo 1 spread any run of ids evenly (Fibonacci hashing).
_SPREAD = 0.6180339887498949


def phase(schedule_id: int, stream: str, interval_seconds: int) -> float:
    """Seconds after each grid point of its interval that a stream is due.

    Polls (agent states) get a stable phase spread over the whole interval: with everyone on
    the grid plus a second of jitter, every connection's poll went out in the same dispatcher
    tick and the tail of each burst waited in the queue past its interval and expired (in
    bench/, 500 connections every 10 s). History waits its delay after the grid point (the
    vendor closes the interval first) and configuration runs on the point; both add jitter.
    """
    if get_stream(stream).poll:
        return round((schedule_id * _SPREAD) % 1.0 * interval_seconds, 3)
    return float(stream_offset(stream))


def next_run_after(now: datetime, stream: str, interval_seconds: int, schedule_id: int) -> datetime:
    """When the stream is next due: its next phase point strictly after `now` (plus jitter
    for the streams without a spread phase)."""
    shift = td(seconds=phase(schedule_id, stream, interval_seconds))
    slot = floor_to(now - shift, interval_seconds) + td(seconds=interval_seconds)
    extra = 0.0 if get_stream(stream).poll else jitter(interval_seconds)
    return slot + shift + td(seconds=extra)


def sync_schedules(connection: VendorConnection, now: datetime | None = None) -> list[CollectionSchedule]:
    """Create the connection's missing schedule rows and keep their intervals in step.

    A new stream is due at once. A stream the vendor no longer declares is disabled (kept:
    its runs and health history stay). `enabled` is otherwise left alone: it is the
    pause switch of the health monitor, and a disabled connection is skipped by the
    dispatcher through `connection.enabled` instead.
    """
    now = now or timezone.now()
    streams = set(connection.vendor_class.streams)
    with transaction.atomic():
        existing = {s.stream: s for s in CollectionSchedule.objects.filter(connection=connection)}
        missing = [
            CollectionSchedule(
                connection=connection,
                stream=stream,
                interval_seconds=stream_interval(connection, stream),
                next_run_at=now,
            )
            for stream in sorted(streams - set(existing))
        ]
        # ignore_conflicts: two saves of one connection at once must not fail on the natural key.
        CollectionSchedule.objects.bulk_create(missing, ignore_conflicts=True)
        for stream, schedule in existing.items():
            interval = stream_interval(connection, stream)
            if schedule.interval_seconds != interval:
                # An interval made shorter takes effect now rather than after the old, long wait.
                CollectionSchedule.objects.filter(pk=schedule.pk).update(
                    interval_seconds=interval,
                    next_run_at=min(schedule.next_run_at, now + td(seconds=interval)),
                )
        gone = [s.pk for stream, s in existing.items() if stream not in streams and s.enabled]
        if gone:
            CollectionSchedule.objects.filter(pk__in=gone).update(enabled=False)
    return list(CollectionSchedule.objects.filter(connection=connection))


def sync_all(now: datetime | None = None) -> int:
    """Bring every connection's schedules in step (e.g. after the config interval setting changed)."""
    count = 0
    for connection in VendorConnection.objects.select_related("tenant").iterator():
        sync_schedules(connection, now)
        count += 1
    return count


def on_connection_saved(
    sender: type, instance: VendorConnection, raw: bool = False, **kwargs: object
) -> None:
    if raw:  # loaddata: the fixture brings its own rows
        return
    sync_schedules(instance)


def on_migrated(sender: object, **kwargs: object) -> None:
    # A deploy runs migrate: schedules then follow settings changed since (e.g. the
    # configuration interval) and connections written without save() get their rows.
    sync_all()
