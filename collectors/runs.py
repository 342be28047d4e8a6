"""One collection of one stream of one connection: fetch, write in one transaction, record.

The Celery task and `manage.py collect` both call `run_collection`, so a run by hand is
exactly a scheduled run. The vendor is called outside any transaction (a slow API must
not hold database locks); what it returned is then written, the cursor advanced and the
run marked ok in one transaction, so a failure leaves nothing half-written.

What differs between streams (the adapter method, the writer, leases and time limits of a
poll) is read from the stream's declaration (`collectors.streams`): the run hands itself to
the stream's collect hook, which fetches, writes and finishes it.

The engine does not call the health monitor. It stores each outcome on the schedule (the
facts `collectors.health.evaluate` reads) and sends `outcome_recorded`; the monitor listens
there so that a failure is judged at once, not only at its next periodic pass (one
documented hook, kept for latency).
"""

from __future__ import annotations

import logging
import random
import re
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta as td
from functools import cache
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.db import connection as db_connection
from django.db.models import Case, F, Q, Value, When
from django.dispatch import Signal
from django.utils import timezone
from django.utils.module_loading import import_string

from collectors import gaps, rows
from collectors.conf import app_settings
from collectors.health import OK as HEALTHY
from collectors.health_conf import conf
from collectors.models import RUN_DURATION_BUCKETS, CollectionRun, CollectionSchedule
from collectors.streams import dispatched_streams, find_stream, get_stream
from collectors.streams.base import Job, Written
from integrations.models import VendorConnection
from integrations.scrub import scrub
from integrations.vendors.errors import AuthError, DataError, TransientError

log = logging.getLogger(__name__)

# Schedule statuses the engine sets itself; every other transition belongs to collectors.health.
MAX_ERROR_LENGTH = 2000


@dataclass
class Result:
    """What a run ended as: its record, and when to retry if it should be retried."""

    run: CollectionRun | None
    retry_in: float | None = None
    # The retry's own expiry (seconds from now); None keeps the first try's (agent states).
    retry_expires: float | None = None
    # Why no run happened at all (another run holds the stream's lease).
    skipped: str = ""


class LeaseHeld(Exception):
    """Another run of the stream is in progress."""


# --- leases --------------------------------------------------------------------------------


# How long after its task's expiry a claim still holds the stream: room for a task that
# started just before expiry to confirm its lease (and for clock skew).
CLAIM_MARGIN_SECONDS = 5


def polls(stream: str) -> bool:
    """Whether runs of `stream` are polls, each worth only its own interval (`Stream.poll`)."""
    declared = find_stream(stream)
    return declared is not None and declared.poll


def lease_seconds(stream: str, interval_seconds: int) -> int:
    """How long a claim holds a stream before a worker starts its run.

    Every collection task expires (a poll one interval after it is sent, a history or
    configuration run after QUEUE_GRACE_SECONDS), and its claim lapses just after: a task
    that never started (its message lost with the broker, or expired in a queue) must not
    keep its stream from the dispatcher for the whole time limit (in bench/ that held
    hundreds of streams for two minutes after a burst and lost a third of all polls). A run
    that starts renews the lease to `running_lease`.
    """
    if polls(stream):
        return interval_seconds + CLAIM_MARGIN_SECONDS
    return app_settings.QUEUE_GRACE_SECONDS + CLAIM_MARGIN_SECONDS


