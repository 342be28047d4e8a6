"""The periodic health pass reads only the streams whose stored due time has come, and each
due time is the first moment the status can change: never a pass too late."""

from __future__ import annotations

from datetime import UTC, date, datetime
from datetime import timedelta as td

import pytest

from collectors import health
from collectors.models import CollectionRun, CollectionSchedule
from collectors.runs import record_outcome
from collectors.schedules import sync_all
from tests.collectors.healthkit import T0, backdate, make_run, make_schedule, record
from tokens.models import AccessToken

pytestmark = pytest.mark.django_db


def due_now(now: datetime) -> set[int]:
    return set(health.due(now).values_list("pk", flat=True))


def status_of(schedule: CollectionSchedule) -> str:
    schedule.refresh_from_db()
    return schedule.status


@pytest.fixture
def sched(conn_a, settings):
    settings.HEALTH_GRACE_SECONDS = {"agent_states": 120}
    backdate(conn_a, T0 - td(days=30))
    schedule = make_schedule(conn_a, "agent_states", interval_seconds=60)
    record(schedule, "ok", T0)
    health.evaluate_all(T0)  # every stream of the connection judged once: due times stored
    assert status_of(schedule) == "ok"
    return schedule


def test_a_stream_judged_ok_is_not_read_again_before_its_late_deadline(sched):
    sched.refresh_from_db()
    assert sched.late_after == T0 + td(seconds=180, microseconds=1)
    assert sched.pk not in due_now(T0 + td(seconds=180))
    health.evaluate_all(T0 + td(seconds=180))
    assert status_of(sched) == "ok"


def test_a_stream_turns_late_at_the_first_pass_past_its_deadline(sched):
    assert sched.pk in due_now(T0 + td(seconds=181))
    health.evaluate_all(T0 + td(seconds=181))
    assert status_of(sched) == "late"
    # Late: nothing but a run, a token or a person changes it now.
    assert (sched.late_after, sched.health_due_at) == (None, None)


def test_each_success_on_an_ok_stream_moves_the_deadline_in_its_own_update(sched):
    later = T0 + td(seconds=150)
    run = make_run(sched.connection, sched.stream, CollectionRun.OK, later)
    record_outcome(sched, run, later)
    sched.refresh_from_db()
    assert sched.late_after == later + td(seconds=180, microseconds=1)
    assert sched.pk not in due_now(T0 + td(seconds=181))
    health.evaluate_all(T0 + td(seconds=181))
    assert status_of(sched) == "ok"


def test_a_token_expires_at_midnight_in_the_tenant_zone_and_the_pass_is_due_then(sched):
    # acme's zone is America/Chicago (UTC-6 in March before the 8th): the token of the 5th is
    # expired from 2026-03-06 00:00 CST, 06:00 UTC.
    AccessToken.objects.create(
        connection=sched.connection, section="realtime", issued=date(2025, 3, 5), expires=date(2026, 3, 5)
    )
    health.evaluate_all(T0)
    sched.refresh_from_db()
    midnight = datetime(2026, 3, 6, 6, 0, tzinfo=UTC)
    assert sched.health_due_at == midnight
    for moment in (T0 + td(days=3), midnight - td(microseconds=1)):
        record(sched, "ok", moment)  # still polling fine: the deadline keeps moving on
        health.evaluate_all(moment)
        assert status_of(sched) == "ok"
    assert sched.pk in due_now(midnight)
    health.evaluate_all(midnight)
    assert status_of(sched) == "auth_failed"


def test_auto_pause_comes_at_the_first_pass_once_the_streak_lasted_long_enough(sched, settings):
    settings.HEALTH_AUTOPAUSE_FAILURES = 3
    settings.HEALTH_AUTOPAUSE_SECONDS = 3600
    for minute in (1, 2, 3):  # as the engine stores them: each judged at once
        at = T0 + td(minutes=minute)
        record_outcome(sched, make_run(sched.connection, sched.stream, CollectionRun.FAILED, at), at)
    assert status_of(sched) == "failing"
    pause_at = T0 + td(minutes=1) + td(hours=1)
    assert sched.health_due_at == pause_at
    assert sched.pk not in due_now(pause_at - td(microseconds=1))
    health.evaluate_all(pause_at)
    assert status_of(sched) == "paused"
    assert sched.status_reason.startswith(health.AUTOPAUSE_PREFIX)


@pytest.mark.parametrize("change", ["token", "connection", "tenant"])
def test_a_changed_input_makes_its_streams_due_at_once(sched, change):
    assert sched.pk not in due_now(T0 + td(seconds=1))
    conn = sched.connection
    if change == "token":
        AccessToken.objects.create(
            connection=conn, section="realtime", issued=date(2025, 2, 1), expires=date(2026, 2, 1)
        )
        expected = "auth_failed"
    elif change == "connection":
        conn.enabled = False
        conn.save()
        expected = "paused"
    else:
        conn.tenant.active = False
        conn.tenant.save()
        expected = "paused"
    assert sched.pk in due_now(T0 + td(seconds=1))
    health.evaluate_all(T0 + td(seconds=1))
    assert status_of(sched) == expected


def test_another_tenants_change_makes_none_of_these_streams_due(sched, conn_b):
    conn_b.enabled = False
    conn_b.save()
    conn_b.tenant.active = False
    conn_b.tenant.save()
    assert sched.pk not in due_now(T0 + td(seconds=1))


def test_a_changed_interval_makes_the_stream_due(sched, settings):
    CollectionSchedule.objects.filter(pk=sched.pk).update(interval_seconds=30)
    sync_all(T0)  # brings the interval back to the connection's, and marks the stream due
    assert sched.pk in due_now(T0 + td(seconds=1))


def test_pause_and_resume_store_their_due_times(sched):
    health.pause(sched, "ops", T0 + td(seconds=10))
    assert status_of(sched) == "paused"
    assert (sched.late_after, sched.health_due_at) == (None, None)
    health.resume(sched, "ops", T0 + td(minutes=5))
    sched.refresh_from_db()
    assert sched.status == "new"
    assert sched.late_after == T0 + td(minutes=5, seconds=180, microseconds=1)
    assert sched.pk in due_now(T0 + td(minutes=5))


def test_due_times_written_by_a_pass_never_replace_a_mark_made_after_it_read(sched):
    health.judge_soon(CollectionSchedule.objects.filter(pk=sched.pk))
    read = CollectionSchedule.objects.get(pk=sched.pk)
    health.judge_soon(CollectionSchedule.objects.filter(pk=sched.pk))  # a token saved meanwhile
    health.store_next_changes([health.Moved(read.pk, (read.late_after, read.health_due_at), (None, None))])
    sched.refresh_from_db()
    assert sched.health_due_at is not None
    assert sched.health_due_at != read.health_due_at
