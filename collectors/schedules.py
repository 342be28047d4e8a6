"""One `CollectionSchedule` row per (connection, stream), kept in step with the connections.

The rows are the schedule: beat has a handful of global ticks and `dispatch_due` claims
due rows, so a connection added, paused or re-timed in the admin needs no beat entry. What
differs between streams (interval, delay after the grid point, phase and jitter) is read
from their declarations (`collectors.streams`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta as td
from typing import Any

from django.db import connection as db_connection
from django.db import transaction
from django.utils import timezone

from collectors.conf import app_settings
from collectors.models import CollectionSchedule, judge_now
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


# 1/golden ratio: multiples of it modulo 1 spread any run of ids evenly (Fibonacci hashing).
_SPREAD = 0.6180339887498949


@dataclass(frozen=True)
class Spread:
    """Where a stream's runs fall after each grid point of its interval: `delay + share * width`
    seconds, the share stable per schedule (`phase` says why). It follows from the stream and
    its interval alone, so the dispatcher reads it once per batch, not per claim."""

    delay: float
    width: float

    def phase(self, schedule_id: int) -> float:
        share = (schedule_id * _SPREAD) % 1.0
        return round(self.delay + share * self.width, 3)


def spread(stream: str, interval_seconds: int) -> Spread:
    """A stream's spread at an interval: polls and configuration over the whole interval, history
    over SPREAD_SECONDS after its delay (`phase`)."""
    declared = get_stream(stream)
    if declared.poll or declared.spread_over_interval:
        return Spread(0, interval_seconds)
    delay = stream_offset(stream)
    return Spread(delay, min(app_settings.SPREAD_SECONDS, max(0, interval_seconds // 2 - delay)))


def phase(schedule_id: int, stream: str, interval_seconds: int) -> float:
    """Seconds after each grid point of its interval that a stream is due: stable per schedule.

    Polls (agent states) are spread over the whole interval: with everyone on the grid plus
    a second of jitter, every connection's poll went out in the same dispatcher tick and the
    tail of each burst waited in the queue past its interval and expired (in bench/, 500
    connections every 10 s). So is configuration (`Stream.spread_over_interval`): an hourly
    import is as good at any minute of the hour. History waits its delay after the grid point
    (the vendor closes the interval first) and is then spread over SPREAD_SECONDS (at most half
    the interval, less the delay): with a few seconds of jitter, 500 history runs landed on the
    workers in one tick at every 15-minute boundary and the polls queued behind them missed
    their slots.
    """
    return spread(stream, interval_seconds).phase(schedule_id)


def next_run_after(
    now: datetime, stream: str, interval_seconds: int, schedule_id: int, within: Spread | None = None
) -> datetime:
    """When the stream is next due: its next phase point strictly after `now` (`within`: the
    stream's spread, when the caller already read it)."""
    shift = td(seconds=(within or spread(stream, interval_seconds)).phase(schedule_id))
    return floor_to(now - shift, interval_seconds) + td(seconds=interval_seconds) + shift


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
                    health_due_at=judge_now(),  # its late deadline moved: judged at the next health pass
                )
        gone = [s.pk for stream, s in existing.items() if stream not in streams and s.enabled]
        if gone:
            CollectionSchedule.objects.filter(pk__in=gone).update(enabled=False, health_due_at=judge_now())
    return list(CollectionSchedule.objects.filter(connection=connection))


def sync_all(now: datetime | None = None) -> int:
    """Bring every connection's schedules in step (e.g. after the config interval setting changed).

    The same outcome as `sync_schedules` on each connection, in a constant number of
    statements: the connections and the schedules are read once, the difference is worked
    out here, and the missing rows, the changed intervals and the streams no longer declared
    are each written by one statement over a JSON array of rows (one connection at a time,
    a deploy at 20,000 connections spent 80 s in 40,001 queries).
    """
    now = now or timezone.now()
    wanted: dict[tuple[int, str], int] = {}
    count = 0
    for connection in VendorConnection.objects.select_related("tenant").iterator(chunk_size=2000):
        for stream in connection.vendor_class.streams:
            wanted[connection.pk, stream] = stream_interval(connection, stream)
        count += 1
    with transaction.atomic():
        existing = CollectionSchedule.objects.values_list(
            "pk", "connection_id", "stream", "interval_seconds", "next_run_at", "enabled"
        )
        seen: set[tuple[int, str]] = set()
        changed: list[tuple[int, int, datetime]] = []
        gone: list[int] = []
        for pk, connection_id, stream, interval_seconds, next_run_at, enabled in existing:
            key = (connection_id, stream)
            seen.add(key)
            interval = wanted.get(key)
            if interval is None:
                if enabled:
                    gone.append(pk)
            elif interval != interval_seconds:
                # An interval made shorter takes effect now rather than after the old, long wait.
                changed.append((pk, interval, min(next_run_at, now + td(seconds=interval))))
        missing = sorted((key, interval) for key, interval in wanted.items() if key not in seen)
        _insert_missing(missing, now)
        _update_intervals(changed)
        _disable(gone)
    return count


