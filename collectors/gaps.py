"""Freshness of each connection's data and the 15-minute intervals missing from it.

What counts as present. An interval (on the 15-minute UTC grid) is present for a
connection when either
- any `IntervalVolume` row of any of its queues starts there, or
- a successful volume or file-drop run covered it completely (its window contains the
  whole interval) even if it stored no rows: the vendor was asked and said "no traffic".

So a quiet queue never hides a dead feed: a feed that delivers nothing at all, and whose
runs fail or stop, leaves its intervals absent. Queues are not counted one by one, since a
queue with no calls in an interval legitimately has no row.

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

from django.db.models import Max

from collectors.health_conf import conf
from collectors.models import CollectionRun, DropFile, IntervalVolume
from collectors.streams import gap_streams
from integrations.vendors.base import STREAM_VOLUME

INTERVAL = td(minutes=15)
# The streams that fill the grid, whose runs count (`Stream.gaps`: volume, the file drop).
HISTORY_STREAMS = gap_streams()
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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
    """Gaps of each connection, given as (id, created); two queries whatever their number."""
    bounds = {conn_id: window(now, created) for conn_id, created in connections}
    if not bounds:
        return {}
    first = min(since for since, _ in bounds.values())
    last = max(until for _, until in bounds.values())
    present: dict[int, set[datetime]] = {conn_id: set() for conn_id in bounds}

    starts = (
        IntervalVolume.objects.filter(
            connection_id__in=list(bounds), interval_start__gte=first, interval_start__lt=last
        )
        .values_list("connection_id", "interval_start")
        .distinct()
    )
    for conn_id, start in starts:
        present[conn_id].add(start.astimezone(UTC))

    runs = CollectionRun.objects.filter(
        connection_id__in=list(bounds),
        stream__in=HISTORY_STREAMS,
        status=CollectionRun.OK,
        window_start__lt=last,
        window_end__gt=first,
    ).values_list("connection_id", "window_start", "window_end")
    for conn_id, start, end in runs:
        since, until = bounds[conn_id]
        t = max(ceil_interval(start), since)
        end = min(end, until + INTERVAL)
        while t + INTERVAL <= end:
            present[conn_id].add(t)
            t += INTERVAL

    out: dict[int, Coverage] = {}
    for conn_id, (since, until) in bounds.items():
        cov = Coverage(since, until)
        t = since
        while t < until:
            cov.expected += 1
            if t not in present[conn_id]:
                cov.missing.append(t)
            t += INTERVAL
        out[conn_id] = cov
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
    newest = dict(
        IntervalVolume.objects.filter(connection_id__in=ids)
        .order_by()
        .values("connection_id")
        .annotate(m=Max("interval_start"))
        .values_list("connection_id", "m")
    )
    files = dict(
        DropFile.objects.filter(connection_id__in=ids, status=DropFile.INGESTED)
        .order_by()
        .values("connection_id")
        .annotate(m=Max("received_at"))
        .values_list("connection_id", "m")
    )
    return {i: Freshness(newest.get(i), files.get(i)) for i in ids}
