"""The vendor-neutral tables, the schedules and cursors, and the record of every run.

Every neutral row has a natural key with a unique constraint, so writes are upserts and
collecting a window twice changes nothing (docs/data-model.md).
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from datetime import timedelta as td
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import Exists, F, OuterRef, Q

from collectors.streams import stream_choices
from integrations.models import VendorConnection
from integrations.vendors.base import (
    STREAM_AGENT_STATES,
    STREAM_CONFIG,
)
from integrations.vendors.records import NEUTRAL_STATES
from notifications.models import MailRow

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from collectors.backfill import Progress

HEALTH_STATUSES = (
    ("new", "new"),
    ("ok", "ok"),
    ("late", "late"),
    ("failing", "failing"),
    ("auth_failed", "auth failed"),
    ("paused", "paused"),
)
STATE_CHOICES = tuple((s, s.replace("_", " ")) for s in NEUTRAL_STATES)
# Upper bounds (seconds) of the run-duration histogram kept on each schedule: agent-state polls
# take well under a second, history runs and file ingestion up to minutes.
RUN_DURATION_BUCKETS = (0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)


# The read API reads each connection's rows in change order, one connection at a time.
CHANGE_INDEX = ("connection", "change_txid", "change_seq")


class ChangePosition(models.Model):
    """Where a row last changed, in commit order: the read API's incremental sync follows it.

    Set by database triggers (migration `0008_change_positions`), never by Python, so every
    write path (the ORM, the COPY merge, the raw upserts of agent states) moves it on each
    insert and each real change of the columns the API shows. On PostgreSQL `change_txid`
    is the writing transaction's id and `change_seq` a sequence; a reader hands out only
    rows below the oldest transaction still running (`api.changes`). On SQLite writers are
    serialised, so `change_txid` is 0 and `change_seq` a counter bumped inside the write.
    """

    change_txid = models.BigIntegerField(db_default=0, editable=False)
    change_seq = models.BigIntegerField(db_default=0, editable=False)

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A full save writes every field: it must not put back a position read earlier
        # (the row may have moved since), so an update leaves the triggers' columns alone.
        if not self._state.adding and kwargs.get("update_fields") is None and not kwargs.get("force_insert"):
            kwargs["update_fields"] = [
                f.attname
                for f in self._meta.concrete_fields
                if not f.primary_key and f.attname not in ("change_txid", "change_seq")
            ]
        super().save(*args, **kwargs)


class Queue(ChangePosition):
    connection = models.ForeignKey(VendorConnection, models.CASCADE, related_name="queues")
    vendor_id = models.CharField(max_length=200)
    name = models.CharField(max_length=300, blank=True)
    active = models.BooleanField(default=True)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()

    class Meta:
        ordering = ("connection", "name")
        constraints = [
            models.UniqueConstraint(fields=("connection", "vendor_id"), name="queue_natural_key"),
        ]
        indexes = [models.Index(fields=CHANGE_INDEX, name="queue_change_position")]

    def __str__(self) -> str:
        return self.name or self.vendor_id


class Agent(ChangePosition):
    connection = models.ForeignKey(VendorConnection, models.CASCADE, related_name="agents")
    vendor_id = models.CharField(max_length=200)
    name = models.CharField(max_length=300, blank=True)
    group = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    queues = models.ManyToManyField(Queue, through="AgentQueue", related_name="agents")

    class Meta:
        ordering = ("connection", "name")
        constraints = [
            models.UniqueConstraint(fields=("connection", "vendor_id"), name="agent_natural_key"),
        ]
        indexes = [models.Index(fields=CHANGE_INDEX, name="agent_change_position")]

    def __str__(self) -> str:
        return self.name or self.vendor_id


class AgentQueue(models.Model):
    """An agent's membership of a queue (skill, hunt group); kept, never deleted."""

    agent = models.ForeignKey(Agent, models.CASCADE, related_name="memberships")
    queue = models.ForeignKey(Queue, models.CASCADE, related_name="memberships")
    active = models.BooleanField(default=True)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("agent", "queue"), name="agent_queue_natural_key"),
        ]


