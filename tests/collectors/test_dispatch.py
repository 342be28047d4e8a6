"""The dispatcher: claims due schedules, leases them, sets the next run, enqueues each once."""

from __future__ import annotations

from datetime import timedelta as td
from unittest import mock

import pytest
from django.db import connection as db
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from collectors.dispatch import dispatch_due
from collectors.models import CollectionSchedule
from collectors.schedules import phase
from tests.collectors.enginekit import T0, schedule_of
from tests.conftest import make_connection

pytestmark = pytest.mark.django_db
NOW = T0 + td(seconds=3)


def collect(now=NOW, **kwargs):
    claims = []
    dispatch_due(now, enqueue=claims.append, **kwargs)
    return claims


def due_everything(now=NOW):
    CollectionSchedule.objects.update(next_run_at=now - td(seconds=1), lease_until=None, lease_id="")


def assert_next_poll(schedule, interval):
    """Next due at the stream's own phase point of its interval, the first one after NOW."""
    offset = phase(schedule.pk, "agent_states", interval)
    assert 0 <= offset < interval
    assert NOW < schedule.next_run_at <= NOW + td(seconds=interval)
    assert round(schedule.next_run_at.timestamp() % interval, 3) == offset


def test_it_enqueues_each_due_stream_with_a_deterministic_id_on_its_queue(eight):
    due_everything()
    claims = {c.stream: c for c in collect()}
    assert set(claims) == {"volume", "agent_states", "config"}
    states = claims["agent_states"]
    # The slot (on the epoch grid) whose phase point was the last at or before NOW.
    offset = td(seconds=phase(states.schedule_id, "agent_states", 30))
    assert states.window_start + offset <= NOW < states.window_end + offset
    assert states.window_end - states.window_start == td(seconds=30)
    assert states.window_start.timestamp() % 30 == 0
    assert states.task_id == f"collect:{states.schedule_id}:{states.window_start:%Y-%m-%dT%H:%M:%SZ}"
    assert states.queue == "agent_states"
    assert states.options()["expires"] == 30
    assert claims["volume"].queue == "history"
    # The volume window is the interval that last closed (the run reads from its cursor).
    assert (claims["volume"].window_start, claims["volume"].window_end) == (
        T0 - td(minutes=30),
        T0 - td(minutes=15),
    )
    assert claims["config"].queue == "config"
    # A configuration run waits in its queue at most QUEUE_GRACE_SECONDS (then its claim lapses).
    assert claims["config"].options()["expires"] == 180
    assert claims["config"].options()["time_limit"] > claims["config"].options()["soft_time_limit"]


def test_it_leases_each_claimed_row_and_sets_the_next_run_at_its_stable_phase(eight):
    due_everything()
    collect()
    states = schedule_of(eight, "agent_states")
    assert states.lease_until > NOW and states.lease_id
    assert_next_poll(states, 30)
    volume = schedule_of(eight, "volume")
    # After the 15-minute point, the history delay (60 s) and its phase in the 5-minute spread.
    offset = phase(volume.pk, "volume", 900)
    assert 60 <= offset <= 360
    assert volume.next_run_at == T0 + td(seconds=offset)
    config = schedule_of(eight, "config")
    offset = phase(config.pk, "config", 3600)
    assert 0 <= offset < 3600  # anywhere in the hour
    first = T0 + td(seconds=offset)
    assert config.next_run_at == (first if first > NOW else first + td(hours=1))


def test_a_stream_whose_run_is_going_is_not_started_again(eight):
    from collectors.runs import confirm_lease

    due_everything()
    claims = collect()
    assert len(claims) == 3
    for claim in claims:  # a worker started each run
        assert confirm_lease(
            claim.schedule_id, claim.lease_id, claim.stream, NOW + td(seconds=1), claim.interval_seconds
        )
    # A later tick, with every stream due again by the clock but its run still leased (an
    # agent-state poll of 30 s holds its stream 40 s from its start).
    CollectionSchedule.objects.update(next_run_at=NOW)
    later = NOW + td(seconds=20)
    assert collect(later) == []


def test_a_stale_lease_expires_and_the_stream_runs_again(eight):
    due_everything()
    collect()
    states = schedule_of(eight, "agent_states")
    after = states.lease_until + td(seconds=1)
    claims = collect(after)
    assert "agent_states" in {c.stream for c in claims}
    assert schedule_of(eight, "agent_states").lease_id != states.lease_id


def test_streams_not_yet_due_disabled_or_of_disabled_connections_are_skipped(eight, tenant_b):
    other = make_connection(tenant_b, "8x8", "other")
    due_everything()
    CollectionSchedule.objects.filter(connection=eight, stream="volume").update(
        next_run_at=NOW + td(seconds=1)
    )
    CollectionSchedule.objects.filter(connection=eight, stream="config").update(enabled=False)
    other.enabled = False
    other.save()
    assert [c.stream for c in collect()] == ["agent_states"]


def test_streams_of_an_inactive_tenant_are_skipped(eight):
    due_everything()
    eight.tenant.active = False
    eight.tenant.save()
    assert collect() == []


def test_the_file_drop_stream_is_left_to_the_scan_drops_tick(conn_a):
    due_everything()
    assert {c.stream for c in collect()} == {"agent_states", "config"}


def make_due(tenant, n, prefix="c"):
    for i in range(n):
        make_connection(tenant, "8x8", f"{prefix}{i}")
    due_everything()


def queries_for(batch_size):
    with CaptureQueriesContext(db) as ctx:
        count = len(collect(batch_size=batch_size))
    return count, len(ctx.captured_queries)


