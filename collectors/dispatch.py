"""Claim due schedules and enqueue one collection each: the whole scheduler.

Beat calls `dispatch_due` every 5 s. Due rows are claimed in batches: on PostgreSQL with
`SELECT … FOR UPDATE SKIP LOCKED`, so concurrent dispatchers take disjoint rows without
waiting on each other; elsewhere (SQLite) with a compare-and-set UPDATE that stamps a claim
token on rows still due and unleased. In the same transaction each claimed row gets its
lease and its next run time. The tasks are published after the commit, with a
deterministic id per (schedule, window). Queries per tick grow with batches, not rows.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta as td

from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from collectors.conf import app_settings
from collectors.models import CollectionSchedule
from collectors.runs import lease_seconds
from collectors.schedules import DISPATCHED_STREAMS, next_run_after, stream_offset
from collectors.windows import floor_to
from integrations.vendors.base import STREAM_AGENT_STATES, STREAM_CONFIG, STREAM_VOLUME

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
        from wfm_site.celery import QUEUE_AGENT_STATES, QUEUE_CONFIG, QUEUE_HISTORY

        return {
            STREAM_AGENT_STATES: QUEUE_AGENT_STATES,
            STREAM_VOLUME: QUEUE_HISTORY,
            STREAM_CONFIG: QUEUE_CONFIG,
        }[self.stream]

    def options(self) -> dict[str, object]:
        """Celery publishing options: queue, id, limits, and expiry for real-time polls."""
        if self.stream == STREAM_AGENT_STATES:
            return {
                "queue": self.queue,
                "task_id": self.task_id,
                # A poll not started within its interval is worthless: the next one is due.
                "expires": self.interval_seconds,
                "soft_time_limit": app_settings.AGENT_STATES_SOFT_TIME_LIMIT,
                "time_limit": app_settings.AGENT_STATES_TIME_LIMIT,
            }
        return {
            "queue": self.queue,
            "task_id": self.task_id,
            "soft_time_limit": app_settings.SOFT_TIME_LIMIT,
            "time_limit": app_settings.TIME_LIMIT,
        }


def due(now: datetime) -> QuerySet[CollectionSchedule]:
    free = Q(lease_until__isnull=True) | Q(lease_until__lte=now)
    return CollectionSchedule.objects.filter(
        free,
        enabled=True,
        next_run_at__lte=now,
        stream__in=DISPATCHED_STREAMS,
        connection__enabled=True,
        connection__tenant__active=True,
    )


def window_for(stream: str, interval_seconds: int, now: datetime) -> tuple[datetime, datetime]:
    """The window a dispatch at `now` stands for; it names the task, so it is deterministic.

    Agent states and configuration: the current slot of their interval. Volume: the
    interval that last closed (the run itself collects from its cursor).
    """
    slot = floor_to(now - td(seconds=stream_offset(stream)), interval_seconds)
    if stream == STREAM_VOLUME:
        return slot - td(seconds=interval_seconds), slot
    return slot, slot + td(seconds=interval_seconds)


def _lease(now: datetime, stream: str, interval_seconds: int) -> datetime:
    return now + td(seconds=lease_seconds(stream, interval_seconds))


def claim_batch(now: datetime, size: int) -> list[Claim]:
    """Claim up to `size` due schedules; set their lease and next run in the same transaction."""
    token = uuid.uuid4().hex
    with transaction.atomic():
        if db_connection.features.has_select_for_update_skip_locked:
            rows = list(
                due(now)
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("next_run_at")
                .only("id", "stream", "interval_seconds")[:size]
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
                CollectionSchedule.objects.filter(lease_id=token).only("id", "stream", "interval_seconds")
            )
        if not rows:
            return []
        for row in rows:
            row.lease_id = token
            row.lease_until = _lease(now, row.stream, row.interval_seconds)
            row.next_run_at = next_run_after(now, row.stream, row.interval_seconds)
        CollectionSchedule.objects.bulk_update(
            rows, ["lease_id", "lease_until", "next_run_at"], batch_size=size
        )
    return [
        Claim(
            row.pk,
            row.stream,
            row.interval_seconds,
            *window_for(row.stream, row.interval_seconds, now),
            token,
        )
        for row in rows
    ]


def publish(claim: Claim) -> None:
    from collectors.tasks import collect

    collect.apply_async(
        args=(claim.schedule_id, claim.window_start.isoformat(), claim.window_end.isoformat()),
        kwargs={"lease_id": claim.lease_id},
        **claim.options(),
    )


def release(claims: list[Claim], now: datetime) -> None:
    """Give back claims that could not be published, so the next tick tries them again."""
    for claim in claims:
        CollectionSchedule.objects.filter(pk=claim.schedule_id, lease_id=claim.lease_id).update(
            lease_until=None, lease_id="", next_run_at=now
        )


def dispatch_due(
    now: datetime | None = None,
    *,
    batch_size: int | None = None,
    enqueue: Callable[[Claim], None] = publish,
) -> int:
    """Claim and enqueue every due schedule (up to DISPATCH_MAX_BATCHES batches); return how many."""
    now = now or timezone.now()
    size = batch_size or app_settings.DISPATCH_BATCH_SIZE
    total = 0
    for _ in range(app_settings.DISPATCH_MAX_BATCHES):
        claims = claim_batch(now, size)
        for i, claim in enumerate(claims):
            try:
                enqueue(claim)
            except Exception:
                log.exception("dispatch: publishing failed; releasing %d claim(s)", len(claims) - i)
                release(claims[i:], now)
                return total + i
        total += len(claims)
        if len(claims) < size:
            break
    if total:
        log.info("dispatch: enqueued %d collection(s)", total)
    return total