class IntervalVolume(ChangePosition):
    """Contact volume of one queue in one 15-minute interval (start on the UTC grid)."""

    # No foreign-key constraints in the database: PostgreSQL checks them at commit, a tenth of
    # a 1M-row upsert. Django still cascades a deleted connection or queue, and the writers
    # store intervals only of queues they resolved in the same transaction. No index of their
    # own: the natural key leads with the queue, `interval_conn_start` with the connection.
    connection = models.ForeignKey(
        VendorConnection, models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    queue = models.ForeignKey(
        Queue, models.CASCADE, related_name="intervals", db_constraint=False, db_index=False
    )
    interval_start = models.DateTimeField()
    entered = models.PositiveIntegerField()
    abandoned = models.PositiveIntegerField()
    handle_seconds = models.PositiveBigIntegerField()
    collected_at = models.DateTimeField()

    class Meta:
        ordering = ("-interval_start",)
        constraints = [
            models.UniqueConstraint(fields=("queue", "interval_start"), name="interval_natural_key"),
            models.CheckConstraint(
                condition=Q(entered__gte=0) & Q(abandoned__gte=0) & Q(handle_seconds__gte=0),
                name="interval_counts_not_negative",
            ),
        ]
        indexes = [
            # Exports and gap counting read one connection's intervals by time.
            models.Index(fields=("connection", "interval_start"), name="interval_conn_start"),
            # The admin's newest-first page over every connection.
            models.Index(fields=("-interval_start", "-id"), name="interval_start_desc"),
            # The read API's incremental sync: a range scan after a cursor, flat as the table grows.
            models.Index(fields=CHANGE_INDEX, name="interval_change_position"),
        ]


class AgentStateEvent(ChangePosition):
    """Who was in which state from when to when; `end` is null while it lasts."""

    # No index of their own: the natural key leads with the agent, `state_event_conn_start`
    # with the connection.
    connection = models.ForeignKey(VendorConnection, models.CASCADE, related_name="+", db_index=False)
    agent = models.ForeignKey(Agent, models.CASCADE, related_name="state_events", db_index=False)
    state = models.CharField(max_length=16, choices=STATE_CHOICES)
    raw_code = models.CharField(max_length=100, blank=True)
    raw_label = models.CharField(max_length=200, blank=True)
    reason_code = models.CharField(max_length=100, blank=True)
    start = models.DateTimeField()
    end = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-start",)
        constraints = [
            models.UniqueConstraint(fields=("agent", "start"), name="state_event_natural_key"),
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=F("start")), name="state_event_end_after_start"
            ),
        ]
        indexes = [
            models.Index(fields=("connection", "start"), name="state_event_conn_start"),
            # The admin's newest-first page over every connection, and pruning by age.
            models.Index(fields=("-start", "-id"), name="state_event_start_desc"),
            # The admin's count of one tenant's events in one state stops at 10,000 matches; the
            # connection index alone has it read every event of the tenant to find them.
            models.Index(fields=("connection", "state"), name="state_event_conn_state"),
            models.Index(
                fields=("connection", "change_txid", "change_seq"), name="state_event_change_position"
            ),
        ]


class AgentCurrentState(models.Model):
    """The last state seen per agent, so a poll diffs against one small row per agent."""

    agent = models.OneToOneField(Agent, models.CASCADE, primary_key=True, related_name="current")
    connection = models.ForeignKey(VendorConnection, models.CASCADE, related_name="+")
    state = models.CharField(max_length=16, choices=STATE_CHOICES)
    raw_code = models.CharField(max_length=100, blank=True)
    raw_label = models.CharField(max_length=200, blank=True)
    reason_code = models.CharField(max_length=100, blank=True)
    since = models.DateTimeField()
    last_seen = models.DateTimeField()