def test_queries_per_tick_do_not_grow_with_due_rows(tenant_a):
    make_due(tenant_a, 4)  # 12 due rows
    small, q_small = queries_for(500)
    make_due(tenant_a, 30, "d")  # 102 due rows
    big, q_big = queries_for(500)
    assert (small, big) == (12, 102)
    assert q_small == q_big


def test_queries_grow_by_a_constant_per_batch(tenant_a):
    make_due(tenant_a, 20)  # 60 due rows
    _, one_batch = queries_for(100)
    due_everything()
    count, three_batches = queries_for(25)  # 25 + 25 + 10
    assert count == 60
    # A savepoint, the claim (SKIP LOCKED select, or CAS update + read back) and one bulk
    # update of lease and next run: a constant per batch, never one per row.
    per_batch = (three_batches - one_batch) / 2
    assert per_batch <= 5
    assert one_batch <= 5


@override_settings(COLLECT_DISPATCH_MAX_BATCHES=2)
def test_a_tick_stops_after_its_batch_limit_and_the_rest_wait_for_the_next(tenant_a):
    make_due(tenant_a, 4)  # 12 due rows
    assert len(collect(batch_size=5)) == 10
    assert len(collect(batch_size=5)) == 2


def test_a_publish_failure_releases_the_unpublished_claims_for_the_next_tick(eight):
    due_everything()
    sent = []

    def flaky(claim):
        if sent:
            raise ConnectionError("broker down")
        sent.append(claim)

    assert dispatch_due(NOW, enqueue=flaky) == 1
    released = CollectionSchedule.objects.filter(connection=eight, lease_id="").exclude(stream="file_drop")
    assert released.count() == 2
    assert {c.stream for c in collect(NOW + td(seconds=5))} == {"volume", "agent_states", "config"} - {
        sent[0].stream
    }


def test_the_beat_task_publishes_to_celery_with_the_claims_options(eight):
    from collectors import tasks

    due_everything()
    # Through apply_async, as on any broker but Redis (where test_dispatch_fast_messages
    # holds the fast path's messages equal to these).
    with (
        mock.patch("collectors.fast_publish.usable", return_value=False),
        mock.patch.object(tasks.collect, "apply_async") as apply_async,
    ):
        assert tasks.dispatch_due.run() == 3
    calls = {c.kwargs["queue"]: c.kwargs for c in apply_async.call_args_list}
    assert set(calls) == {"agent_states", "history", "config"}
    states = calls["agent_states"]
    assert states["task_id"].startswith("collect:")
    assert states["expires"] == 30
    assert states["kwargs"]["lease_id"] == schedule_of(eight, "agent_states").lease_id


def test_each_claimed_row_gets_its_own_lease_and_next_run_in_one_update(tenant_a):
    from collectors.runs import lease_seconds

    intervals = {}
    for i, seconds in enumerate((30, 45, 60)):
        conn = make_connection(tenant_a, "8x8", f"p{i}")
        conn.interval_seconds = seconds
        conn.save()
        intervals[conn.pk] = seconds
    due_everything()
    with CaptureQueriesContext(db) as ctx:
        assert len(collect()) == 9
    updates = [q["sql"] for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith("UPDATE")]
    # SQLite: the compare-and-set claim, then the advance; PostgreSQL: the advance only.
    assert len(updates) == (1 if db.vendor == "postgresql" else 2)
    for row in CollectionSchedule.objects.filter(stream="agent_states"):
        seconds = intervals[row.connection_id]
        assert row.lease_until == NOW + td(seconds=lease_seconds("agent_states", seconds))
        assert_next_poll(row, seconds)
    for row in CollectionSchedule.objects.filter(stream="volume"):
        assert row.lease_until == NOW + td(seconds=lease_seconds("volume", 900))
        assert row.next_run_at == T0 + td(seconds=phase(row.pk, "volume", 900))


def test_a_batch_reads_each_streams_spread_once_per_interval_not_once_per_claim(tenant_a):
    from collectors import schedules

    for i, seconds in enumerate((30, 30, 60)):
        conn = make_connection(tenant_a, "8x8", f"p{i}")
        conn.interval_seconds = seconds
        conn.save()
    due_everything()
    with mock.patch("collectors.dispatch.spread", wraps=schedules.spread) as read:
        claims = collect()
    pairs = {(c.stream, c.interval_seconds) for c in claims}
    assert len(claims) == 9
    assert read.call_count == len(pairs) == 4  # agent_states at 30 and 60, volume, config
    # Each poll still has its own phase within its stream's spread.
    for claim in (c for c in claims if c.stream == "agent_states"):
        offset = td(seconds=phase(claim.schedule_id, claim.stream, claim.interval_seconds))
        assert claim.window_start + offset <= NOW < claim.window_end + offset


def test_without_update_from_the_claim_falls_back_to_a_bulk_update(eight):
    # SQLite before 3.33 has no UPDATE … FROM; Django 5.2 still runs on 3.31.
    due_everything()
    with mock.patch("collectors.dispatch._update_from_values", return_value=False):
        assert len(collect()) == 3
    states = schedule_of(eight, "agent_states")
    assert states.lease_until > NOW and states.lease_id
    assert_next_poll(states, 30)
    assert collect(NOW + td(seconds=10)) == []


def test_a_failed_batch_is_released_with_one_statement(tenant_a):
    make_due(tenant_a, 4)  # 12 due rows

    def down(claim):
        raise ConnectionError("broker down")

    with CaptureQueriesContext(db) as ctx:
        assert dispatch_due(NOW, enqueue=down) == 0
    releases = [q for q in ctx.captured_queries if 'SET "lease_until" = NULL' in q["sql"]]
    assert len(releases) == 1
    assert not CollectionSchedule.objects.exclude(lease_id="").exists()
    assert len(collect(NOW + td(seconds=5))) == 12
