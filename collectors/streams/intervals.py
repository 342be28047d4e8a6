"""Contact volume per queue and 15-minute interval, polled from the vendor's history API.

Each run collects closed intervals from the stream's cursor (minus a lookback, since
vendors revise recent numbers) in bounded chunks, writes them with
`collectors.writers.upsert_intervals` and moves the cursor, in one transaction.
"""

from __future__ import annotations

from datetime import timedelta as td

from collectors.streams.base import Job, Stream, Written
from integrations.vendors.base import HISTORY, STREAM_VOLUME
from integrations.vendors.records import IntervalRecord

STREAM = Stream(
    key=STREAM_VOLUME,
    label="Contact volume",
    record=IntervalRecord,
    fetch="fetch_volume",
    collect="collectors.streams.intervals.collect",
    queue="history",
    delay_setting="HISTORY_DELAY_SECONDS",
    window="closed",
    backfill=True,
    sections=(HISTORY,),
    # History is revised and re-read in big windows, so it gets more slack than a poll.
    grace_seconds=1800,
    gaps=True,
    freshness="newest_interval",
)


def collect(job: Job) -> Written:
    """Fetch the run's window and upsert it; the cursor moves in the same transaction."""
    from django.db import transaction

    from collectors.conf import app_settings
    from collectors.models import Cursor
    from collectors.windows import explicit_window, history_window, is_on_grid
    from collectors.writers import upsert_intervals

    connection, run, now = job.connection, job.run, job.now
    cursor = (
        Cursor.objects.filter(connection=connection, stream=STREAM.key)
        .values_list("position", flat=True)
        .first()
    )
    if job.explicit:
        if run.window_start is None or run.window_end is None:
            raise ValueError("an explicit window needs a start and an end")
        window = explicit_window(run.window_start, run.window_end, cursor, now)
    else:
        window = history_window(
            cursor,
            now,
            lookback=app_settings.LOOKBACK_INTERVALS,
            chunk=app_settings.CHUNK_INTERVALS,
            initial_history=app_settings.INITIAL_HISTORY,
            settle=td(seconds=connection.vendor_class.volume_settle_seconds),
        )
    if not (is_on_grid(window.start) and is_on_grid(window.end)):
        raise ValueError(
            f"window {window.start.isoformat()} to {window.end.isoformat()} is not on the 15-minute grid"
        )
    run.window_start, run.window_end = window.start, window.end
    run.save(update_fields=["window_start", "window_end"])
    written = Written()
    records: list[IntervalRecord] = job.fetch(window.start, window.end) if not window.empty else []
    inside = [r for r in records if window.start <= r.interval_start < window.end]
    if len(inside) != len(records):
        written.notes.append(f"ignored {len(records) - len(inside)} record(s) outside the window")
    with transaction.atomic():
        written.created, written.updated = upsert_intervals(connection, inside, now)
        advance_cursor(job, window.advance_to)
        written.notes.append(
            f"{window.intervals} interval(s) from {window.start:%Y-%m-%dT%H:%MZ}, {len(inside)} record(s)"
        )
        job.finish(written)
    return written


def advance_cursor(job: Job, target: object) -> None:
    """Move the cursor forward to `target` (never backwards), in the caller's transaction."""
    from collectors.models import Cursor

    if target is None:
        return
    cursors = Cursor.objects.filter(connection=job.connection, stream=STREAM.key)
    if not cursors.filter(position__lt=target).update(position=target) and not cursors.exists():
        Cursor.objects.create(connection=job.connection, stream=STREAM.key, position=target)
