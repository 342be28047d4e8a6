"""Adding a neutral stream is one module plus a vendor method: a test-only stream
(tests/collectors/streams/fake_stream.py) runs through schedules, dispatch, the run, its
writer, health, the board and the `collect` command with no other change to the engine."""

from __future__ import annotations

from datetime import timedelta as td
from io import StringIO
from unittest import mock

import pytest
import time_machine
from django.core.management import call_command

from collectors import board, health
from collectors.dispatch import dispatch_due, window_for
from collectors.models import CollectionRun, CollectionSchedule
from integrations.vendors.base import Vendor
from integrations.vendors.eightbyeight.vendor import EightByEight
from tests.collectors.enginekit import T0, FakeAdapter, execute, schedule_of
from tests.collectors.streams import fake_stream
from tests.collectors.streams.fake_stream import KEY, QueueStatsRecord
from tests.conftest import make_connection

pytestmark = pytest.mark.django_db
NOW = T0 + td(seconds=3)


class StatsAdapter(FakeAdapter):
    """The vendor method: the fake vendor answers the new stream's fetch."""

    def fetch_queue_stats(self, now):
        self.calls.append((KEY, now))
        self._maybe_fail()
        return [QueueStatsRecord("sales", 4, now), QueueStatsRecord("support", 1, now)]


@pytest.fixture
def stats(settings):
    """The stream registered and supplied by 8x8 (its key in `streams`, its adapter's method)."""
    settings.COLLECT_EXTRA_STREAMS = {KEY: "tests.collectors.streams.fake_stream.STREAM"}
    adapter = StatsAdapter()
    fake_stream.WRITTEN.clear()
    with (
        mock.patch.object(Vendor, "adapter", classmethod(lambda cls, s: adapter)),
        mock.patch.object(EightByEight, "streams", (*EightByEight.streams, KEY)),
        mock.patch.object(EightByEight, "volume_settle_seconds", 0),
    ):
        yield adapter
    fake_stream.WRITTEN.clear()


@pytest.fixture
def conn(stats, tenant_a):
    with time_machine.travel(T0, tick=False):
        return make_connection(tenant_a, "8x8", "eight")


def only_the_new_stream():
    CollectionSchedule.objects.exclude(stream=KEY).update(enabled=False)


def dispatch_and_run(now):
    """One dispatcher tick at `now` and the worker's run of what it sent, at `now`."""
    claims = []
    with time_machine.travel(now, tick=False):
        dispatch_due(now, enqueue=claims.append)
        return [execute(claim, now) for claim in claims]


def test_a_connection_of_a_vendor_that_supplies_it_gets_a_schedule_on_its_grid(conn):
    schedule = schedule_of(conn, KEY)
    assert schedule.interval_seconds == 60
    assert schedule.next_run_at == T0


def test_the_dispatcher_sends_it_to_its_own_queue_with_its_window_and_limits(conn, settings):
    settings.COLLECT_SOFT_TIME_LIMIT, settings.COLLECT_TIME_LIMIT = 40, 50
    only_the_new_stream()
    claims = []
    assert dispatch_due(NOW, enqueue=claims.append) == 1
    [claim] = claims
    assert claim.stream == KEY
    assert (claim.window_start, claim.window_end) == window_for(KEY, 60, NOW, claim.schedule_id)
    assert claim.window_end - claim.window_start == td(seconds=60)
    options = claim.options()
    assert (options["queue"], options["soft_time_limit"], options["time_limit"]) == ("queue_stats", 40, 50)


def test_a_dispatched_run_fetches_through_the_vendor_method_and_writes_through_its_writer(conn, stats):
    only_the_new_stream()
    [result] = dispatch_and_run(NOW)
    run = result.run
    assert (run.stream, run.status, run.rows_created, run.notes) == (KEY, CollectionRun.OK, 2, "2 queue(s)")
    assert stats.calls == [(KEY, NOW)]
    assert [(conn_id, r.queue_vendor_id, r.waiting) for conn_id, r in fake_stream.WRITTEN] == [
        (conn.pk, "sales", 4),
        (conn.pk, "support", 1),
    ]


def test_health_judges_it_by_its_interval_grace_and_words(conn):
    schedule = schedule_of(conn, KEY)
    only_the_new_stream()
    dispatch_and_run(NOW)
    # The run's outcome reached the health monitor at once: its first success.
    assert schedule_of(conn, KEY).status == "ok"
    # One interval (60 s) and the stream's own grace (30 s) later it is late, in its words.
    health.evaluate_all(NOW + td(seconds=89), CollectionSchedule.objects.filter(pk=schedule.pk))
    assert schedule_of(conn, KEY).status == "ok"
    health.evaluate_all(NOW + td(seconds=91), CollectionSchedule.objects.filter(pk=schedule.pk))
    late = schedule_of(conn, KEY)
    assert late.status == "late"
    assert late.status_reason.startswith("last statistics ")


def test_an_expired_token_fails_it_only_in_the_sections_it_speaks_with(conn):
    from tokens.models import AccessToken

    schedule = CollectionSchedule.objects.filter(connection=conn, stream=KEY)
    issued, expired = (T0 - td(days=365)).date(), (T0 - td(days=1)).date()
    # 8x8 has history credentials of its own, so a history token is no real-time token.
    conn.set_values("history", {"tenant": "demo", "token": "8x8-history-token-0123456789"})
    conn.save()
    AccessToken.objects.create(connection=conn, section="history", issued=issued, expires=expired)
    health.evaluate_all(T0, schedule)
    assert schedule_of(conn, KEY).status == "new"
    AccessToken.objects.create(connection=conn, section="realtime", issued=issued, expires=expired)
    health.evaluate_all(T0, schedule)
    assert schedule_of(conn, KEY).status == "auth_failed"


def test_the_board_shows_it_without_gaps_and_with_its_last_success_as_freshness(conn):
    only_the_new_stream()
    dispatch_and_run(NOW)
    [row] = [r for r in board.build(now=NOW + td(seconds=5)) if r.schedule.stream == KEY]
    assert row.gaps is None
    assert row.freshness == NOW


def test_a_run_by_hand_takes_its_command_line_name(conn):
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("collect", "acme/eight", "queue-stats", stdout=out)
    assert out.getvalue().startswith("acme/eight queue-stats: ok, 2 created")
