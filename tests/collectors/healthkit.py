"""Builders for the health tests: schedules, runs and volume rows at chosen times."""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import timedelta as td

from collectors.models import CollectionRun, CollectionSchedule, IntervalVolume, Queue
from integrations.models import VendorConnection

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def make_schedule(
    conn: VendorConnection, stream: str = "agent_states", **values: object
) -> CollectionSchedule:
    """The connection's schedule row of `stream` (saving a connection creates them), reset."""
    defaults: dict[str, object] = {
        "interval_seconds": 60,
        "next_run_at": T0,
        "enabled": True,
        "status": "new",
        "status_since": None,
    }
    defaults.update(values)
    schedule, _ = CollectionSchedule.objects.update_or_create(
        connection=conn, stream=stream, defaults=defaults
    )
    return schedule


def backdate(conn: VendorConnection, created: datetime) -> None:
    VendorConnection.objects.filter(pk=conn.pk).update(created=created)
    conn.refresh_from_db()


def make_run(
    conn: VendorConnection,
    stream: str,
    status: str,
    started_at: datetime,
    *,
    seconds: float = 2.0,
    window: tuple[datetime, datetime] | None = None,
    rows: int = 0,
    error: str = "",
) -> CollectionRun:
    return CollectionRun.objects.create(
        connection=conn,
        stream=stream,
        status=status,
        started_at=started_at,
        finished_at=started_at + td(seconds=seconds),
        window_start=window[0] if window else None,
        window_end=window[1] if window else None,
        rows_created=rows,
        error_message=error,
    )


def record(schedule: CollectionSchedule, status: str, at: datetime, error: str = "") -> CollectionRun:
    """A finished run whose facts are stored on the schedule, leaving the judgement to the
    evaluation pass under test (the engine's `record_outcome` would evaluate at once)."""
    from collectors.runs import store_outcome

    run = make_run(schedule.connection, schedule.stream, status, at, error=error)
    if status != CollectionRun.OK:
        run.error_class = "AuthError" if status == CollectionRun.AUTH_FAILED else "TransientError"
    store_outcome(schedule, run, at)
    schedule.refresh_from_db()
    return run


def count_run(schedule: CollectionSchedule, run: CollectionRun) -> None:
    """Add a finished run to its stream's /metrics totals only, as its outcome would."""
    from collectors.runs import run_totals

    CollectionSchedule.objects.filter(pk=schedule.pk).update(**run_totals(run))


def make_queue(conn: VendorConnection, vendor_id: str = "q1") -> Queue:
    return Queue.objects.create(
        connection=conn, vendor_id=vendor_id, name=vendor_id, first_seen=T0, last_seen=T0
    )


def add_interval(queue: Queue, start: datetime, entered: int = 3) -> IntervalVolume:
    return IntervalVolume.objects.create(
        connection=queue.connection,
        queue=queue,
        interval_start=start,
        entered=entered,
        abandoned=0,
        handle_seconds=60 * entered,
        collected_at=start + td(minutes=20),
    )
