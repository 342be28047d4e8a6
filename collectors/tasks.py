from __future__ import annotations

from typing import TYPE_CHECKING, Any

from celery import Task, shared_task
from celery.exceptions import TimeLimitExceeded

if TYPE_CHECKING:
    from billiard.einfo import ExceptionInfo


@shared_task(ignore_result=True)
def dispatch_due() -> int:
    """Every 5 s: claim due schedules and enqueue their runs; returns how many were enqueued."""
    from collectors.dispatch import dispatch_due as dispatch

    return dispatch()


class CollectTask(Task):
    """A collection whose hard time limit is recorded by the worker's parent process.

    Under the prefork pool the hard limit kills the child outright, so the run cannot record
    its own end: Celery then calls `on_failure` with TimeLimitExceeded in the parent
    (celery.worker.request.Request.on_timeout), which marks the run timed out and releases
    the stream. The thread and solo pools enforce no time limits at all (`make run`).
    """

    def on_failure(
        self,
        exc: Exception,
        task_id: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        einfo: ExceptionInfo,
    ) -> None:
        if not isinstance(exc, TimeLimitExceeded):
            return
        from datetime import datetime

        from django.db import close_old_connections, connection

        from collectors.runs import record_timeout

        schedule_id, window_start, window_end = [*args, None, None, None][:3]
        if schedule_id is None:
            return
        if not connection.in_atomic_block:
            # The parent may have idled past CONN_MAX_AGE, or the database restarted meanwhile.
            close_old_connections()
        record_timeout(
            int(schedule_id),
            task_id=task_id or "",
            lease_id=str((kwargs or {}).get("lease_id") or ""),
            limit=exc.args[0] if exc.args and isinstance(exc.args[0], int | float) else None,
            window_start=datetime.fromisoformat(window_start) if window_start else None,
            window_end=datetime.fromisoformat(window_end) if window_end else None,
        )


# Late acknowledgement: a worker killed mid-run leaves the message on the broker to be
# redelivered; the run checks its lease first, so a redelivered task whose stream was
# meanwhile claimed again stops instead of running the stream twice at once. The
# dispatcher sets per-stream time limits (COLLECT_* settings; the limits below are only the
# fallback for a task sent without them) and an expiry, which its claim's lease outlasts by
# a few seconds (collectors.runs.lease_seconds).
@shared_task(
    bind=True,
    base=CollectTask,
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=600,
    time_limit=660,
    max_retries=None,
)
def collect(
    self: CollectTask, schedule_id: int, window_start: str, window_end: str, lease_id: str = ""
) -> str:
    """Collect one stream of one connection (see collectors.runs); retries transient failures."""
    from datetime import datetime

    from django.utils import timezone

    from collectors.models import CollectionSchedule
    from collectors.runs import lease_lost, run_collection, start_leased
    from collectors.worker_cache import connection_for

    start, end = datetime.fromisoformat(window_start), datetime.fromisoformat(window_end)
    now = timezone.now()
    connection = None
    if lease_id:
        # One statement confirms the lease and reads the schedule; the connection, with its
        # decrypted credentials, comes from this worker's cache until it changes.
        started = start_leased(schedule_id, lease_id, now, int((end - start).total_seconds()))
        if started is None:
            gone = CollectionSchedule.objects.filter(pk=schedule_id).first()
            return "schedule gone" if gone is None else lease_lost(gone, lease_id)
        schedule, stamp = started
        connection = connection_for(schedule.connection_id, stamp)
    else:
        found = CollectionSchedule.objects.select_related("connection__tenant").filter(pk=schedule_id).first()
        if found is None:
            return "schedule gone"
        schedule = found
    result = run_collection(
        schedule,
        window_start=start,
        window_end=end,
        task_id=self.request.id or "",
        lease_id=lease_id,
        attempt=self.request.retries,
        now=now,
        leased=bool(lease_id),
        connection=connection,
    )
    if result.retry_in is not None:
        # A retry of a history or configuration run gets an expiry of its own (the first
        # try's would lapse before a long countdown); an agent-state retry keeps the poll's.
        extra: dict[str, Any] = {"expires": result.retry_expires} if result.retry_expires is not None else {}
        raise self.retry(countdown=result.retry_in, **extra)
    return result.skipped or (result.run.status if result.run else "")


@shared_task(ignore_result=True)
def scan_drops() -> int:
    """Every 60 s: ingest complete new files in each TCN drop folder; returns how many were taken."""
    from collectors.drops import scan_all

    return len(scan_all())


@shared_task(ignore_result=True)
def evaluate_health() -> int:
    """Every 60 s: write HealthFlip rows for status transitions; returns how many."""
    from collectors.health import evaluate_all

    return evaluate_all()


@shared_task(ignore_result=True)
def prune() -> int:
    """Every hour: delete what the retention policies no longer keep; returns rows deleted.

    Hourly keeps each pass to about an hour's worth of rows, a few short batches per table.
    """
    from collectors.retention import prune as prune_tables

    return sum(outcome.deleted for outcome in prune_tables())