def judge_now() -> datetime:
    """A due time meaning "judge at the next health pass": a moment in 1970, so due before any
    pass's clock (a replay or a test with its own clock too), and distinct per call (the wall
    clock's microseconds, modulo about 115 days), so a pass that read an older mark never
    overwrites a newer one with due times worked out from older inputs."""
    return datetime(1970, 1, 1, tzinfo=UTC) + td(microseconds=time.time_ns() // 1000 % 10**13)


class CollectionSchedule(models.Model):
    """When a (connection, stream) runs next; the dispatcher claims due rows."""

    # No index of its own: the natural key leads with it.
    connection = models.ForeignKey(VendorConnection, models.CASCADE, related_name="schedules", db_index=False)
    stream = models.CharField(max_length=16, choices=stream_choices)
    enabled = models.BooleanField(default=True)
    interval_seconds = models.PositiveIntegerField()
    next_run_at = models.DateTimeField()
    # Set by the dispatcher when it enqueues a run, cleared when the run ends; a run
    # whose worker died stays leased until this passes, then runs again.
    lease_until = models.DateTimeField(null=True, blank=True)
    # Token of the claim that holds the lease: a run goes ahead only while it still holds it.
    lease_id = models.CharField(max_length=64, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    # Health (see collectors.health): stored, and changed only at transitions.
    status = models.CharField(max_length=16, choices=HEALTH_STATUSES, default="new")
    status_since = models.DateTimeField(null=True, blank=True)
    status_reason = models.CharField(max_length=500, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # When the stream's status can next change with time alone (collectors.health): the periodic
    # pass judges only rows with one of these passed. `late_after`: the stream is late from this
    # moment unless a success comes first (moved on by every success's UPDATE); `health_due_at`:
    # every other time-driven change (a token's expiry, auto-pause), or "judge now" after an input
    # changed (a token, the connection, the tenant, a pause). NULL: nothing time-driven pending.
    late_after = models.DateTimeField(null=True, blank=True)
    health_due_at = models.DateTimeField(null=True, blank=True, default=judge_now)
    # Totals of the stream's finished runs for /metrics, added to in the UPDATE that stores each
    # outcome (collectors.runs.store_outcome): a scrape reads these few rows, never the runs,
    # which retention prunes. `run_le_N` counts runs of at most RUN_DURATION_BUCKETS[N] seconds.
    runs_finished = models.PositiveBigIntegerField(default=0)
    run_seconds_total = models.FloatField(default=0.0)
    rows_collected = models.PositiveBigIntegerField(default=0)
    run_le_0 = models.PositiveBigIntegerField(default=0)
    run_le_1 = models.PositiveBigIntegerField(default=0)
    run_le_2 = models.PositiveBigIntegerField(default=0)
    run_le_3 = models.PositiveBigIntegerField(default=0)
    run_le_4 = models.PositiveBigIntegerField(default=0)
    run_le_5 = models.PositiveBigIntegerField(default=0)
    run_le_6 = models.PositiveBigIntegerField(default=0)
    run_le_7 = models.PositiveBigIntegerField(default=0)
    run_le_8 = models.PositiveBigIntegerField(default=0)
    run_le_9 = models.PositiveBigIntegerField(default=0)
    # History streams: the 15-minute intervals their successful runs covered, as merged
    # [start, end) spans in Unix seconds, oldest first, none older than the gap window and a
    # day (collectors.gaps.record_covered). Gap counting reads these few spans, never the runs.
    covered = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ("connection", "stream")
        constraints = [
            models.UniqueConstraint(fields=("connection", "stream"), name="schedule_natural_key"),
            models.CheckConstraint(condition=Q(interval_seconds__gte=5), name="schedule_interval_min"),
        ]
        indexes = [
            # The dispatcher's scan: an index range over enabled rows by next run.
            models.Index(fields=("next_run_at",), name="schedule_due", condition=Q(enabled=True)),
            # The health pass's two range scans (`collectors.health.due`), over the rows that have one.
            models.Index(
                fields=("late_after",), name="schedule_late_after", condition=Q(late_after__isnull=False)
            ),
            models.Index(
                fields=("health_due_at",),
                name="schedule_health_due",
                condition=Q(health_due_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.connection} · {self.get_stream_display()}"


class Cursor(models.Model):
    """End of the last complete window of a history stream.

    Kept apart from the schedule row so that the dispatcher's updates and a run's data
    transaction never contend for the same row.
    """

    connection = models.ForeignKey(VendorConnection, models.CASCADE, related_name="cursors")
    stream = models.CharField(max_length=16, choices=stream_choices)
    position = models.DateTimeField()
    updated = models.DateTimeField(auto_now=True)
    # A new connection's backfill (collectors.backfill): where it began (the history start) and
    # when, for its progress and rate; null on a cursor that had no backfill to do.
    backfill_from = models.DateTimeField(null=True, blank=True)
    backfill_started = models.DateTimeField(null=True, blank=True)
    # Until when a run holds one of the BACKFILL_MAX_CONNECTIONS slots (runs many chunks).
    backfill_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("connection", "stream"), name="cursor_natural_key"),
        ]

    def backfill_progress(self, now: datetime, settle_seconds: int = 0) -> Progress | None:
        """How far the backfill is ("backfilled 120 of 365 days, about 2 h left"), or None when
        there is none or it has caught up with the last interval it may collect."""
        from collectors.backfill import progress
        from collectors.windows import floor_interval, last_closed_end

        if self.backfill_from is None or self.backfill_started is None:
            return None
        # The cursor never enters the span the vendor is still filling in, nor the interval
        # just closed before the next run: within an hour of that, it has caught up.
        caught_up = min(last_closed_end(now), floor_interval(now - td(seconds=settle_seconds))) - td(hours=1)
        return progress(self.backfill_from, self.backfill_started, self.position, self.updated, caught_up)

    def claim_backfill_slot(self, now: datetime, until: datetime, limit: int) -> bool:
        """Take one of `limit` backfill slots until `until`; False when all are taken.

        Claim, then count: two runs claiming at once may both back off (each sees the
        other), but the slots held never exceed `limit`, on any database, without locks.
        """
        held = Cursor.objects.filter(backfill_until__gt=now)
        Cursor.objects.filter(pk=self.pk).update(backfill_until=until)
        if held.count() <= limit:
            self.backfill_until = until
            return True
        self.release_backfill_slot()
        return False

    def release_backfill_slot(self) -> None:
        Cursor.objects.filter(pk=self.pk).update(backfill_until=None)
        self.backfill_until = None


class CollectionRunQuerySet(models.QuerySet):
    def abandon_expired(self, now: datetime) -> int:
        """Close, in one UPDATE, the runs left `running` whose lease is no longer held.

        A started run holds its stream's lease (`collectors.runs.running_lease`) until it
        records its outcome; its time limits end it before the lease lapses. A run still
        `running` once its lease expired, or once another claim took the stream, belongs to
        a worker that was killed or lost: it is `abandoned`, with the reason. Runs made
        without a lease (none in production) are left alone. Returns how many were closed.
        """
        held = CollectionSchedule.objects.filter(
            connection=OuterRef("connection"),
            stream=OuterRef("stream"),
            lease_id=OuterRef("lease_id"),
            lease_until__gt=now,
        )
        return (
            self.filter(status=CollectionRun.RUNNING, started_at__lte=now)
            .exclude(lease_id="")
            .exclude(Exists(held))
            .update(
                status=CollectionRun.ABANDONED,
                finished_at=now,
                error_class="WorkerLost",
                error_message=(
                    "the worker running this collection stopped before it finished (killed, or lost "
                    "with its broker message) and its lease expired; the stream runs again as scheduled"
                ),
            )
        )


class CollectionRun(models.Model):
    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"
    AUTH_FAILED = "auth_failed"
    RETRYING = "retrying"
    ABANDONED = "abandoned"
    # Stopped at its time limit: by its soft limit, or killed at the hard one (then recorded
    # by the worker's parent process, collectors.tasks.CollectTask.on_failure).
    TIMED_OUT = "timed_out"
    STATUSES = (
        (RUNNING, "running"),
        (OK, "ok"),
        (FAILED, "failed"),
        (AUTH_FAILED, "auth failed"),
        (RETRYING, "failed, will retry"),
        (ABANDONED, "abandoned (worker lost)"),
        (TIMED_OUT, "timed out"),
    )

    # Indexed with the id below (a connection's runs newest first), not on its own.
    connection = models.ForeignKey(VendorConnection, models.CASCADE, related_name="runs", db_index=False)
    stream = models.CharField(max_length=16, choices=stream_choices)
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=STATUSES, default=RUNNING)
    rows_created = models.PositiveIntegerField(default=0)
    rows_updated = models.PositiveIntegerField(default=0)
    rows_deactivated = models.PositiveIntegerField(default=0)
    error_class = models.CharField(max_length=100, blank=True)
    # Scrubbed: never a secret (see integrations.scrub).
    error_message = models.TextField(blank=True)
    payload_sample = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    task_id = models.CharField(max_length=200, blank=True)
    # The claim the run went ahead under: a run still `running` when its schedule no longer
    # holds this lease was abandoned by its worker.
    lease_id = models.CharField(max_length=64, blank=True)
    source = models.CharField(max_length=300, blank=True, help_text="A file name, for file ingestion.")

    objects = CollectionRunQuerySet.as_manager()

    class Meta:
        ordering = ("-started_at",)
        indexes = [
            models.Index(fields=("connection", "stream", "-started_at"), name="run_conn_stream_started"),
            # No index leads with started_at: the health monitor's newest-run subqueries would
            # walk it whole for a stream without runs. The admin lists runs newest id first (a
            # run's id follows its start). Failures and runs of other streams than agent states
            # are rare: the admin's status and stream filters must not walk every successful
            # poll. Successful polls are in none of the partial indexes.
            models.Index(fields=("connection", "-id"), name="run_conn_newest"),
            models.Index(fields=("status", "-id"), name="run_not_ok", condition=~Q(status="ok")),
            # A tenant's or a connection's failures, counted (up to 10,000) without reading its
            # successful runs.
            models.Index(
                fields=("connection", "status", "-id"), name="run_conn_not_ok", condition=~Q(status="ok")
            ),
            models.Index(
                fields=("stream", "-id"), name="run_not_polls", condition=~Q(stream=STREAM_AGENT_STATES)
            ),
            # The health pass's search for abandoned runs: only the few running ones.
            models.Index(fields=("started_at",), name="run_running", condition=Q(status="running")),
        ]

    def __str__(self) -> str:
        return f"{self.connection} · {self.stream} · {self.started_at:%Y-%m-%d %H:%M} · {self.status}"

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class DropFile(models.Model):
    """The ledger of files taken from a TCN drop folder, keyed by content hash.

    The same content under another name is a no-op; a bad file is quarantined.
    """

    INGESTED = "ingested"
    QUARANTINED = "quarantined"
    STATUSES = ((INGESTED, "ingested"), (QUARANTINED, "quarantined"))

    connection = models.ForeignKey(VendorConnection, models.CASCADE, related_name="drop_files")
    name = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    received_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=STATUSES)
    rows = models.PositiveIntegerField(default=0)
    reason = models.TextField(blank=True)
    run = models.ForeignKey(CollectionRun, models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ("-received_at",)
        constraints = [
            models.UniqueConstraint(fields=("connection", "sha256"), name="drop_file_content_once"),
        ]
        indexes = [
            # Pruning the call ledger by the files' arrival; the admin's newest-first page.
            models.Index(fields=("-received_at", "-id"), name="drop_file_received"),
        ]

    def __str__(self) -> str:
        return self.name


class HealthFlip(MailRow):
    """A status transition of one stream: the history, and its row in the one outbox.

    The sender first decides what the flip gets (`processed` is set by a compare-and-set
    `filter(id=…, processed=None).update(processed=now)`, so the decision is taken once;
    `delivery` says what it was). A flip that is mailed then waits in the notification
    app's outbox (`notifications.MailRow`) and is sent by the rules every email shares.
    """

    connection = models.ForeignKey(VendorConnection, models.CASCADE, related_name="flips")
    stream = models.CharField(max_length=16, choices=stream_choices)
    old_status = models.CharField(max_length=16, choices=HEALTH_STATUSES)
    new_status = models.CharField(max_length=16, choices=HEALTH_STATUSES)
    reason = models.CharField(max_length=500, blank=True)
    created = models.DateTimeField()
    processed = models.DateTimeField(null=True, blank=True)
    # The column keeps its first name; database defaults let bulk SQL inserts leave these out.
    error = models.TextField(blank=True, db_column="send_error")
    attempts = models.PositiveSmallIntegerField(default=0, db_default=0)
    failed = models.BooleanField(default=False, db_default=False)
    delivered_to = models.JSONField(default=list, blank=True, db_default=[])
    # What the sender did with it: sent, retrying, failed, summarised (flapping),
    # suppressed, not_notified, no_recipients.
    delivery = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering = ("-created",)
        indexes = [
            models.Index(fields=("created",), name="flip_unsent", condition=Q(processed__isnull=True)),
            models.Index(fields=("connection", "stream", "-created"), name="flip_conn_stream"),
            models.Index(
                fields=("next_attempt_at",),
                name="flip_to_send",
                condition=Q(processed__isnull=False, sent_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.connection} · {self.stream}: {self.old_status} → {self.new_status}"

    @classmethod
    def queue(cls) -> models.QuerySet[HealthFlip]:
        # Only a flip whose message is decided is sent.
        return cls.objects.filter(processed__isnull=False)


class Heartbeat(models.Model):
    """The last time a process proved it is alive (`dispatcher`, `worker`), for /healthz.

    In the database rather than a cache: the worker and the web process share no memory.
    """

    name = models.CharField(max_length=32, primary_key=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"


class DropPending(models.Model):
    """A file seen in a drop folder but not yet taken: its size and mtime at the last scan.

    A file is complete when a later scan sees the same size and mtime (TCN may still be
    uploading it); the row goes when the file is taken.
    """

    connection = models.ForeignKey(VendorConnection, models.CASCADE, related_name="+")
    name = models.CharField(max_length=500)
    size = models.PositiveBigIntegerField()
    mtime_ns = models.BigIntegerField()
    first_seen = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("connection", "name"), name="drop_pending_name_once"),
        ]


class DropCall(models.Model):
    """One call of a call-detail drop file, so a call in two overlapping files counts once.

    The row is only the call's identity: a 64-bit key of (queue, call id) (`call_key_of`),
    the start of its interval (for retention) and the file that first reported it. A file's
    new calls are added to the intervals they fall in; a call already stored adds nothing,
    so the first file that reported a call wins.

    Why a hash and not the two texts: the ledger holds every call of the retention window
    (14 days), and storing it was most of a file's database time (bench/ANALYSIS.md 2b): two
    text columns and two text indexes per call. blake2b is in hashlib, keyed by nothing
    machine- or process-specific (never Python's `hash()`, salted per process), so the key is
    the same in every worker and in the migration that converted the old rows. Two distinct
    calls of one connection collide with probability about n^2 / 2^65 for n calls stored
    (retention keeps n bounded: 3e-6 at ten million calls in 14 days); a collision makes
    the second call look already counted, so its interval is one call short. Nothing else
    can go wrong: the unique index never refuses a file because of it.
    """

    # No foreign-key constraints in the database: a file of a million calls would have two
    # million referential checks at commit (a third of its ingestion, measured in bench/).
    # Django still cascades a deleted connection and nulls a deleted file's calls, and every
    # row is written by `collectors.drops` under the connection's lock with the ids it holds.
    # The connection's own index would repeat the leading column of the unique constraint.
    connection = models.ForeignKey(
        VendorConnection, models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    call_key = models.BigIntegerField(help_text="call_key_of(queue vendor id, call id)")
    interval_start = models.DateTimeField()
    file = models.ForeignKey(
        DropFile, models.SET_NULL, null=True, blank=True, related_name="+", db_constraint=False
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("connection", "call_key"), name="drop_call_once"),
        ]


CALL_KEY_PERSON = b"sb-drop-call"
_CALL_KEY_BASE = hashlib.blake2b(digest_size=8, person=CALL_KEY_PERSON)


@lru_cache(maxsize=4096)
def _queue_hasher(queue_vendor_id: str) -> Any:
    # The hash state after the queue's part, copied per call: 2.5 times as fast as hashing
    # the whole key each time (a file's calls fall in a few queues).
    queue = queue_vendor_id.encode()
    hasher = _CALL_KEY_BASE.copy()
    hasher.update(len(queue).to_bytes(4, "big") + queue)
    return hasher


def call_key_of(queue_vendor_id: str, call_id: str) -> int:
    """The ledger's key of one call: blake2b-64 of the queue and call id, as a signed bigint.

    The queue's length goes first, so ("ab", "c") and ("a", "bc") are different calls.
    """
    hasher = _queue_hasher(queue_vendor_id).copy()
    hasher.update(call_id.encode())
    return int.from_bytes(hasher.digest(), "big", signed=True)


class RetentionHorizon(models.Model):
    """How far `manage.py prune` has deleted one table (for one tenant, where the policy is a
    tenant's): rows whose age column is before `horizon` may be gone.

    Also the table's prune lease: a pruner claims the row with a compare-and-set on
    `lease_until`, so two pruners never work on one table at once. Read it through
    `collectors.retention.retention_horizon`.
    """

    table = models.CharField(max_length=100, help_text="app_label.model")
    tenant = models.ForeignKey("integrations.Tenant", models.CASCADE, null=True, blank=True, related_name="+")
    horizon = models.DateTimeField(null=True, blank=True)
    # The highest primary key deleted so far: positions at or below it may be gone.
    deleted_through_id = models.BigIntegerField(null=True, blank=True)
    rows_deleted = models.PositiveBigIntegerField(default=0)
    last_pruned = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_id = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("table",), condition=Q(tenant__isnull=True), name="retention_horizon_per_table"
            ),
            models.UniqueConstraint(
                fields=("table", "tenant"),
                condition=Q(tenant__isnull=False),
                name="retention_horizon_per_tenant",
            ),
        ]

    def __str__(self) -> str:
        scope = f" ({self.tenant_id})" if self.tenant_id else ""
        return f"{self.table}{scope} before {self.horizon:%Y-%m-%d %H:%M}" if self.horizon else self.table


class ConfigHold(models.Model):
    """A configuration answer held as suspicious, and what it would have deactivated.

    An answer that would deactivate more than COLLECT_CONFIG_DEACTIVATE_SHARE of the active
    agents or queues changes nothing and leaves this row (collectors.config_import). The
    next run applies its answer when it deactivates at least the same agents and queues (the
    loss repeated), or, once a manager confirmed the hold, no more than these. Any answer
    that is not suspicious clears the hold.
    """

    connection = models.OneToOneField(VendorConnection, models.CASCADE, related_name="config_hold")
    held_at = models.DateTimeField()
    # Vendor ids the held answer would have deactivated.
    agents = models.JSONField(default=list, blank=True)
    queues = models.JSONField(default=list, blank=True)
    active_agents = models.PositiveIntegerField(default=0)
    active_queues = models.PositiveIntegerField(default=0)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return (
            f"{self.connection}: would deactivate {len(self.agents)} of {self.active_agents} agents, "
            f"{len(self.queues)} of {self.active_queues} queues"
        )

    def confirm(self, user: User, now: datetime) -> None:
        """A manager says the loss is real: the next run applies an answer that deactivates
        no more than this one would have, and it runs at the next dispatch."""
        self.confirmed_by, self.confirmed_at = user, now
        self.save(update_fields=["confirmed_by", "confirmed_at"])
        CollectionSchedule.objects.filter(connection_id=self.connection_id, stream=STREAM_CONFIG).update(
            next_run_at=now
        )
