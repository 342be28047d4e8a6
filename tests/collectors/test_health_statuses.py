"""Every status and transition of a stream, evaluated at chosen moments."""

from __future__ import annotations

from datetime import date
from datetime import timedelta as td

import pytest

from collectors import health
from collectors.models import CollectionRun, CollectionSchedule, HealthFlip
from tests.collectors.healthkit import T0, backdate, make_run, make_schedule, record
from tokens.models import AccessToken

pytestmark = pytest.mark.django_db


def ev(now, *schedules: CollectionSchedule) -> int:
    """Evaluate only the schedules under test (the connection has other streams)."""
    return health.evaluate_all(
        now=now, queryset=CollectionSchedule.objects.filter(pk__in=[s.pk for s in schedules])
    )


def status_of(schedule: CollectionSchedule) -> str:
    schedule.refresh_from_db()
    return schedule.status


@pytest.fixture
def sched(conn_a):
    backdate(conn_a, T0 - td(days=30))
    return make_schedule(conn_a, "agent_states", interval_seconds=60)


def test_a_stream_that_never_ran_is_new_and_writes_no_flip(conn_a, sched):
    backdate(conn_a, T0 - td(seconds=30))
    assert ev(T0, sched) == 0
    assert status_of(sched) == "new"
    assert not HealthFlip.objects.exists()


def test_it_turns_ok_after_a_success_and_writes_one_flip(sched):
    record(sched, "ok", T0)
    assert ev(T0 + td(seconds=5), sched) == 1
    flip = HealthFlip.objects.get()
    assert (flip.old_status, flip.new_status, flip.stream) == ("new", "ok", "agent_states")
    assert flip.created == T0 + td(seconds=5)
    assert status_of(sched) == "ok"
    assert sched.status_since == T0 + td(seconds=5)


def test_recomputing_when_nothing_changed_writes_nothing(sched):
    record(sched, "ok", T0)
    ev(T0, sched)
    for seconds in (10, 20, 30):
        assert ev(T0 + td(seconds=seconds), sched) == 0
    assert HealthFlip.objects.count() == 1


def test_a_disabled_connection_is_paused_not_late(sched):
    record(sched, "ok", T0)
    ev(T0, sched)
    sched.connection.enabled = False
    sched.connection.save()
    ev(T0 + td(hours=2), sched)
    assert status_of(sched) == "paused"
    assert sched.status_reason == "connection disabled"
    assert not HealthFlip.objects.filter(new_status="late").exists()


def test_the_streams_of_an_inactive_tenant_are_paused_not_late(sched):
    record(sched, "ok", T0)
    ev(T0, sched)
    sched.connection.tenant.active = False
    sched.connection.tenant.save()
    ev(T0 + td(hours=2), sched)
    assert (status_of(sched), sched.status_reason) == ("paused", "tenant inactive")


def test_it_turns_late_when_no_success_within_interval_plus_grace(sched, settings):
    settings.HEALTH_GRACE_SECONDS = {"agent_states": 120}
    record(sched, "ok", T0)
    ev(T0, sched)
    assert ev(T0 + td(seconds=180), sched) == 0  # exactly interval + grace
    assert ev(T0 + td(seconds=181), sched) == 1
    assert status_of(sched) == "late"
    assert sched.status_reason == "last success 2026-03-02 12:00 UTC, expected every 1 min"


def test_grace_is_a_setting_per_stream(conn_a, settings):
    settings.HEALTH_GRACE_SECONDS = {"config": 7200}
    config = make_schedule(conn_a, "config", interval_seconds=3600)
    record(config, "ok", T0)
    ev(T0 + td(hours=2, minutes=59), config)
    assert status_of(config) == "ok"
    ev(T0 + td(hours=3, minutes=1), config)
    assert status_of(config) == "late"


def test_it_turns_failing_after_three_consecutive_failures_and_recovers(sched):
    record(sched, "ok", T0)
    ev(T0, sched)
    for i in (1, 2):
        record(sched, "failed", T0 + td(seconds=10 * i), error="HTTP 503")
        ev(T0 + td(seconds=10 * i + 1), sched)
        assert status_of(sched) == "ok"
    record(sched, "failed", T0 + td(seconds=30), error="HTTP 503")
    ev(T0 + td(seconds=31), sched)
    assert status_of(sched) == "failing"
    assert sched.status_reason == "3 consecutive failures"
    record(sched, "ok", T0 + td(seconds=40))
    ev(T0 + td(seconds=41), sched)
    assert status_of(sched) == "ok"
    assert list(HealthFlip.objects.order_by("created").values_list("old_status", "new_status")) == [
        ("new", "ok"),
        ("ok", "failing"),
        ("failing", "ok"),
    ]


