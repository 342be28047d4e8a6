"""Gap counting from the spans kept on each history schedule equals counting from the runs."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from datetime import timedelta as td

import pytest

from collectors import gaps
from collectors.models import CollectionRun, CollectionSchedule, IntervalVolume
from collectors.retention import prune
from tests.collectors.healthkit import add_interval, backdate, make_queue, make_run, make_schedule

pytestmark = pytest.mark.django_db

NOW = datetime(2024, 3, 12, 0, 7, tzinfo=UTC)
HISTORY = ("volume", "file_drop")


@pytest.fixture(autouse=True)
def grace(settings):
    settings.HEALTH_GRACE_SECONDS = {"volume": 0}
    settings.HEALTH_GAP_DAYS = 7


@pytest.fixture
def conn(conn_a):
    backdate(conn_a, datetime(2024, 1, 1, tzinfo=UTC))
    return conn_a


def finish(
    conn, stream: str, status: str, window: tuple[datetime, datetime], at: datetime | None = None
) -> CollectionRun:
    """A history run whose outcome is stored the way the engine stores it, at `at` (by
    default when its window ends)."""
    from collectors.runs import store_outcome

    run = make_run(conn, stream, status, at or window[1], window=window)
    store_outcome(make_schedule(conn, stream), run, at or window[1])
    return run


def missing_from_runs(conn, now: datetime) -> list[datetime]:
    """The reference: the missing intervals counted from the stored runs and intervals, as
    gap counting did before the spans (every successful run's window, whole intervals only)."""
    since, until = gaps.window(now, conn.created)
    starts = IntervalVolume.objects.filter(connection=conn).values_list("interval_start", flat=True)
    present = {t.astimezone(UTC) for t in starts if since <= t < until}
    runs = CollectionRun.objects.filter(connection=conn, stream__in=HISTORY, status=CollectionRun.OK)
    for run in runs.exclude(window_start=None):
        t = max(gaps.ceil_interval(run.window_start), since)
        while t + gaps.INTERVAL <= min(run.window_end, until + gaps.INTERVAL):
            present.add(t)
            t += gaps.INTERVAL
    out, t = [], since
    while t < until:
        if t not in present:
            out.append(t)
        t += gaps.INTERVAL
    return out


def windows(rng: random.Random, since: datetime, until: datetime) -> list[tuple[datetime, datetime]]:
    """Back-to-back windows of 15 minutes to 3 hours over the gap window, some off the grid."""
    out, t = [], since - td(days=2)
    while t < until + td(hours=1):
        end = t + td(minutes=rng.choice((15, 30, 45, 60, 90, 180)) + rng.choice((0, 0, 0, 7)))
        out.append((t, end))
        t = end
    return out


@pytest.mark.parametrize("max_ranges", [gaps.MAX_RANGES, 0], ids=["range per connection", "one range"])
@pytest.mark.parametrize("seed", range(4))
def test_spans_count_the_same_gaps_as_the_runs_in_any_history(conn, seed, max_ranges, monkeypatch):
    """Successes, failures, silent stretches, retried windows, runs recorded out of order and
    runs older than the window, on both history streams."""
    monkeypatch.setattr(gaps, "MAX_RANGES", max_ranges)
    rng = random.Random(seed)
    since, until = gaps.window(NOW, conn.created)
    queue = make_queue(conn)
    runs = []
    for stream in HISTORY:
        for window in windows(rng, since, until):
            roll = rng.random()
            if roll < 0.15:
                continue  # never asked: a silent stretch
            status = CollectionRun.FAILED if roll < 0.3 else CollectionRun.OK
            runs.append((stream, status, window))
            if roll > 0.9:
                runs.append((stream, CollectionRun.OK, window))  # collected again
    rng.shuffle(runs)
    for stream, status, window in runs:
        finish(conn, stream, status, window)
    for start in {gaps.floor_interval(since + (until - since) * rng.random()) for _ in range(40)}:
        add_interval(queue, start)
    cov = gaps.coverage([(conn.pk, conn.created)], NOW)[conn.pk]
    assert cov.missing == missing_from_runs(conn, NOW)
    assert 0 < cov.gaps < cov.expected  # the history has both gaps and covered stretches


def test_a_run_recorded_late_fills_the_gap_between_two_spans(conn):
    _, until = gaps.window(NOW, conn.created)
    first = (until - td(hours=3), until - td(hours=2))
    middle = (until - td(hours=2), until - td(hours=1))
    last = (until - td(hours=1), until)
    finish(conn, "volume", CollectionRun.OK, last)
    finish(conn, "volume", CollectionRun.OK, first)
    assert len(CollectionSchedule.objects.get(connection=conn, stream="volume").covered) == 2
    finish(conn, "volume", CollectionRun.OK, middle)
    spans = CollectionSchedule.objects.get(connection=conn, stream="volume").covered
    assert [[gaps._from_epoch(s), gaps._from_epoch(e)] for s, e in spans] == [[first[0], last[1]]]


def test_spans_older_than_the_window_and_a_day_are_dropped(conn):
    # A window of nine days ago collected now: before the gap window and its day of margin.
    grid = gaps.floor_interval(NOW)
    old = grid - td(days=9)
    finish(conn, "volume", CollectionRun.OK, (old, old + td(hours=1)), at=NOW)
    assert CollectionSchedule.objects.get(connection=conn, stream="volume").covered == []
    # Collected when it was recent, then trimmed by a success nine days later.
    finish(conn, "volume", CollectionRun.OK, (old, old + td(hours=1)))
    finish(conn, "volume", CollectionRun.OK, (grid - td(days=3), grid - td(days=3) + td(hours=1)))
    assert len(CollectionSchedule.objects.get(connection=conn, stream="volume").covered) == 2
    finish(conn, "volume", CollectionRun.OK, (grid - td(hours=2), grid - td(hours=1)))
    spans = CollectionSchedule.objects.get(connection=conn, stream="volume").covered
    assert [gaps._from_epoch(s) for s, _ in spans] == [grid - td(days=3), grid - td(hours=2)]


def test_pruning_the_runs_leaves_the_gaps_as_they_were(conn, settings):
    settings.RETENTION_RUNS_OK_DAYS = 1
    _, until = gaps.window(NOW, conn.created)
    for hours in range(1, 49):
        finish(conn, "volume", CollectionRun.OK, (until - td(hours=hours), until - td(hours=hours - 1)))
    before = gaps.coverage([(conn.pk, conn.created)], NOW)[conn.pk]
    assert before.gaps == before.expected - 48 * 4
    CollectionRun.objects.all().delete()
    prune(NOW)
    assert gaps.coverage([(conn.pk, conn.created)], NOW)[conn.pk].missing == before.missing


def test_counting_gaps_never_reads_the_runs(conn):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    finish(conn, "volume", CollectionRun.OK, (NOW - td(hours=2), NOW - td(hours=1)))
    with CaptureQueriesContext(connection) as ctx:
        gaps.coverage([(conn.pk, conn.created)], NOW)
    assert len(ctx.captured_queries) == 2
    assert not any("collectors_collectionrun" in q["sql"] for q in ctx.captured_queries)
