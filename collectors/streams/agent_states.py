"""Who is in which state now, polled from the vendor's real-time API every few seconds.

Each poll's snapshot is read against the stored states (`collectors.agent_states.read_snapshot`)
and applied: state events opened and closed, current states replaced, in one transaction with
the run row; a poll that changes nothing but the cursor stores that move with its run row in
one statement. A poll is worth only its own interval, so
the declaration marks it `poll` (see `collectors.streams.base.Stream`).
"""

from __future__ import annotations

from datetime import timedelta as td
from typing import TYPE_CHECKING

from collectors.streams.base import Job, Stream, Written
from integrations.vendors.base import REALTIME, STREAM_AGENT_STATES
from integrations.vendors.records import StateSnapshot

if TYPE_CHECKING:
    from integrations.models import VendorConnection


def polling_interval(connection: VendorConnection) -> int:
    """The connection's polling interval (the vendor's default when unset)."""
    return connection.interval_seconds or connection.vendor_class.default_interval_seconds


STREAM = Stream(
    key=STREAM_AGENT_STATES,
    label="Agent states",
    record=StateSnapshot,
    fetch="fetch_agent_states",
    collect="collectors.streams.agent_states.collect",
    queue="agent_states",
    interval=polling_interval,
    poll=True,
    time_limit_settings=("AGENT_STATES_SOFT_TIME_LIMIT", "AGENT_STATES_TIME_LIMIT"),
    sections=(REALTIME,),
    grace_seconds=120,
)


def collect(job: Job) -> Written:
    from django.db import transaction

    from collectors import backends
    from collectors.agent_states import read_snapshot
    from collectors.windows import floor_to

    snapshot: StateSnapshot = job.fetch(job.now)
    run, interval = job.run, job.schedule.interval_seconds
    if run.window_start is None:
        run.window_start = floor_to(job.now, interval)
        run.window_end = run.window_start + td(seconds=interval)
    # Read first, outside any transaction: the lease keeps other polls of the connection out.
    poll = read_snapshot(job.connection, snapshot, interval_seconds=interval)
    unchanged = poll.unchanged()
    if unchanged is not None:
        # The common poll: the cursor's move and the run row in one statement and no transaction
        # on PostgreSQL (one statement, BEGIN and COMMIT fewer: bench/ANALYSIS.md 10).
        written = Written(0, 0, 0, unchanged.notes)
        move = backends.agent_state_cursor_move()(job.connection, poll.observed)
        if job.finish_with(written, move):
            return written
    with transaction.atomic():
        result = poll.apply()
        written = Written(result.events_created, result.events_closed, 0, result.notes)
        job.finish(written)
    return written