def time_limits(stream: str, interval_seconds: int) -> tuple[int, int]:
    """(soft, hard) time limits of a run, from the settings its declaration names.

    A poll's are cut to fit inside its running lease: the hard limit ends the poll a second
    before its lease lapses, so the next poll never overlaps it; the soft limit leaves it a
    few seconds to record the failure.
    """
    declared = get_stream(stream)
    soft_setting, hard_setting = declared.time_limit_settings
    soft, hard = int(getattr(app_settings, soft_setting)), int(getattr(app_settings, hard_setting))
    if not declared.poll:
        return soft, hard
    grace = app_settings.AGENT_STATES_GRACE_SECONDS
    hard = min(hard, interval_seconds + grace - 1)
    return min(soft, max(1, hard - max(1, grace // 2))), hard


MANUAL = "manual:"  # prefix of the lease tokens of runs by hand (`take_lease`)


def running_lease(stream: str, interval_seconds: int, *, manual: bool = False) -> td:
    """The lease a started run holds.

    A poll: one interval plus AGENT_STATES_GRACE_SECONDS (its time limits fit inside), so a
    killed worker's stream is polled again that soon. A history or configuration run: its
    hard time limit and a margin. A run by hand has no Celery time limit to end it early, so
    it holds the stream for the configured limit and a margin.
    """
    declared = find_stream(stream)
    if declared is not None and declared.poll and not manual:
        return td(seconds=interval_seconds + app_settings.AGENT_STATES_GRACE_SECONDS)
    hard_setting = declared.time_limit_settings[1] if declared is not None else "TIME_LIMIT"
    return td(seconds=int(getattr(app_settings, hard_setting)) + 60)


def confirm_lease(schedule_id: int, lease_id: str, stream: str, now: datetime, interval_seconds: int) -> bool:
    """Compare-and-set: go ahead only while this claim still holds the lease, and renew it.

    A task whose lease lapsed (it waited too long, or its worker died and it was
    redelivered after the stream was claimed again) finds another token and stops, so a
    stream never runs twice at once.
    """
    return bool(
        CollectionSchedule.objects.filter(pk=schedule_id, lease_id=lease_id).update(
            lease_until=now + running_lease(stream, interval_seconds, manual=lease_id.startswith(MANUAL))
        )
    )


def lease_lost(schedule: CollectionSchedule, lease_id: str) -> str:
    """Log and return why a run whose claim lost its lease does nothing."""
    reason = f"{schedule}: lease {lease_id} no longer held, another run took the stream over"
    log.warning("collect skipped: %s", reason)
    return reason


def start_leased(
    schedule_id: int, lease_id: str, now: datetime, interval_seconds: int
) -> tuple[CollectionSchedule, object] | None:
    """Confirm and renew a dispatched claim's lease and read its schedule, in one statement.

    `confirm_lease` and the read of the schedule and its connection, folded into one
    `UPDATE … RETURNING` (PostgreSQL, SQLite 3.35+): it returns the schedule and its
    connection's `updated` stamp (what `collectors.worker_cache` keys a connection by), or
    None when this claim no longer holds the lease or the schedule is gone. The running
    lease depends on the stream, which the task does not carry: it is chosen per stream in
    SQL from the leases `running_lease` gives each dispatched stream, with `interval_seconds`
    (the claim's window) as a poll's interval.
    """
    streams = tuple(dispatched_streams())
    params: list[Any] = []
    for stream in streams:
        params += [stream, now + running_lease(stream, interval_seconds)]
    with db_connection.cursor() as cursor:
        cursor.execute(start_leased_sql(streams), [*params, schedule_id, lease_id])
        row = cursor.fetchone()
    if row is None:
        return None
    # The last column is the sub-select's: the connection's stamp, as the database returned it.
    return rows.load(CollectionSchedule, row[:-1]), row[-1]


@cache
def start_leased_sql(streams: tuple[str, ...]) -> str:
    """The statement of `start_leased`, written out once per process (as `healthy_success_sql`)
    and per set of dispatched streams (a setting may add streams).

    Only the model's own table and column names are formatted in; every value is a parameter:
    (stream, lease) for each of `streams`, then the schedule's id and the lease's token.
    """
    q = db_connection.ops.quote_name
    table, connections = q(CollectionSchedule._meta.db_table), q(VendorConnection._meta.db_table)
    cases = " ".join("WHEN %s THEN %s" for _ in streams)
    returned = ", ".join(q(column) for column in rows.columns(CollectionSchedule))
    return (
        f"UPDATE {table} SET lease_until = CASE stream {cases} ELSE lease_until END "  # noqa: S608
        f"WHERE id = %s AND lease_id = %s RETURNING {returned}, "
        f"(SELECT c.updated FROM {connections} c WHERE c.id = {table}.connection_id)"
    )


def take_lease(schedule: CollectionSchedule, now: datetime) -> str:
    """Claim a free stream for a run by hand (`manage.py collect`); raise LeaseHeld if busy."""
    token = f"{MANUAL}{uuid.uuid4().hex}"
    free = Q(lease_until__isnull=True) | Q(lease_until__lte=now)
    taken = CollectionSchedule.objects.filter(free, pk=schedule.pk).update(
        lease_id=token,
        lease_until=now + running_lease(schedule.stream, schedule.interval_seconds, manual=True),
    )
    if not taken:
        until = (
            CollectionSchedule.objects.filter(pk=schedule.pk).values_list("lease_until", flat=True).first()
        )
        raise LeaseHeld(f"a run of {schedule} is in progress (leased until {until:%Y-%m-%dT%H:%M:%SZ})")
    return token


# --- outcome -------------------------------------------------------------------------------


# Sent after a run's outcome is stored, unless it was a success on a stream already `ok`:
# the one hook through which the health monitor hears of runs (`collectors.health.on_outcome`,
# connected in `CollectorsConfig.ready`). Arguments: schedule, run, now.
outcome_recorded = Signal()


def record_outcome(
    schedule: CollectionSchedule,
    run: CollectionRun,
    now: datetime,
    *,
    lease_id: str = "",
    hold_until: datetime | None = None,
) -> None:
    """Store a run's outcome on its schedule and announce it on `outcome_recorded` (unless it
    was a success on a stream already `ok`).

    The status the outcome implies, and the flip that announces a change, are the health
    monitor's to decide (it listens on `outcome_recorded`, so a change is seen at once rather
    than at its next periodic pass), and every status change goes through its one
    compare-and-set and is alerted exactly once.
    """
    if store_outcome(schedule, run, now, lease_id=lease_id, hold_until=hold_until):
        # A success on a stream already `ok` changes no status. What time and people change
        # (lateness, an expired token, a disabled connection) is the periodic pass's to judge,
        # run or no run; skipping here takes a third off the cost of an agent-state poll.
        return
    outcome_recorded.send(sender=CollectionSchedule, schedule=schedule, run=run, now=now)


def store_outcome(
    schedule: CollectionSchedule,
    run: CollectionRun,
    now: datetime,
    *,
    lease_id: str = "",
    hold_until: datetime | None = None,
) -> bool:
    """The facts of a run's outcome (failure count, last success, last error) in one UPDATE,
    ending (or holding) the lease while `lease_id` holds it.

    Returns True when the run succeeded and the stream's stored status was `ok` (the one
    UPDATE tells, so the common case costs one statement).
    """
    gaps.record_covered(schedule.pk, run, now)
    fast = (
        run.status == CollectionRun.OK
        and bool(lease_id)
        and hold_until is None
        and run.finished_at is not None
    )
    # The common case, every poll: precompiled (the ORM building and compiling this UPDATE was
    # 40% of the poll task's time, bench/ANALYSIS.md 9), the same values as the ORM path below.
    if fast and healthy_success(schedule, run, now, lease_id):
        return True
    updates: dict[str, object] = {"last_run_at": now, **run_totals(run)}
    if run.status == CollectionRun.OK:
        updates |= {"consecutive_failures": 0, "last_success_at": now, "last_error": ""}
    else:
        message = f"{run.error_class}: {run.error_message}"[:MAX_ERROR_LENGTH]
        updates |= {"consecutive_failures": F("consecutive_failures") + 1, "last_error": message}
    if lease_id:
        holds = Q(lease_id=lease_id)
        updates["lease_until"] = Case(When(holds, then=Value(hold_until)), default=F("lease_until"))
        if hold_until is None:
            updates["lease_id"] = Case(When(holds, then=Value("")), default=F("lease_id"))
    stored = CollectionSchedule.objects.filter(pk=schedule.pk)
    if (
        not fast
        and run.status == CollectionRun.OK
        and stored.filter(status=HEALTHY).update(**updates, **lateness(schedule, now))
    ):
        return True
    stored.update(**updates)
    return False


@cache
def healthy_success_sql() -> str:
    """The UPDATE of `store_outcome` for a leased success on a stream already `ok`, as SQL.

    Written out once per process: only the model's own table and column names are formatted
    in, every value is a parameter (`healthy_success`). As in any UPDATE, each SET reads the
    row as it was, so the lease is ended only where this run's lease still holds it.
    """
    q = db_connection.ops.quote_name
    col = {f.name: q(f.column) for f in CollectionSchedule._meta.concrete_fields if f.column}
    counted = ["runs_finished", "run_seconds_total", "rows_collected"]
    counted += [f"run_le_{i}" for i in range(len(RUN_DURATION_BUCKETS))]
    sets = [f"{col['last_run_at']} = %s", f"{col['last_success_at']} = %s"]
    sets += [f"{col[name]} = {col[name]} + %s" for name in counted]
    lease, until = col["lease_id"], col["lease_until"]
    sets += [
        f"{col['consecutive_failures']} = 0",
        f"{col['last_error']} = ''",
        f"{until} = CASE WHEN {lease} = %s THEN NULL ELSE {until} END",
        f"{lease} = CASE WHEN {lease} = %s THEN '' ELSE {lease} END",
        f"{col['late_after']} = %s",
    ]
    return (
        f"UPDATE {q(CollectionSchedule._meta.db_table)} SET {', '.join(sets)} "  # noqa: S608
        f"WHERE {col['id']} = %s AND {col['status']} = %s"
    )


def healthy_success(schedule: CollectionSchedule, run: CollectionRun, now: datetime, lease_id: str) -> bool:
    """Store a finished leased success on a stream already `ok`; False (nothing written) when
    the stream is not `ok`, so the caller stores it the general way."""
    seconds = max(0.0, ((run.finished_at or now) - run.started_at).total_seconds())
    buckets = [1 if seconds <= bound else 0 for bound in RUN_DURATION_BUCKETS]
    late_after = conf.late_after(schedule.stream, schedule.interval_seconds, now)
    params: list[Any] = [now, now, 1, seconds, run.rows_created + run.rows_updated, *buckets]
    params += [lease_id, lease_id, late_after, schedule.pk, HEALTHY]
    with db_connection.cursor() as cursor:
        cursor.execute(healthy_success_sql(), params)
        return cursor.rowcount > 0


def lateness(schedule: CollectionSchedule, now: datetime) -> dict[str, object]:
    """The success's move of the stream's late deadline, part of the outcome's one UPDATE: the
    health pass reads only streams whose deadline (or other due time) has passed. Outcomes
    that may change the status go to the health monitor, which stores its due times itself.
    """
    return {"late_after": conf.late_after(schedule.stream, schedule.interval_seconds, now)}


def run_totals(run: CollectionRun) -> dict[str, object]:
    """Increments of the schedule's /metrics totals for one finished run (none while it runs).

    Part of the outcome's one UPDATE, so the totals never disagree with the outcomes stored.
    """
    if run.finished_at is None:
        return {}
    seconds = max(0.0, (run.finished_at - run.started_at).total_seconds())
    totals: dict[str, object] = {
        "runs_finished": F("runs_finished") + 1,
        "run_seconds_total": F("run_seconds_total") + seconds,
    }
    collected = run.rows_created + run.rows_updated
    if collected:
        totals["rows_collected"] = F("rows_collected") + collected
    for i, bound in enumerate(RUN_DURATION_BUCKETS):
        if seconds <= bound:
            totals[f"run_le_{i}"] = F(f"run_le_{i}") + 1
    return totals


# --- retries -------------------------------------------------------------------------------


def retry_delay(error: TransientError, attempt: int, schedule: CollectionSchedule) -> float | None:
    """Seconds until the next try, or None when the run should not be retried.

    Exponential backoff with jitter (half to all of base·2^attempt), never sooner than the
    vendor's Retry-After. An agent-state poll is not retried past its next poll. A vendor
    asking to wait longer than RETRY_MAX_SECONDS gets no retry: the next dispatch tries
    again, and no countdown outlives the broker's visibility timeout (which would have the
    task redelivered while its first copy still waits).
    """
    if attempt >= app_settings.MAX_RETRIES:
        return None
    ceiling = min(app_settings.RETRY_MAX_SECONDS, app_settings.RETRY_BASE_SECONDS * 2**attempt)
    delay = random.uniform(ceiling / 2, ceiling)
    if error.retry_after:
        if error.retry_after > app_settings.RETRY_MAX_SECONDS:
            return None
        delay = max(delay, float(error.retry_after))
    if polls(schedule.stream) and delay >= schedule.interval_seconds:
        return None
    return round(delay, 3)


# --- the run -------------------------------------------------------------------------------


def run_collection(
    schedule: CollectionSchedule,
    *,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
    explicit: bool = False,
    task_id: str = "",
    lease_id: str = "",
    attempt: int = 0,
    now: datetime | None = None,
    leased: bool = False,
    connection: VendorConnection | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Result:
    """Collect one stream once and record the run. Never raises for a vendor failure.

    With `explicit`, a history stream collects exactly [window_start, window_end) (a
    backfill by hand); otherwise it collects from its cursor. `lease_id` is the claim the
    dispatcher (or `take_lease`) handed out; without it the lease is not checked. `leased`:
    the caller already confirmed and renewed it (`start_leased`, the task). `connection`:
    the schedule's connection, when the caller has it (the worker's cache). `progress` is
    told (intervals done, intervals in all) as a long window is collected.

    A poll's run row is written once, when it ends (a poll is worth one interval: a worker
    killed mid-poll is recorded by its parent, `record_timeout`, and the next poll follows);
    other runs write theirs first, `running`, so a lost worker's run is seen as abandoned.
    """
    now = now or timezone.now()
    if (
        lease_id
        and not leased
        and not confirm_lease(schedule.pk, lease_id, schedule.stream, now, schedule.interval_seconds)
    ):
        return Result(run=None, skipped=lease_lost(schedule, lease_id))
    if connection is None:
        if CollectionSchedule.connection.is_cached(schedule):  # loaded with the schedule
            connection = schedule.connection
        else:
            connection = VendorConnection.objects.select_related("tenant").get(pk=schedule.connection_id)
    secrets = connection.secret_values()
    run = CollectionRun(
        connection=connection,
        stream=schedule.stream,
        started_at=now,
        task_id=task_id[:200],
        lease_id=lease_id[:64],
        window_start=window_start,
        window_end=window_end,
    )
    if not polls(schedule.stream):
        run.save()
    retry_in = retry_expires = None
    hold_until = None
    try:
        written = collect_stream(connection, schedule, run, now, explicit=explicit, progress=progress)
    except AuthError as exc:
        fail(run, CollectionRun.AUTH_FAILED, exc, secrets)
    except TransientError as exc:
        retry_in = retry_delay(exc, attempt, schedule)
        fail(run, CollectionRun.RETRYING if retry_in is not None else CollectionRun.FAILED, exc, secrets)
        if retry_in is not None:
            run.notes = f"retry {attempt + 1} of {app_settings.MAX_RETRIES} in {retry_in:.0f} s"
            run.save(update_fields=["notes"])
            if polls(schedule.stream):
                # The retry keeps the poll's expiry, so like the claim the hold lapses just after
                # the retry is due: an expired retry must not keep the stream from the next poll.
                hold_until = now + td(seconds=retry_in + CLAIM_MARGIN_SECONDS)
            else:
                # The retry waits in the queue like a first try: it expires QUEUE_GRACE_SECONDS
                # after it is due, and the hold lapses just after that. If it starts, it
                # renews the lease; if it is lost, the stream is free within minutes.
                retry_expires = retry_in + app_settings.QUEUE_GRACE_SECONDS
                hold_until = now + td(seconds=retry_expires + CLAIM_MARGIN_SECONDS)
    except DataError as exc:
        fail(run, CollectionRun.FAILED, exc, secrets, sample=exc.sample)
    except SoftTimeLimitExceeded:
        fail(run, CollectionRun.TIMED_OUT, TimeoutError("the run exceeded its soft time limit"), secrets)
    except Exception as exc:
        # A bug or a database error: keep the scrubbed traceback in the log, a short line on the run.
        log.error(
            "collect %s %s crashed:\n%s",
            connection.key,
            schedule.stream,
            scrub(traceback.format_exc(), secrets),
        )
        fail(run, CollectionRun.FAILED, exc, secrets)
    else:
        # A poll's success is the run row's to record: at 100 polls a second a log line each
        # is noise (and CPU); failures of every run are logged above.
        log.log(
            logging.DEBUG if polls(schedule.stream) else logging.INFO,
            "collect %s %s ok: %s created, %s updated, %s deactivated",
            connection.key,
            schedule.stream,
            written.created,
            written.updated,
            written.deactivated,
        )
    record_outcome(schedule, run, run.finished_at or timezone.now(), lease_id=lease_id, hold_until=hold_until)
    return Result(run=run, retry_in=retry_in, retry_expires=retry_expires)


# Control characters but tab, CR and LF: a vendor's bad answer quoted in a run record must not
# make the record itself unstorable (PostgreSQL refuses a NUL in text).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def storable(text: str) -> str:
    """`text` with control characters written as escapes (`\\x00`), fit for any database."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def record_timeout(
    schedule_id: int,
    *,
    task_id: str,
    lease_id: str,
    limit: float | None,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
    now: datetime | None = None,
) -> CollectionRun | None:
    """Record a run killed at its hard time limit, from the worker's parent process.

    The killed child wrote nothing more: its run row (if it got as far as creating one) still
    says `running` and its lease still holds the stream. The run becomes `timed_out`, the
    failure is counted, and the lease ends, so the next dispatch can run the stream again.
    Idempotent: Celery may report the same timeout twice (its timeout handler and the pool's).
    """
    now = now or timezone.now()
    schedule = CollectionSchedule.objects.select_related("connection").filter(pk=schedule_id).first()
    if schedule is None:
        return None
    message = f"killed at its hard time limit ({limit:g} s)" if limit else "killed at its hard time limit"
    fields = {
        "status": CollectionRun.TIMED_OUT,
        "finished_at": now,
        "error_class": "TimeLimitExceeded",
        "error_message": message,
    }
    task_id = task_id[:200]
    runs = CollectionRun.objects.filter(connection_id=schedule.connection_id, stream=schedule.stream)
    if task_id and runs.filter(task_id=task_id, status=CollectionRun.RUNNING).update(**fields):
        run = runs.filter(task_id=task_id, status=CollectionRun.TIMED_OUT).latest("started_at")
    elif task_id and runs.filter(task_id=task_id).exclude(status=CollectionRun.RETRYING).exists():
        return None  # already recorded, or the run had finished (a retry's earlier tries don't count)
    else:
        # Killed before its run row was written: record one, so the timeout is seen.
        run = CollectionRun.objects.create(
            connection_id=schedule.connection_id,
            stream=schedule.stream,
            started_at=now,
            task_id=task_id,
            lease_id=lease_id[:64],
            window_start=window_start,
            window_end=window_end,
            **fields,
        )
    log.warning("collect %s %s timed out: %s", schedule.connection.key, schedule.stream, message)
    record_outcome(schedule, run, now, lease_id=lease_id)
    return run


def fail(run: CollectionRun, status: str, exc: BaseException, secrets: list[str], sample: str = "") -> None:
    run.status = status
    run.finished_at = timezone.now()
    run.error_class = type(exc).__name__
    run.error_message = storable(scrub(str(exc) or type(exc).__name__, secrets))[:MAX_ERROR_LENGTH]
    run.payload_sample = storable(scrub(sample, secrets))[:2000]
    run.rows_created = run.rows_updated = run.rows_deactivated = 0
    run.save()
    log.warning(
        "collect %s %s %s: %s: %s",
        run.connection.key,
        run.stream,
        status,
        run.error_class,
        run.error_message,
    )


def collect_stream(
    connection: VendorConnection,
    schedule: CollectionSchedule,
    run: CollectionRun,
    now: datetime,
    *,
    explicit: bool,
    progress: Callable[[int, int], None] | None = None,
) -> Written:
    """Hand the run to its stream's collect hook (which fetches, writes and finishes it)."""
    stream = find_stream(schedule.stream)
    if stream is None or not stream.dispatched:
        raise ValueError(f"stream {schedule.stream!r} is not collected by the engine")
    adapter = connection.vendor_class.adapter(connection.connection_settings())
    job = Job(stream, connection, schedule, run, now, adapter, explicit=explicit, progress=progress)
    return import_string(stream.collect)(job)
