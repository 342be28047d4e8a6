"""What a stream is: one frozen declaration the engine reads instead of branching on keys.

A stream module (`collectors/streams/<name>.py`) declares its `STREAM` and holds the hook
that collects one run of it: the hook asks the adapter for the stream's records (the
method named by `fetch`) and hands them to the stream's writer, in one transaction with
`Job.finish` (or, for a poll that writes one row, in one statement with `Job.finish_with`).
The scheduler, the dispatcher, the run, the health monitor, the board, the
gap count, the `collect` command and the Celery queues read the declaration.

Kept light on purpose: the Celery app builds its queues from the declarations while
Django is still loading, so this module and the declarations import no model; the hooks
import the writers when they run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from integrations.vendors.grid import INTERVAL_SECONDS

if TYPE_CHECKING:
    from collectors.models import CollectionRun, CollectionSchedule
    from integrations.models import VendorConnection
    from integrations.vendors.base import Adapter


def on_the_grid(connection: VendorConnection) -> int:
    """One run per 15-minute interval of the UTC grid."""
    return INTERVAL_SECONDS


@dataclass(frozen=True)
class Stream:
    """One neutral stream: what it carries, where it comes from and how it is watched."""

    key: str  # CollectionSchedule.stream (the values in integrations.vendors.base; stored)
    label: str
    # The neutral record the adapter hands over for one run (integrations.vendors.records).
    record: type
    # The `Adapter` method that fetches it; empty when a transport feeds the stream.
    fetch: str = ""
    # Dotted path of the hook that collects one run (fetch, write, finish): `(Job) -> Written`.
    # Empty: the dispatcher never runs it, `transport` feeds it.
    collect: str = ""
    # Dotted path of what feeds a stream the dispatcher does not run (a periodic scan).
    transport: str = ""
    # The Celery queue of its runs (separate queues: a slow history run never delays a poll).
    queue: str = ""
    # Seconds between runs, from the connection (a poll) or fixed (the grid, a setting).
    interval: Callable[[VendorConnection], int] = field(default=on_the_grid, compare=False)
    # `collectors.conf.app_settings` attribute: seconds after its grid point a run is due
    # (history waits until the vendor has closed the interval). Empty: on the point.
    delay_setting: str = ""
    # A poll is worth only its own interval: its phase is spread over the interval (no
    # jitter), its task expires after one interval, its lease is one interval plus
    # AGENT_STATES_GRACE_SECONDS with its time limits cut to fit inside, and it is not
    # retried past the next poll. Other runs wait QUEUE_GRACE_SECONDS in their queue and hold
    # their stream for their hard time limit.
    poll: bool = False
    # Whether its runs are spread over the whole interval like polls' (configuration: an
    # hourly import is as fresh at any minute of the hour, and 1,000 connections' imports
    # spread over five minutes took the CPU from the polls on a two-core host, bench/).
    # Otherwise a run comes its delay after the grid point, spread over SPREAD_SECONDS.
    spread_over_interval: bool = False
    # `collectors.conf.app_settings` attributes of the (soft, hard) time limits of a run.
    time_limit_settings: tuple[str, str] = ("SOFT_TIME_LIMIT", "TIME_LIMIT")
    # Which window a dispatch stands for: "slot", the interval now starting; "closed", the
    # interval that last closed (the run itself collects from its cursor).
    window: Literal["slot", "closed"] = "slot"
    # Whether a run by hand may name its window (`collect --start --end`, a backfill).
    backfill: bool = False
    # Credential sections the stream speaks with (an expired token there fails it).
    sections: tuple[str, ...] = ()
    # Seconds a stream may be overdue beyond its interval before it is `late`
    # (HEALTH_GRACE_SECONDS overrides it per stream).
    grace_seconds: int = 900
    # Whether it fills the 15-minute grid, so its missing intervals count as gaps.
    gaps: bool = False
    # What the board shows as the data's age: the last success, the end of the newest
    # interval stored, or the newest file received.
    freshness: Literal["last_success", "newest_interval", "last_file"] = "last_success"
    # The health monitor's words for "no success yet" and "the last success".
    nothing_yet: str = "nothing collected"
    last_seen: str = "last success"

    @property
    def dispatched(self) -> bool:
        """Run by the dispatcher (a schedule row claimed per run), not fed by a transport."""
        return bool(self.collect)

    @property
    def command_name(self) -> str:
        """The stream's name on the command line (`agent-states`)."""
        return self.key.replace("_", "-")


@dataclass
class Written:
    """What one run wrote: the counts and notes kept on its `CollectionRun`."""

    created: int = 0
    updated: int = 0
    deactivated: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass
class Job:
    """One run of one stream of one connection, as its collect hook sees it."""

    stream: Stream
    connection: VendorConnection
    schedule: CollectionSchedule
    run: CollectionRun
    now: datetime
    adapter: Adapter
    # A run by hand that collects exactly the run's window (a backfill).
    explicit: bool = False
    # Told (intervals done, intervals in all) as a long window is collected (`collect`'s bar).
    progress: Callable[[int, int], None] | None = None

    def report(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(done, total)

    def fetch(self, *args: Any) -> Any:
        """Ask the adapter for the stream's records (its `fetch` method)."""
        return getattr(self.adapter, self.stream.fetch)(*args)

    def finish(self, written: Written) -> None:
        """Mark the run ok; call it inside the data transaction, so both commit or neither."""
        self.mark_ok(written)
        if self.run.pk is None:
            # A poll's run row is written once, here: one precompiled INSERT (collectors.rows).
            from collectors import rows

            rows.insert(self.run)
        else:
            self.run.save()

    def finish_with(self, written: Written, update: tuple[str, list[Any]]) -> bool:
        """Mark a run not stored yet (a poll's) ok together with the one UPDATE its data needs
        (a cursor's move), both or neither and in one statement where the database allows,
        so no transaction is needed. False, and nothing written, when the UPDATE matched no
        row: the caller then stores the run the transactional way."""
        from collectors import rows

        if self.run.pk is not None:
            raise ValueError("finish_with stores a run that is not stored yet")
        self.mark_ok(written)
        return rows.insert_if(self.run, *update)

    def mark_ok(self, written: Written) -> None:
        from django.utils import timezone

        run = self.run
        run.status = run.OK
        run.finished_at = timezone.now()
        run.rows_created, run.rows_updated, run.rows_deactivated = (
            written.created,
            written.updated,
            written.deactivated,
        )
        run.notes = "\n".join(written.notes)[:5000]
