"""A new connection's history, collected oldest first: its progress and its share of workers.

A connection's volume cursor starts its history start before its first history run
(`VendorConnection.backfill_days`) and each run moves it forward in chunks no longer than the
vendor allows per request (`VendorConnection.request_days`), one transaction per chunk, so a
killed run loses at most the chunk it was fetching and the next run resumes at the cursor.

How much backfill runs at once is bounded twice. A run fetches chunks only while its time
budget lasts (BACKFILL_BUDGET_SECONDS, well inside its soft time limit). And only
BACKFILL_MAX_CONNECTIONS connections may run more than one chunk per run at a time (a slot,
`Cursor.backfill_until`): history runs share the history queue's workers, and without a cap a
batch of new connections would hold every worker for minutes while the 15-minute runs of all
the others wait. Agent-state polls run on their own queue, so backfill never delays them; a
connection without a slot still moves one chunk per run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta as td

DAY = td(days=1)


@dataclass(frozen=True)
class Progress:
    """How far a backfill is: days collected of the total, and an estimate of the rest."""

    done: td
    total: td
    # Wall-clock time left at the rate measured so far; None before anything was measured.
    left: td | None

    @property
    def done_days(self) -> int:
        return int(self.done / DAY)

    @property
    def total_days(self) -> int:
        return max(1, round(self.total / DAY))

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 100

    def as_dict(self) -> dict[str, object]:
        seconds_left = None if self.left is None else round(self.left.total_seconds())
        return {
            "done_days": self.done_days,
            "total_days": self.total_days,
            "seconds_left": seconds_left,
            "text": self.text,
        }

    @property
    def text(self) -> str:
        """ "backfilled 120 of 365 days, about 2 h left"."""
        words = f"backfilled {self.done_days} of {self.total_days} day{'s' if self.total_days != 1 else ''}"
        if self.left is None:
            return f"{words}, time left not measured yet"
        return f"{words}, about {duration(self.left)} left"


def duration(span: td) -> str:
    """A rough, readable length: "3 min", "2 h", "4 days"."""
    seconds = span.total_seconds()
    if seconds < 90 * 60:
        return f"{max(1, round(seconds / 60))} min"
    if seconds < 36 * 3600:
        return f"{round(seconds / 3600)} h"
    return f"{round(seconds / 86400)} days"


def progress(
    origin: datetime, started: datetime, position: datetime, measured_at: datetime, caught_up: datetime
) -> Progress | None:
    """The progress of a backfill from `origin` whose cursor is at `position`, or None once
    it has caught up (the cursor reached `caught_up`, the last point it may move to).

    The rate is the data time covered per wall-clock time since the backfill started, up to
    the cursor's last move (`measured_at`): it includes the waits between runs, so the
    estimate is what a person will see, not the vendor's speed alone.
    """
    if position >= caught_up:
        return None
    done = max(td(0), position - origin)
    total = max(caught_up - origin, done)
    spent = measured_at - started
    left = None
    if done > td(0) and spent > td(0):
        left = (total - done) * (spent / done)
    return Progress(done=done, total=total, left=left)
