"""Contact volume per queue and 15-minute interval, polled from the vendor's history API.

Each run collects closed intervals from the stream's cursor (minus a lookback, since
vendors revise recent numbers), in chunks no longer than the vendor allows per request
(`VendorConnection.request_days`), oldest first. Each chunk is written with
`collectors.writers.upsert_intervals` and moves the cursor in one transaction of its own,
so a run killed midway loses at most the chunk it was fetching, and the next resumes at
the cursor. A new connection starts its history start before its first run and catches up
over as many runs as it takes (collectors.backfill bounds how much of it runs at once).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta as td
from typing import TYPE_CHECKING

from collectors.streams.base import Job, Stream, Written
from integrations.vendors.base import HISTORY, STREAM_VOLUME
from integrations.vendors.records import IntervalRecord

if TYPE_CHECKING:
    from collectors.models import Cursor
    from collectors.windows import Window
    from integrations.models import VendorConnection

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


def request_intervals(connection: VendorConnection) -> int:
    """The most intervals one request may span: the connection's (or vendor's) day limit,
    capped by the site's COLLECT_CHUNK_INTERVALS."""
    from collectors.conf import app_settings
    from collectors.windows import INTERVAL

    return max(1, min(connection.request_days() * (td(days=1) // INTERVAL), app_settings.CHUNK_INTERVALS))


def history_start(connection: VendorConnection) -> td:
    """How far back a connection's first history run starts."""
    from collectors.conf import app_settings

    return td(days=connection.backfill_days) if connection.backfill_days else app_settings.INITIAL_HISTORY


def split(start: datetime, end: datetime, intervals: int) -> list[tuple[datetime, datetime]]:
    """[start, end) cut into consecutive pieces of at most `intervals` 15-minute intervals."""
    from collectors.windows import INTERVAL

    pieces = []
    while start < end:
        pieces.append((start, min(end, start + intervals * INTERVAL)))
        start = pieces[-1][1]
    return pieces


@dataclass
class Tally:
    """What the chunks of one run have done so far."""

    chunks: int = 0
    intervals: int = 0
    records: int = 0
    ignored: int = 0
    first: datetime | None = None

    def note(self, written: Written) -> None:
        if self.ignored:
            written.notes.append(f"ignored {self.ignored} record(s) outside the window")
        chunks = f" in {self.chunks} request(s)" if self.chunks > 1 else ""
        start = f" from {self.first:%Y-%m-%dT%H:%MZ}" if self.first else ""
        written.notes.append(f"{self.intervals} interval(s){start}, {self.records} record(s){chunks}")


def collect(job: Job) -> Written:
    """Fetch the run's window chunk by chunk and upsert each; the cursor moves with each."""
    from collectors.models import Cursor

    cursor = Cursor.objects.filter(connection=job.connection, stream=STREAM.key).first()
    if job.explicit:
        return collect_explicit(job, cursor)
    return collect_scheduled(job, cursor)


def collect_explicit(job: Job, cursor: Cursor | None) -> Written:
    """A window asked for by hand: exactly [window_start, window_end), in request-sized chunks."""
    from collectors.windows import explicit_window

    run, now = job.run, job.now
    if run.window_start is None or run.window_end is None:
        raise ValueError("an explicit window needs a start and an end")
    whole = explicit_window(run.window_start, run.window_end, None, now)
    pieces = split(whole.start, whole.end, request_intervals(job.connection))
    position = cursor.position if cursor is not None else None
    written, tally = Written(), Tally()
    job.report(0, whole.intervals)
    for i, (start, end) in enumerate(pieces):
        window = explicit_window(start, end, position, now)
        collect_chunk(job, window, written, tally, last=i == len(pieces) - 1)
        if window.advance_to is not None:
            position = max(position or window.advance_to, window.advance_to)
        job.report(tally.intervals, whole.intervals)
    return written


def collect_scheduled(job: Job, cursor: Cursor | None) -> Written:
    """From the cursor to the last closed interval: one chunk, and more while the run's time
    budget lasts and it holds a backfill slot (collectors.backfill)."""
    from collectors.conf import app_settings
    from collectors.models import Cursor
    from collectors.windows import floor_interval, history_window, last_closed_end

    connection, now = job.connection, job.now
    began = time.monotonic()
    closed = last_closed_end(now)
    if cursor is None:
        # The backfill begins: its start is fixed now, so its progress has a total.
        origin = min(floor_interval(closed - history_start(connection)), closed)
        cursor, _ = Cursor.objects.get_or_create(
            connection=connection,
            stream=STREAM.key,
            defaults={"position": origin, "backfill_from": origin, "backfill_started": now},
        )
    most = request_intervals(connection)
    settle = td(seconds=connection.vendor_class.volume_settle_seconds)
    written, tally = Written(), Tally()
    position = cursor.position
    slot = False
    try:
        while True:
            # Nothing before the history start is wanted, so a cursor there has nothing to
            # re-read; later chunks of one run follow the one just written.
            rereads = tally.chunks == 0 and position != cursor.backfill_from
            lookback = min(app_settings.LOOKBACK_INTERVALS, most - 1) if rereads else 0
            window = history_window(
                position, now, lookback=lookback, chunk=most - lookback, initial_history=td(0), settle=settle
            )
            more = window.end < closed and (time.monotonic() - began < app_settings.BACKFILL_BUDGET_SECONDS)
            if more and not slot:
                until = now + td(seconds=app_settings.BACKFILL_BUDGET_SECONDS + app_settings.SOFT_TIME_LIMIT)
                slot = cursor.claim_backfill_slot(now, until, app_settings.BACKFILL_MAX_CONNECTIONS)
            last = not (more and slot)
            collect_chunk(job, window, written, tally, last=last, began=began)
            if window.advance_to is not None:
                position = max(position, window.advance_to)
            if last:
                return written
    finally:
        if slot:
            cursor.release_backfill_slot()


def collect_chunk(
    job: Job, window: Window, written: Written, tally: Tally, *, last: bool, began: float | None = None
) -> None:
    """Fetch one window and write it with the cursor in one transaction (finishing the run
    with the last chunk)."""
    from django.db import transaction

    from collectors.windows import is_on_grid
    from collectors.writers import upsert_intervals

    run = job.run
    if not (is_on_grid(window.start) and is_on_grid(window.end)):
        raise ValueError(
            f"window {window.start.isoformat()} to {window.end.isoformat()} is not on the 15-minute grid"
        )
    if tally.chunks == 0:
        run.window_start = window.start
        tally.first = window.start
    run.window_end = window.end
    records: list[IntervalRecord] = job.fetch(window.start, window.end) if not window.empty else []
    inside = [r for r in records if window.start <= r.interval_start < window.end]
    tally.chunks += 1
    tally.intervals += window.intervals
    tally.records += len(inside)
    tally.ignored += len(records) - len(inside)
    with transaction.atomic():
        created, updated = upsert_intervals(job.connection, inside, job.now)
        written.created += created
        written.updated += updated
        measured = job.now + td(seconds=time.monotonic() - began) if began is not None else None
        advance_cursor(job, window.advance_to, measured)
        if last:
            tally.note(written)
            job.finish(written)
        else:
            run.save(update_fields=["window_start", "window_end"])


def advance_cursor(job: Job, target: datetime | None, measured: datetime | None = None) -> None:
    """Move the cursor forward to `target` (never backwards), in the caller's transaction.

    `measured` is when the chunk was written on the run's clock: the backfill's rate is
    measured from it (collectors.backfill.progress).
    """
    from collectors.models import Cursor

    if target is None:
        return
    cursors = Cursor.objects.filter(connection=job.connection, stream=STREAM.key)
    moved = {"position": target, **({"updated": measured} if measured is not None else {})}
    if not cursors.filter(position__lt=target).update(**moved) and not cursors.exists():
        Cursor.objects.create(connection=job.connection, stream=STREAM.key, position=target)