def test_failing_threshold_is_a_setting(sched, settings):
    settings.HEALTH_FAILING_AFTER = 1
    record(sched, "failed", T0, error="boom")
    ev(T0, sched)
    assert status_of(sched) == "failing"


def test_a_refused_credential_is_auth_failed_at_once(sched):
    record(sched, "ok", T0)
    ev(T0, sched)
    record(sched, CollectionRun.AUTH_FAILED, T0 + td(seconds=10), error="401 Unauthorized")
    ev(T0 + td(seconds=11), sched)
    assert status_of(sched) == "auth_failed"
    assert sched.status_reason == "the vendor refused the credentials (AuthError: 401 Unauthorized)"


def test_an_expired_token_makes_the_streams_that_use_it_auth_failed(conn_a, sched):
    drop = make_schedule(conn_a, "file_drop", interval_seconds=900)
    record(sched, "ok", T0)
    AccessToken.objects.create(
        connection=conn_a, section="realtime", issued=date(2025, 3, 1), expires=date(2026, 3, 1)
    )
    ev(T0, sched, drop)
    assert status_of(sched) == "auth_failed"
    assert sched.status_reason == "token expired on 2026-03-01"
    # The FTP drop uses no token: it is late for want of files, not refused.
    assert status_of(drop) == "late"
    assert drop.status_reason == "no file received since 2026-01-31 12:00 UTC"


def test_a_token_expiring_today_is_still_valid_in_the_tenants_zone(conn_a, sched):
    # 02:00 UTC on 2 March is still 1 March in Chicago (the tenant's zone).
    record(sched, "ok", T0.replace(hour=1, minute=59))
    AccessToken.objects.create(
        connection=conn_a, section="realtime", issued=date(2025, 3, 1), expires=date(2026, 3, 1)
    )
    ev(T0.replace(hour=2), sched)
    assert status_of(sched) == "ok"


def test_a_disabled_stream_is_paused(sched):
    record(sched, "ok", T0)
    ev(T0, sched)
    CollectionSchedule.objects.filter(pk=sched.pk).update(enabled=False)
    ev(T0 + td(seconds=5), sched)
    assert status_of(sched) == "paused"


def test_the_drop_is_late_when_no_file_arrived_within_interval_plus_grace(conn_a, settings):
    settings.HEALTH_GRACE_SECONDS = {"file_drop": 600}
    backdate(conn_a, T0 - td(days=1))
    drop = make_schedule(conn_a, "file_drop", interval_seconds=900)
    # The drop records an outcome per file taken (scans that find nothing record none).
    record(drop, "ok", T0)
    ev(T0 + td(minutes=20), drop)
    assert status_of(drop) == "ok"
    ev(T0 + td(minutes=26), drop)
    assert status_of(drop) == "late"
    assert drop.status_reason.startswith("last file received 2026-03-02 12:00 UTC")


def test_a_stream_that_never_succeeded_turns_late_once_overdue(conn_a):
    backdate(conn_a, T0)
    sched = make_schedule(conn_a, "agent_states", interval_seconds=60)
    ev(T0 + td(seconds=100), sched)
    assert status_of(sched) == "new"
    ev(T0 + td(minutes=10), sched)
    assert status_of(sched) == "late"
    assert sched.status_reason == "nothing collected since 2026-03-02 12:00 UTC"


def test_a_run_recorded_by_the_engine_is_judged_at_once_with_one_flip(sched):
    from collectors.runs import record_outcome

    run = make_run(sched.connection, sched.stream, CollectionRun.AUTH_FAILED, T0, error="401")
    run.error_class = "AuthError"
    record_outcome(sched, run, T0)
    assert status_of(sched) == "auth_failed"
    assert ev(T0 + td(seconds=2), sched) == 0
    flip = HealthFlip.objects.get()
    assert (flip.old_status, flip.new_status) == ("new", "auth_failed")


def test_a_connection_is_as_bad_as_its_worst_stream():
    assert health.worst(["ok", "late", "new"]) == "late"
    assert health.worst(["paused", "ok"]) == "paused"
    assert health.worst(["failing", "auth_failed", "late"]) == "auth_failed"
    assert health.worst([]) == "new"


def test_a_stale_evaluation_loses_the_compare_and_set(sched):
    record(sched, "ok", T0)
    first = health.annotated().get(pk=sched.pk)
    second = health.annotated().get(pk=sched.pk)
    verdict = health.evaluate(first, T0)
    assert health.apply(first, verdict, T0) is not None
    assert health.apply(second, health.evaluate(second, T0), T0) is None
    assert HealthFlip.objects.count() == 1
