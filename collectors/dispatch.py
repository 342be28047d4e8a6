"""Claim due schedules and enqueue one collection each: the whole scheduler.

Beat calls `dispatch_due` every second. Due rows are claimed in batches: on PostgreSQL with
`SELECT … FOR UPDATE SKIP LOCKED`, so concurrent dispatchers take disjoint rows without
waiting on each other; elsewhere (SQLite) with a compare-and-set UPDATE that stamps a claim
token on rows still due and unleased. In the same transaction one `UPDATE … FROM (VALUES …)`
gives each claimed row its lease and its next run time. The tasks are published after the
commit, a batch through one producer, with a deterministic id per (schedule, window).
Queries per tick grow with batches, not rows.

What differs between streams (queue, expiry, time limits, the window a dispatch stands for)
is read from their declarations (`collectors.streams`). The collect task is sent by name,
so this module never imports `collectors.tasks` (which imports it).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta as td
from functools import partial
from typing import Any

from celery import Celery, current_app
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from collectors import fast_publish
from collectors.conf import app_settings
from collectors.models import CollectionSchedule
from collectors.runs import lease_seconds, time_limits
from collectors.schedules import Spread, next_run_after, spread
from collectors.streams import dispatched_streams, get_stream
from collectors.windows import floor_to

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claim:
    """One claimed schedule: what to run, for which window, under which lease."""

    schedule_id: int
    stream: str
    interval_seconds: int
    window_start: datetime
    window_end: datetime
    lease_id: str

    @property
    def task_id(self) -> str:
        return f"collect:{self.schedule_id}:{self.window_start.strftime('%Y-%m-%dT%H:%M:%SZ')}"

    @property
    def queue(self) -> str:
        return get_stream(self.stream).queue

    def options(self) -> dict[str, Any]:
        """Celery publishing options: queue, id, limits, and an expiry that the claim's
        lease outlasts by CLAIM_MARGIN_SECONDS (`lease_seconds`)."""
        soft, hard = time_limits(self.stream, self.interval_seconds)
        return {
            "queue": self.queue,
            "task_id": self.task_id,
            # A poll not started within its interval is worthless: the next one is due.
            # Another run waits at most QUEUE_GRACE_SECONDS, so a message lost with the
            # broker (or stuck behind a backlog) gives its stream back soon after, instead
            # of after the whole time limit.
            "expires": self.interval_seconds
            if get_stream(self.stream).poll
            else app_settings.QUEUE_GRACE_SECONDS,
            "soft_time_limit": soft,
            "time_limit": hard,
        }


def due(now: datetime) -> QuerySet[CollectionSchedule]:
    free = Q(lease_until__isnull=True) | Q(lease_until__lte=now)
    return CollectionSchedule.objects.filter(
        free,
        enabled=True,
        next_run_at__lte=now,
        stream__in=dispatched_streams(),
        connection__enabled=True,
        connection__tenant__active=True,
    )


def window_for(
    stream: str, interval_seconds: int, now: datetime, schedule_id: int
) -> tuple[datetime, datetime]:
    """The window a dispatch at `now` stands for; it names the task, so it is deterministic.

    Most streams (agent states, configuration): the slot of their interval whose phase point
    was the last at or before `now`. A stream whose `Stream.window` is "closed" (volume): the
    interval that last closed (the run itself collects from its cursor).
    """
    return _Grid.of(stream, interval_seconds).window(now, schedule_id)


@dataclass(frozen=True)
class _Grid:
    """What a claim's times follow from besides its schedule id and `now`: its stream and
    interval, through settings and declarations. A batch of thousands of claims has a handful
    of (stream, interval) pairs, so they are read once a pair (read per claim, they were a
    quarter of a 10,000-stream tick's CPU)."""

    stream: str
    interval_seconds: int
    spread: Spread
    lease: td
    closed: bool

    @classmethod
    def of(cls, stream: str, interval_seconds: int) -> _Grid:
        return cls(
            stream,
            interval_seconds,
            spread(stream, interval_seconds),
            td(seconds=lease_seconds(stream, interval_seconds)),
            get_stream(stream).window == "closed",
        )

    def window(self, now: datetime, schedule_id: int) -> tuple[datetime, datetime]:
        slot = floor_to(now - td(seconds=self.spread.phase(schedule_id)), self.interval_seconds)
        interval = td(seconds=self.interval_seconds)
        return (slot - interval, slot) if self.closed else (slot, slot + interval)

    def next_run(self, now: datetime, schedule_id: int) -> datetime:
        return next_run_after(now, self.stream, self.interval_seconds, schedule_id, self.spread)


def claim_batch(now: datetime, size: int) -> list[Claim]:
    """Claim up to `size` due schedules; set their lease and next run in the same transaction."""
    token = uuid.uuid4().hex
    with transaction.atomic():
        if db_connection.features.has_select_for_update_skip_locked:
            rows = list(
                due(now)
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("next_run_at")
                .values_list("id", "stream", "interval_seconds")[:size]
            )
        else:
            # No SKIP LOCKED: stamp our token on rows that are still due and unleased. The
            # condition is re-checked by the UPDATE itself, so two dispatchers never both win a row.
            candidates = due(now).order_by("next_run_at").values("id")[:size]
            claimed = CollectionSchedule.objects.filter(
                Q(lease_until__isnull=True) | Q(lease_until__lte=now),
                pk__in=candidates,
                enabled=True,
                next_run_at__lte=now,
            ).update(lease_id=token, lease_until=now + td(hours=1))
            if not claimed:
                return []
            rows = list(
                CollectionSchedule.objects.filter(lease_id=token).values_list(
                    "id", "stream", "interval_seconds"
                )
            )
        if not rows:
            return []
        grids = {key: _Grid.of(*key) for key in {(stream, interval) for _, stream, interval in rows}}
        advance(
            [
                (pk, now + grids[stream, interval].lease, grids[stream, interval].next_run(now, pk))
                for pk, stream, interval in rows
            ],
            token,
        )
    return [
        Claim(pk, stream, interval, *grids[stream, interval].window(now, pk), token)
        for pk, stream, interval in rows
    ]


def _update_from_values() -> bool:
    """UPDATE … FROM: PostgreSQL, and SQLite from 3.33 (Django 5.2 still accepts 3.31)."""
    if db_connection.vendor == "postgresql":
        return True
    # Database: the backend's DB-API module (Django's stubs do not declare it).
    return (
        db_connection.vendor == "sqlite" and db_connection.Database.sqlite_version_info >= (3, 33)  # type: ignore[attr-defined]
    )


def advance(rows: list[tuple[int, datetime, datetime]], token: str) -> None:
    """Give each claimed row (id, lease until, next run) our token, in one statement.

    One `UPDATE … FROM (VALUES …)` joined on the id: the ORM's `bulk_update` renders a
    `CASE WHEN id = … THEN …` per row and column, which the database then evaluates per row
    (quadratic in the batch). The lease and the next run stay computed in Python by
    `lease_seconds` and `next_run_after`, the one definition of the stream grid and jitter.
    """
    if not _update_from_values():
        objs = [
            CollectionSchedule(pk=pk, lease_id=token, lease_until=lease_until, next_run_at=next_run_at)
            for pk, lease_until, next_run_at in rows
        ]
        CollectionSchedule.objects.bulk_update(objs, ["lease_id", "lease_until", "next_run_at"])
        return
    ops = db_connection.ops
    # Explicit types on PostgreSQL: with server-side binding VALUES parameters would be text.
    pg = db_connection.vendor == "postgresql"
    row_sql = "(%s::bigint, %s::timestamptz, %s::timestamptz)" if pg else "(%s, %s, %s)"
    table = ops.quote_name(CollectionSchedule._meta.db_table)
    pk_column = ops.quote_name(CollectionSchedule._meta.pk.column)  # type: ignore[arg-type]  # a table's pk has a column
    params: list[Any] = [token]
    for pk, lease_until, next_run_at in rows:
        params += [pk, ops.adapt_datetimefield_value(lease_until), ops.adapt_datetimefield_value(next_run_at)]
    # VALUES names its columns column1, column2, … on both PostgreSQL and SQLite. Only
    # quoted identifiers and placeholders are formatted in; every value is a parameter.
    values = ", ".join([row_sql] * len(rows))
    sql = (
        f'UPDATE {table} SET "lease_id" = %s, "lease_until" = v.column2, "next_run_at" = v.column3 '  # noqa: S608
        f"FROM (VALUES {values}) AS v WHERE {table}.{pk_column} = v.column1"
    )
    with db_connection.cursor() as cursor:
        cursor.execute(sql, params)


# The Celery task that runs a claim. Named, not imported: `collectors.tasks` imports this
# module, never the reverse.
COLLECT_TASK = "collectors.tasks.collect"


def collect_sender(app: Celery | None = None) -> Callable[..., Any]:
    """How to send a collect task on `app` (the current app by default: the site's, or
    whichever a caller made current): the registered task's `apply_async`, or, in a process
    that never imported the tasks module, `send_task` by name (the same message)."""
    app = app or current_app
    task = app.tasks.get(COLLECT_TASK)
    return task.apply_async if task is not None else partial(app.send_task, COLLECT_TASK)


def task_arguments(claim: Claim) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The collect task's args and kwargs for a claim."""
    return (
        (claim.schedule_id, claim.window_start.isoformat(), claim.window_end.isoformat()),
        {"lease_id": claim.lease_id},
    )


def publish(claim: Claim, producer: Any = None, send: Callable[..., Any] | None = None) -> None:
    """Send one claim's task; pass a producer to reuse one broker connection for a batch."""
    args, kwargs = task_arguments(claim)
    (send or collect_sender())(
        args=args,
        kwargs=kwargs,
        producer=producer,
        # Plain reprs of short, simple values: Celery's saferepr is a tenth of a publish.
        argsrepr=repr(args),
        kwargsrepr=repr(kwargs),
        **claim.options(),
    )


def publish_batch(claims: list[Claim], enqueue: Callable[[Claim], None] | None = None) -> int:
    """Send the claims in order; return how many surely went out before a failure (logged).

    On Redis (the production broker) through `fast_publish`: Celery builds one template
    message per task shape and the batch is written with one pipeline. Otherwise through
    one producer acquired once for the batch (`apply_async` without one
    takes a producer from the pool and gives it back for every message), and where the
    transport can, through one pipeline (kombu's `Producer.batch`): the batch's messages are buffered and
    written with one round trip when the block exits.

    Which pipelined messages reached Redis is unknown when the write fails, so then the
    whole batch counts as unsent and is released. That is safe: a message that did get
    through carries the lease the release took back, so its run stops at the lease check
    (`confirm_lease`), and the next tick sends the window again under a new lease.
    """
    sent = 0
    try:
        if enqueue is not None:
            for claim in claims:
                enqueue(claim)
                sent += 1
            return sent
        # The current app: the site's, or whichever a caller made current.
        app = current_app._get_current_object()  # type: ignore[attr-defined]  # a Proxy; celery-types types it as the app
        send = collect_sender(app)
        with app.producer_or_acquire() as producer:
            if fast_publish.usable(app, producer):
                fast = fast_publish.FastPublisher(app, producer, COLLECT_TASK)
                fast.publish([(claim, *task_arguments(claim)) for claim in claims])
                sent = len(claims)
            elif producer.supports_batch_publish:
                with producer.batch(max_size=max(len(claims), 1)):
                    for claim in claims:
                        publish(claim, producer, send)
                sent = len(claims)
            else:
                for claim in claims:
                    publish(claim, producer, send)
                    sent += 1
    except Exception:
        if sent < len(claims):
            log.exception("dispatch: publishing failed; releasing %d claim(s)", len(claims) - sent)
        else:
            log.exception("dispatch: publishing succeeded but the producer could not be released")
    return sent


def release(claims: list[Claim], now: datetime) -> None:
    """Give back claims that could not be published, so the next tick tries them again."""
    if not claims:
        return
    # One batch shares one token; the token check leaves a row alone that someone else
    # claimed in the meantime (it cannot be, while our lease holds, but it costs nothing).
    CollectionSchedule.objects.filter(
        pk__in=[c.schedule_id for c in claims], lease_id__in={c.lease_id for c in claims}
    ).update(lease_until=None, lease_id="", next_run_at=now)


def dispatch_due(
    now: datetime | None = None,
    *,
    batch_size: int | None = None,
    enqueue: Callable[[Claim], None] | None = None,
) -> int:
    """Claim and enqueue every due schedule (up to DISPATCH_MAX_BATCHES batches); return how many.

    `enqueue` replaces publishing to Celery (tests); by default each batch is published
    through one producer. A failed publish releases the batch's unpublished claims and ends
    the tick.
    """
    now = now or timezone.now()
    size = batch_size or app_settings.DISPATCH_BATCH_SIZE
    total = 0
    for _ in range(app_settings.DISPATCH_MAX_BATCHES):
        claims = claim_batch(now, size)
        if not claims:
            break
        sent = publish_batch(claims, enqueue)
        total += sent
        if sent < len(claims):
            release(claims[sent:], now)
            break
        if len(claims) < size:
            break
    if total:
        log.info("dispatch: enqueued %d collection(s)", total)
    return total