# Each statement reads its rows from one JSON parameter, as a table: the number of statements
# and parameters stays the same whatever the number of connections. Only the model's table
# and column names are formatted into the SQL; every value is a parameter.
_ROWS = {
    "postgresql": "SELECT * FROM jsonb_to_recordset(%s::jsonb) AS r({columns})",
    "sqlite": "SELECT {extracts} FROM json_each(%s)",
}
_PG_TYPES = {
    "id": "bigint",
    "connection_id": "bigint",
    "stream": "text",
    "interval_seconds": "integer",
    "next_run_at": "timestamptz",
    "health_due_at": "timestamptz",
}


def _rows(columns: tuple[str, ...]) -> str:
    template = _ROWS.get(db_connection.vendor)
    if template is None:
        raise NotImplementedError(f"schedule sync has no JSON row source for {db_connection.vendor}")
    return template.format(
        columns=", ".join(f"{c} {_PG_TYPES[c]}" for c in columns),
        extracts=", ".join(f"json_extract(value, '$.{c}') AS {c}" for c in columns),
    )


def _adapt(moment: datetime) -> str:
    value = db_connection.ops.adapt_datetimefield_value(moment)
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _execute(sql: str, rows: list[dict[str, object]]) -> None:
    if rows:
        with db_connection.cursor() as cursor:
            cursor.execute(sql, [json.dumps(rows)])


def _insert_missing(missing: list[tuple[tuple[int, str], int]], now: datetime) -> None:
    """Insert the missing rows, due at once, every other column at its model default."""
    table = db_connection.ops.quote_name(CollectionSchedule._meta.db_table)
    given = ("connection_id", "stream", "interval_seconds", "next_run_at")
    columns: list[str] = []
    values: list[str] = []
    params: list[Any] = []
    for field in CollectionSchedule._meta.concrete_fields:
        if field.primary_key or field.column is None:
            continue
        columns.append(db_connection.ops.quote_name(field.column))
        if field.column in given:
            values.append(f"r.{field.column}")
        else:
            # Typed on PostgreSQL: an untyped parameter in a SELECT list would be text.
            cast = f"::{field.db_type(db_connection)}" if db_connection.vendor == "postgresql" else ""
            values.append(f"%s{cast}")
            params.append(field.get_db_prep_save(field.get_default(), db_connection))
    rows = [
        {"connection_id": c, "stream": s, "interval_seconds": i, "next_run_at": _adapt(now)}
        for (c, s), i in missing
    ]
    if not rows:
        return
    # ON CONFLICT DO NOTHING: a connection saved meanwhile may have made its rows already;
    # EXISTS: one deleted meanwhile gets none.
    connections = db_connection.ops.quote_name(VendorConnection._meta.db_table)
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} "  # noqa: S608
        f"FROM ({_rows(given)}) AS r "
        f"WHERE EXISTS (SELECT 1 FROM {connections} c WHERE c.id = r.connection_id) "
        "ORDER BY r.connection_id, r.stream ON CONFLICT (connection_id, stream) DO NOTHING"
    )
    with db_connection.cursor() as cursor:
        cursor.execute(sql, [*params, json.dumps(rows)])


INTERVAL_COLUMNS = ("id", "interval_seconds", "next_run_at", "health_due_at")


def _update_intervals(changed: list[tuple[int, int, datetime]]) -> None:
    """New intervals; each such stream is judged at the next health pass (its deadline moved)."""
    table = db_connection.ops.quote_name(CollectionSchedule._meta.db_table)
    _execute(
        f"UPDATE {table} SET interval_seconds = r.interval_seconds, next_run_at = r.next_run_at, "  # noqa: S608
        f"health_due_at = r.health_due_at FROM ({_rows(INTERVAL_COLUMNS)}) AS r WHERE {table}.id = r.id",
        [
            {"id": pk, "interval_seconds": i, "next_run_at": _adapt(n), "health_due_at": _adapt(judge_now())}
            for pk, i, n in changed
        ],
    )


def _disable(gone: list[int]) -> None:
    """A stream the vendor no longer declares is disabled, kept with its runs and health history
    (and judged `paused` at the next health pass)."""
    table = db_connection.ops.quote_name(CollectionSchedule._meta.db_table)
    _execute(
        f"UPDATE {table} SET enabled = false, health_due_at = r.health_due_at "  # noqa: S608
        f"FROM ({_rows(('id', 'health_due_at'))}) AS r WHERE {table}.id = r.id",
        [{"id": pk, "health_due_at": _adapt(judge_now())} for pk in gone],
    )


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
