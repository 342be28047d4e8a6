"""Freshness of each connection's data and the 15-minute intervals missing from it.

What counts as present. An interval (on the 15-minute UTC grid) is present for a
connection when either
- any `IntervalVolume` row of any of its queues starts there, or
- a successful volume or file-drop run covered it completely (its window contains the
  whole interval) even if it stored no rows: the vendor was asked and said "no traffic".

So a quiet queue never hides a dead feed: a feed that delivers nothing at all, and whose
runs fail or stop, leaves its intervals absent. Queues are not counted one by one, since a
queue with no calls in an interval legitimately has no row.

The runs are not read back: when a history run records its success, the intervals its window
covered are merged into its schedule's `covered` spans (`record_covered`), so counting reads a
few spans per stream, then the stored intervals (index `interval_conn_start`) only where no
run answered: the same work whatever the history stored, none for a feed whose runs cover
its window, and unchanged when retention prunes old runs.

What is expected. Every interval of the last HEALTH_GAP_DAYS days that has ended at least
the volume stream's grace ago (vendors publish an interval a while after it closes), and
not before the connection was created. Counting happens on the UTC grid, so a
daylight-saving day has 96 intervals like any other; the vendor's local times are
converted to UTC before they are stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from datetime import timedelta as td

from django.db import transaction
from django.db.models import Max, OuterRef, Q, Subquery

from collectors.health_conf import conf
from collectors.models import CollectionRun, CollectionSchedule, DropFile, IntervalVolume
from collectors.streams import gap_streams
from integrations.models import VendorConnection
from integrations.vendors.base import STREAM_VOLUME

INTERVAL = td(minutes=15)
# The streams that fill the grid, whose runs count (`Stream.gaps`: volume, the file drop).
HISTORY_STREAMS = gap_streams()
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Connections with uncovered intervals beyond which their stored intervals are read as one range.
MAX_RANGES = 200


def floor_interval(moment: datetime) -> datetime:
    """The start of the 15-minute UTC interval that contains `moment`."""
    moment = moment.astimezone(UTC)
    return moment - ((moment - _EPOCH) % INTERVAL)


def ceil_interval(moment: datetime) -> datetime:
    start = floor_interval(moment)
    return start if start == moment else start + INTERVAL


@dataclass
class Coverage:
    since: datetime
    until: datetime  # exclusive: intervals start in [since, until)
    expected: int = 0
    missing: list[datetime] = field(default_factory=list)

    @property
    def gaps(self) -> int:
        return len(self.missing)

    def ranges(self) -> list[tuple[datetime, datetime]]:
        """The missing intervals merged into [start, end) runs, oldest first."""
        out: list[tuple[datetime, datetime]] = []
        for start in self.missing:
            if out and out[-1][1] == start:
                out[-1] = (out[-1][0], start + INTERVAL)
            else:
                out.append((start, start + INTERVAL))
        return out


def window(now: datetime, created: datetime | None = None) -> tuple[datetime, datetime]:
    """The [since, until) range of interval starts a connection is expected to have."""
    until = floor_interval(now - conf.grace(STREAM_VOLUME))
    since = floor_interval(now) - td(days=conf.GAP_DAYS)
    if created is not None:
        since = max(since, ceil_interval(created))
    return since, max(since, until)


def coverage(connections: Iterable[tuple[int, datetime]], now: datetime) -> dict[int, Coverage]:
    """Gaps of each connection, given as (id, created); at most two queries whatever their
    number: the history streams' covered spans, then the stored intervals of what they left
    uncovered (none at all when every connection's runs answered for its whole window).

    Times are Unix seconds on the grid inside, and the work is per hole, not per interval of
    the window: a connection whose runs covered its window costs one schedule row per stream,
    whatever its history."""
    bounds = {conn_id: window(now, created) for conn_id, created in connections}
    if not bounds:
        return {}
    covered: dict[int, list[tuple[int, int]]] = {conn_id: [] for conn_id in bounds}
    spans = CollectionSchedule.objects.filter(
        connection_id__in=list(bounds), stream__in=HISTORY_STREAMS
    ).values_list("connection_id", "covered")
    for conn_id, pairs in spans:
        covered[conn_id] += [(start, end) for start, end in pairs or ()]

    step = int(INTERVAL.total_seconds())
    holes: dict[int, list[tuple[int, int]]] = {}
    for conn_id, (since, until) in bounds.items():
        holes[conn_id] = _holes(_epoch(since), _epoch(until), covered[conn_id])

    # Per connection, its stored intervals from the first to the last interval no run
    # covered: a healthy feed's runs cover nearly the whole window, so few rows are read.
    uncovered = {conn_id: (_from_epoch(h[0][0]), _from_epoch(h[-1][1])) for conn_id, h in holes.items() if h}
    present: dict[int, set[int]] = {conn_id: set() for conn_id in bounds}
    if len(uncovered) > MAX_RANGES:
        # One range for all: a statement of thousands of conditions costs more to plan.
        first = min(start for start, _ in uncovered.values())
        last = max(end for _, end in uncovered.values())
        where = Q(connection_id__in=list(uncovered), interval_start__gte=first, interval_start__lt=last)
    else:
        where = Q()
        for conn_id, (start, end) in uncovered.items():
            where |= Q(connection_id=conn_id, interval_start__gte=start, interval_start__lt=end)
    if uncovered:
        starts = IntervalVolume.objects.filter(where).values_list("connection_id", "interval_start")
        for conn_id, start in starts.distinct():
            present[conn_id].add(_epoch(start.astimezone(UTC)))

    out: dict[int, Coverage] = {}
    for conn_id, (since, until) in bounds.items():
        cov = Coverage(since, until, expected=int((until - since) / INTERVAL))
        cov.missing = [
            _from_epoch(t)
            for start, end in holes[conn_id]
            for t in range(start, end, step)
            if t not in present[conn_id]
        ]
        out[conn_id] = cov
    return out


def _holes(since: int, until: int, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of [since, until) that no span covers, oldest first (all on the grid)."""
    out, t = [], since
    for start, end in sorted(spans):
        if end <= t or start >= until:
            continue
        if start > t:
            out.append((t, start))
        t = max(t, end)
    if t < until:
        out.append((t, until))
    return out


@dataclass(frozen=True)
class Freshness:
    newest_interval: datetime | None
    last_file: datetime | None

    def interval_age(self, now: datetime) -> td | None:
        # Age of the newest interval's end: how far behind the data is.
        return None if self.newest_interval is None else now - (self.newest_interval + INTERVAL)


def freshness(connection_ids: Iterable[int]) -> dict[int, Freshness]:
    """Newest interval and newest drop file of each connection, two queries in all."""
    ids = list(connection_ids)
    # One backward step down index `interval_conn_start` per connection: a MAX() grouped by
    # connection would read every interval ever stored.
    newest_start = (
        IntervalVolume.objects.filter(connection_id=OuterRef("pk"))
        .order_by("-interval_start")
        .values("interval_start")[:1]
    )
    newest = dict(
        VendorConnection.objects.filter(pk__in=ids)
        .order_by()
        .annotate(m=Subquery(newest_start))
        .values_list("pk", "m")
    )
    files = dict(
        DropFile.objects.filter(connection_id__in=ids, status=DropFile.INGESTED)
        .order_by()
        .values("connection_id")
        .annotate(m=Max("received_at"))
        .values_list("connection_id", "m")
    )
    return {i: Freshness(newest.get(i), files.get(i)) for i in ids}


# --- the covered spans of history streams ----------------------------------------------------


def _epoch(moment: datetime) -> int:
    return int((moment - _EPOCH).total_seconds())


def _from_epoch(seconds: int) -> datetime:
    return _EPOCH + td(seconds=seconds)


def whole_intervals(start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
    """The [first, last) interval starts a window [start, end) contains whole, if any: an
    interval only partly inside a run's window was not asked for in full."""
    first, last = ceil_interval(start), floor_interval(end)
    return (first, last) if first < last else None


def merge_span(spans: list[list[int]], span: tuple[int, int], horizon: int) -> list[list[int]]:
    """`spans` (merged [start, end) pairs, oldest first) with `span` added, adjacent and
    overlapping spans joined, and those ending at or before `horizon` dropped."""
    out: list[list[int]] = []
    for start, end in sorted([*([s, e] for s, e in spans), list(span)]):
        if end <= horizon:
            continue
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return out


def record_covered(schedule_id: int, run: CollectionRun, now: datetime) -> None:
    """Add what a successful history run covered to its schedule's spans (a no-op for other
    runs). The row is locked while its spans are merged: two runs never lose each other's."""
    if run.status != CollectionRun.OK or run.stream not in HISTORY_STREAMS:
        return
    if run.window_start is None or run.window_end is None:
        return
    whole = whole_intervals(run.window_start, run.window_end)
    # A day beyond the window, so a scrape a little in the past or a larger HEALTH_GAP_DAYS
    # still finds the spans it counts.
    horizon = _epoch(floor_interval(now) - td(days=conf.GAP_DAYS + 1))
    if whole is None or _epoch(whole[1]) <= horizon:
        return
    with transaction.atomic():
        rows = CollectionSchedule.objects.filter(pk=schedule_id)
        spans = rows.select_for_update().values_list("covered", flat=True).first()
        if spans is None:
            return
        rows.update(covered=merge_span(spans, (_epoch(whole[0]), _epoch(whole[1])), horizon))
