"""Auto-pause after a long run of failures, manual pause, and resume."""

from __future__ import annotations

from datetime import timedelta as td

import pytest

from collectors import health
from collectors.models import CollectionSchedule, HealthFlip
from tests.collectors.healthkit import T0, backdate, make_schedule, record

pytestmark = pytest.mark.django_db


def ev(now, schedule):
    return health.evaluate_all(now=now, queryset=CollectionSchedule.objects.filter(pk=schedule.pk))


@pytest.fixture
def sched(conn_a):
    backdate(conn_a, T0 - td(days=30))
    schedule = make_schedule(conn_a, "agent_states", interval_seconds=3600)
    record(schedule, "ok", T0 - td(hours=1))
    ev(T0 - td(hours=1), schedule)
    return schedule


def fail_every(schedule, count, step):
    for i in range(count):
        record(schedule, "failed", T0 + i * step, error="TransientError: 503")


def test_thirty_failures_over_a_day_pause_the_stream_with_a_flip(sched):
    fail_every(sched, 30, td(minutes=50))  # 29 intervals of 50 min: about 24.2 h
    assert ev(T0 + td(hours=24, minutes=10), sched) == 1
    sched.refresh_from_db()
    assert (sched.status, sched.enabled) == ("paused", False)
    assert sched.status_reason == (
        "paused automatically after 30 consecutive failures since 2026-03-02 12:00 UTC"
    )
    flip = HealthFlip.objects.latest("created")
    assert (flip.old_status, flip.new_status) == ("ok", "paused")
    assert health.is_autopaused(sched)
    # Paused stays paused, quietly.
    assert ev(T0 + td(hours=30), sched) == 0


def test_many_failures_in_a_short_time_are_failing_not_paused(sched):
    fail_every(sched, 40, td(minutes=1))
    ev(T0 + td(hours=1), sched)
    sched.refresh_from_db()
    assert (sched.status, sched.enabled) == ("failing", True)


def test_a_long_span_with_few_failures_is_not_paused(sched):
    fail_every(sched, 10, td(hours=5))
    ev(T0 + td(hours=50), sched)
    sched.refresh_from_db()
    assert (sched.status, sched.enabled) == ("failing", True)


def test_the_thresholds_are_settings(sched, settings):
    settings.HEALTH_AUTOPAUSE_FAILURES = 5
    settings.HEALTH_AUTOPAUSE_SECONDS = 3600
    fail_every(sched, 5, td(minutes=20))
    ev(T0 + td(hours=1, minutes=30), sched)
    sched.refresh_from_db()
    assert sched.status == "paused"


def test_resume_restarts_a_paused_stream_as_new_until_its_next_success(sched):
    fail_every(sched, 30, td(minutes=50))
    ev(T0 + td(hours=25), sched)
    resumed_at = T0 + td(hours=26)
    flip = health.resume(sched, "manager_a", now=resumed_at)
    assert flip is not None and (flip.old_status, flip.new_status) == ("paused", "new")
    sched.refresh_from_db()
    assert sched.enabled and sched.consecutive_failures == 0
    assert sched.next_run_at == resumed_at and sched.status_reason == "resumed by manager_a"
    # The success from before the pause does not make it ok, nor late within its window.
    assert ev(resumed_at + td(minutes=5), sched) == 0
    record(sched, "ok", resumed_at + td(minutes=10))
    ev(resumed_at + td(minutes=11), sched)
    sched.refresh_from_db()
    assert sched.status == "ok"


def test_a_resumed_stream_that_never_succeeds_turns_late(sched, settings):
    settings.HEALTH_GRACE_SECONDS = {"agent_states": 600}
    health.pause(sched, "manager_a", now=T0)
    resumed_at = T0 + td(hours=1)
    health.resume(sched, "manager_a", now=resumed_at)
    ev(resumed_at + td(minutes=69), sched)
    assert CollectionSchedule.objects.get(pk=sched.pk).status == "new"
    ev(resumed_at + td(minutes=71), sched)
    sched.refresh_from_db()
    assert sched.status == "late"
    assert sched.status_reason == "nothing collected since 2026-03-02 13:00 UTC"


def test_pausing_twice_writes_one_flip(sched):
    assert health.pause(sched, "manager_a", now=T0) is not None
    assert health.pause(sched, "manager_a", now=T0 + td(seconds=1)) is None
    assert health.resume(sched, "manager_a", now=T0 + td(seconds=2)) is not None
    assert health.resume(sched, "manager_a", now=T0 + td(seconds=3)) is None
    assert list(HealthFlip.objects.order_by("created").values_list("new_status", flat=True)) == [
        "ok",
        "paused",
        "new",
    ]
