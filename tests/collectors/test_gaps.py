"""Counting the 15-minute intervals a connection should have but does not."""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import timedelta as td
from zoneinfo import ZoneInfo

import pytest

from collectors import gaps
from collectors.models import CollectionRun
from tests.collectors.healthkit import add_interval, backdate, make_queue, make_run, make_schedule

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
# Sunday 10 March 2024: Chicago springs forward at 02:00 local (08:00 UTC).
NOW = datetime(2024, 3, 12, 0, 7, tzinfo=UTC)


@pytest.fixture(autouse=True)
def grace(settings):
    settings.HEALTH_GRACE_SECONDS = {"volume": 0}
    settings.HEALTH_GAP_DAYS = 7


@pytest.fixture
def conn(conn_a):
    backdate(conn_a, datetime(2024, 1, 1, tzinfo=UTC))
    return conn_a


def finish(conn, stream, status, at, window):
    """A history run whose outcome is stored the way the engine stores it."""
    from collectors.runs import store_outcome

    store_outcome(make_schedule(conn, stream), make_run(conn, stream, status, at, window=window), at)


def fill(queue, start, end):
    t = start
    while t < end:
        add_interval(queue, t)
        t += gaps.INTERVAL


def test_a_full_week_has_no_gaps_and_672_expected_intervals(conn):
    since, until = gaps.window(NOW, conn.created)
    fill(make_queue(conn), since, until)
    cov = gaps.coverage([(conn.pk, conn.created)], NOW)[conn.pk]
    assert cov.expected == 7 * 96
    assert cov.gaps == 0


def test_a_dst_day_counts_96_utc_intervals_and_finds_its_missing_local_hour(conn):
    # Only the local spring-forward day, 10 March in Chicago: 23 local hours, 92 intervals,
    # 00:00 CST (06:00 UTC) to 00:00 CDT (05:00 UTC next day).
    local_start = datetime(2024, 3, 10, tzinfo=CHICAGO)
    local_end = datetime(2024, 3, 11, tzinfo=CHICAGO)
    start, end = local_start.astimezone(UTC), local_end.astimezone(UTC)
    assert (end - start) == td(hours=23)
    queue = make_queue(conn)
    fill(queue, start, end)
    # The feed lost 03:00-04:00 CDT (the first hour after the jump).
    lost = datetime(2024, 3, 10, 3, tzinfo=CHICAGO).astimezone(UTC)
    from collectors.models import IntervalVolume

    IntervalVolume.objects.filter(interval_start__gte=lost, interval_start__lt=lost + td(hours=1)).delete()
    cov = gaps.coverage([(conn.pk, conn.created)], NOW)[conn.pk]
    in_day = [t for t in cov.missing if start <= t < end]
    assert len(in_day) == 4
    assert in_day[0] == datetime(2024, 3, 10, 8, tzinfo=UTC)
    assert cov.ranges()[-1][0] >= end  # the rest of the week is missing too, after the day


def test_a_feed_that_went_silent_is_missing_from_the_moment_it_stopped(conn):
    since, until = gaps.window(NOW, conn.created)
    silent_from = until - td(hours=6)
    fill(make_queue(conn, "sales"), since, silent_from)
    cov = gaps.coverage([(conn.pk, conn.created)], NOW)[conn.pk]
    assert cov.gaps == 24
    assert cov.ranges() == [(silent_from, until)]


def test_a_quiet_queue_does_not_hide_a_dead_feed_of_another(conn):
    since, until = gaps.window(NOW, conn.created)
    # One busy queue delivered everything: the connection has no gap however many
    # other queues had no traffic.
    fill(make_queue(conn, "busy"), since, until)
    make_queue(conn, "quiet")
    assert gaps.coverage([(conn.pk, conn.created)], NOW)[conn.pk].gaps == 0


def test_a_successful_run_with_no_rows_counts_its_window_as_present(conn):
    since, until = gaps.window(NOW, conn.created)
    fill(make_queue(conn), since, until - td(hours=2))
    # The vendor answered for the last two hours: no calls at night.
    finish(conn, "volume", CollectionRun.OK, until, window=(until - td(hours=2), until))
    assert gaps.coverage([(conn.pk, conn.created)], NOW)[conn.pk].gaps == 0


def test_a_failed_run_does_not_cover_its_window(conn):
    since, until = gaps.window(NOW, conn.created)
    fill(make_queue(conn), since, until - td(hours=2))
    finish(conn, "volume", CollectionRun.FAILED, until, window=(until - td(hours=2), until))
    assert gaps.coverage([(conn.pk, conn.created)], NOW)[conn.pk].gaps == 8


def test_a_partly_covered_interval_is_not_present(conn):
    since, until = gaps.window(NOW, conn.created)
    fill(make_queue(conn), since, until - td(minutes=15))
    finish(conn, "file_drop", CollectionRun.OK, until, window=(until - td(minutes=10), until))
    assert gaps.coverage([(conn.pk, conn.created)], NOW)[conn.pk].gaps == 1


def test_a_new_connection_is_expected_only_since_it_was_created(conn):
    backdate(conn, NOW - td(hours=3, minutes=5))
    cov = gaps.coverage([(conn.pk, conn.created)], NOW)[conn.pk]
    # Created 21:02 → first full interval 21:15; last ended by 00:07 → 23:45. 11 intervals.
    assert cov.expected == 11 and cov.gaps == 11


def test_intervals_are_expected_only_after_the_grace(conn, settings):
    settings.HEALTH_GRACE_SECONDS = {"volume": 1800}
    _, until = gaps.window(NOW, conn.created)
    assert until == datetime(2024, 3, 11, 23, 30, tzinfo=UTC)


def test_freshness_is_the_newest_interval_and_file(conn):
    queue = make_queue(conn)
    add_interval(queue, datetime(2024, 3, 11, 23, 30, tzinfo=UTC))
    add_interval(queue, datetime(2024, 3, 11, 22, 0, tzinfo=UTC))
    fresh = gaps.freshness([conn.pk])[conn.pk]
    assert fresh.newest_interval == datetime(2024, 3, 11, 23, 30, tzinfo=UTC)
    assert fresh.interval_age(NOW) == td(minutes=22)
    assert fresh.last_file is None
