"""History runs: cursor, lookback, bounded chunks, first run, backfill after an outage."""

from __future__ import annotations

from datetime import timedelta as td

import pytest
from django.test import override_settings

from collectors.models import CollectionRun, Cursor, IntervalVolume
from collectors.runs import run_collection
from collectors.windows import INTERVAL
from integrations.vendors.errors import TransientError
from tests.collectors.enginekit import QUEUES, T0, schedule_of

pytestmark = pytest.mark.django_db


def cursor_of(conn):
    return Cursor.objects.get(connection=conn, stream="volume").position


def run(conn, now):
    return run_collection(schedule_of(conn, "volume"), now=now).run


def test_the_first_run_starts_initial_history_ago_and_ends_at_the_last_closed_interval(eight, fake):
    r = run(eight, T0 + td(minutes=7))
    assert r.status == CollectionRun.OK
    assert (r.window_start, r.window_end) == (T0 - td(days=1), T0 - td(days=1) + 96 * INTERVAL)
    assert cursor_of(eight) == T0 - td(days=1) + 96 * INTERVAL
    assert r.rows_created == 96 * len(QUEUES)


@override_settings(COLLECT_INITIAL_HISTORY_HOURS=2)
def test_a_run_rereads_the_lookback_before_the_cursor_and_stops_at_the_last_closed_interval(eight, fake):
    run(eight, T0 + td(minutes=7))
    assert cursor_of(eight) == T0
    fake.revision = 1  # the vendor revised its recent numbers
    r = run(eight, T0 + td(minutes=31))
    assert (r.window_start, r.window_end) == (T0 - 4 * INTERVAL, T0 + 2 * INTERVAL)
    assert fake.calls[-1] == ("volume", T0 - 4 * INTERVAL, T0 + 2 * INTERVAL)
    assert (r.rows_created, r.rows_updated) == (4, 8)
    assert cursor_of(eight) == T0 + 2 * INTERVAL
    revised = IntervalVolume.objects.get(queue__vendor_id="sales", interval_start=T0 - INTERVAL)
    assert revised.entered == int((T0 - INTERVAL).timestamp() // 900) % 50 + 1


@override_settings(COLLECT_INITIAL_HISTORY_HOURS=2)
def test_the_cursor_never_passes_the_start_of_the_run(eight, fake):
    r = run(eight, T0 + td(minutes=14, seconds=59))
    assert r.window_end == T0
    assert cursor_of(eight) == T0
    assert not IntervalVolume.objects.filter(interval_start__gte=T0).exists()


@override_settings(COLLECT_INITIAL_HISTORY_HOURS=2)
def test_rerunning_a_window_changes_nothing(eight, fake):
    run(eight, T0 + td(minutes=7))
    before = list(IntervalVolume.objects.order_by("pk").values())
    r = run(eight, T0 + td(minutes=8))
    assert (r.rows_created, r.rows_updated) == (0, 0)
    assert list(IntervalVolume.objects.order_by("pk").values()) == before


# No backfill slot: every run moves one chunk (collectors.backfill).
@override_settings(
    COLLECT_INITIAL_HISTORY_HOURS=1, COLLECT_CHUNK_INTERVALS=8, COLLECT_BACKFILL_MAX_CONNECTIONS=0
)
def test_a_six_hour_outage_is_backfilled_oldest_first_in_bounded_chunks_to_zero_gaps(eight, fake):
    run(eight, T0 + td(minutes=5))
    assert cursor_of(eight) == T0
    fake.error = TransientError("vendor down")  # six hours of failed runs
    for minutes in range(20, 6 * 60, 15):
        assert run(eight, T0 + td(minutes=minutes)).status != CollectionRun.OK
    assert cursor_of(eight) == T0
    fake.error = None
    back = T0 + td(hours=6, minutes=2)
    windows = []
    for i in range(7):
        r = run(eight, back + td(seconds=i))
        windows.append((r.window_start, r.window_end))
    # 24 missed intervals, each request 8 long at most: the 4 re-read before the cursor and 4
    # new ones, oldest first.
    assert windows[:3] == [
        (T0 - 4 * INTERVAL, T0 + 4 * INTERVAL),
        (T0, T0 + 8 * INTERVAL),
        (T0 + 4 * INTERVAL, T0 + 12 * INTERVAL),
    ]
    assert all(end - start <= 8 * INTERVAL for start, end in windows)
    assert windows[5] == (T0 + 16 * INTERVAL, T0 + 24 * INTERVAL)  # caught up
    assert windows[6] == (T0 + 20 * INTERVAL, T0 + 24 * INTERVAL)  # the lookback only
    assert cursor_of(eight) == T0 + td(hours=6)
    starts = set(
        IntervalVolume.objects.filter(queue__vendor_id="sales").values_list("interval_start", flat=True)
    )
    expected = {T0 - td(hours=1) + i * INTERVAL for i in range(4 * 7)}
    assert starts == expected  # zero gaps from the first interval to the last closed one
    assert IntervalVolume.objects.count() == len(expected) * len(QUEUES)


@override_settings(COLLECT_INITIAL_HISTORY_HOURS=2)
def test_records_outside_the_window_are_not_written_and_are_noted(eight, fake):
    from tests.collectors.enginekit import volume_of

    fake.extra = [volume_of("sales", T0 + td(hours=1))]
    r = run(eight, T0 + td(minutes=7))
    assert "ignored 1 record(s) outside the window" in r.notes
    assert not IntervalVolume.objects.filter(interval_start=T0 + td(hours=1)).exists()
