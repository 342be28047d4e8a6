"""A leased success on a stream already `ok` (every poll) is stored by one precompiled UPDATE:
it must store exactly what the general outcome stores, and only under this run's lease."""

from __future__ import annotations

from datetime import timedelta as td

import pytest

from collectors.health_conf import conf
from collectors.models import RUN_DURATION_BUCKETS, CollectionRun, CollectionSchedule
from collectors.runs import store_outcome
from tests.collectors.enginekit import T0, schedule_of

pytestmark = pytest.mark.django_db
BEFORE = {
    "status": "ok",
    "lease_id": "lease-1",
    "lease_until": T0 + td(seconds=20),
    "consecutive_failures": 0,
    "last_error": "",
    "runs_finished": 4,
    "run_seconds_total": 1.5,
    "rows_collected": 7,
    **{f"run_le_{i}": 4 for i in range(len(RUN_DURATION_BUCKETS))},
}


def finished_poll(conn, seconds: float, rows: int = 3) -> CollectionRun:
    return CollectionRun(
        connection=conn,
        stream="agent_states",
        started_at=T0,
        finished_at=T0 + td(seconds=seconds),
        status=CollectionRun.OK,
        rows_created=rows - 1,
        rows_updated=1,
    )


def stored(schedule: CollectionSchedule) -> dict[str, object]:
    schedule.refresh_from_db()
    names = [*BEFORE, "last_run_at", "last_success_at", "late_after"]
    return {name: getattr(schedule, name) for name in names}


def test_a_leased_success_on_an_ok_stream_stores_every_fact_of_its_outcome(eight):
    schedule = schedule_of(eight, "agent_states")
    CollectionSchedule.objects.filter(pk=schedule.pk).update(**BEFORE)
    now = T0 + td(seconds=0.4)
    assert store_outcome(schedule, finished_poll(eight, 0.4), now, lease_id="lease-1") is True
    after = stored(schedule)
    assert after["lease_id"] == "" and after["lease_until"] is None
    assert after["last_run_at"] == after["last_success_at"] == now
    assert after["late_after"] == conf.late_after("agent_states", schedule.interval_seconds, now)
    assert after["runs_finished"] == 5 and after["rows_collected"] == 10
    assert after["run_seconds_total"] == pytest.approx(1.9)
    # 0.4 s: not within the first bucket (0.25 s), within every other.
    assert [after[f"run_le_{i}"] for i in range(len(RUN_DURATION_BUCKETS))] == [4] + [5] * 9
    assert after["status"] == "ok" and after["consecutive_failures"] == 0


def test_a_success_whose_lease_was_taken_over_leaves_the_new_lease_alone(eight):
    schedule = schedule_of(eight, "agent_states")
    CollectionSchedule.objects.filter(pk=schedule.pk).update(**{**BEFORE, "lease_id": "lease-2"})
    assert store_outcome(schedule, finished_poll(eight, 0.1), T0 + td(seconds=1), lease_id="lease-1") is True
    after = stored(schedule)
    assert after["lease_id"] == "lease-2" and after["lease_until"] == T0 + td(seconds=20)
    assert after["runs_finished"] == 5  # the outcome itself is still counted


def test_a_success_on_a_stream_not_ok_is_stored_the_general_way_for_the_health_monitor(eight):
    schedule = schedule_of(eight, "agent_states")
    failing = {**BEFORE, "status": "failing", "consecutive_failures": 3, "last_error": "TransientError: 503"}
    CollectionSchedule.objects.filter(pk=schedule.pk).update(**failing)
    now = T0 + td(seconds=2)
    assert store_outcome(schedule, finished_poll(eight, 2.0), now, lease_id="lease-1") is False
    after = stored(schedule)
    assert after["consecutive_failures"] == 0 and after["last_error"] == ""
    assert after["last_success_at"] == now and after["lease_id"] == ""
    assert after["runs_finished"] == 5  # counted once, by the general UPDATE alone
    assert [after[f"run_le_{i}"] for i in range(len(RUN_DURATION_BUCKETS))] == [4, 4, 4] + [5] * 7
