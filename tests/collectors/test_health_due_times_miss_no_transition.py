"""Over days of runs, failures, a token expiring across a clock change and streams falling
silent, the pass that reads only due streams leaves every stream exactly as judging all of
them would: no transition is missed or late."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime
from datetime import timedelta as td

import pytest

from collectors import health
from collectors.models import CollectionRun, CollectionSchedule, HealthFlip
from collectors.runs import record_outcome
from integrations.models import Tenant
from tests.collectors.healthkit import backdate, make_run, make_schedule
from tests.conftest import make_connection
from tokens.models import AccessToken

pytestmark = pytest.mark.django_db

# Santiago skips the midnight of 2026-09-06 (00:00 -> 01:00): that day starts at 04:00 UTC.
START = datetime(2026, 9, 3, 0, 0, tzinfo=UTC)
SANTIAGO_DAY_START = datetime(2026, 9, 6, 4, 0, tzinfo=UTC)
STEP_SECONDS = 1800  # a run and a pass every half hour (the streams' interval too)


@pytest.mark.parametrize(
    ("zone", "day", "first_instant"),
    [
        ("America/Santiago", date(2026, 9, 6), SANTIAGO_DAY_START),  # midnight skipped
        ("America/Havana", date(2026, 11, 1), datetime(2026, 11, 1, 4, 0, tzinfo=UTC)),  # midnight twice
        ("America/Chicago", date(2026, 3, 8), datetime(2026, 3, 8, 6, 0, tzinfo=UTC)),  # change at 02:00
        ("Europe/London", date(2026, 3, 29), datetime(2026, 3, 29, 0, 0, tzinfo=UTC)),
    ],
)
def test_a_tenant_day_starts_at_its_first_instant_across_clock_changes(zone, day, first_instant):
    tz = zoneinfo.ZoneInfo(zone)
    assert health.day_start(day, tz) == first_instant
    assert first_instant.astimezone(tz).date() == day
    assert (first_instant - td(microseconds=1)).astimezone(tz).date() < day


def outcome(schedule: CollectionSchedule, status: str, at: datetime) -> None:
    """A finished run stored as the engine stores it (judged at once unless a success on `ok`)."""
    run = make_run(schedule.connection, schedule.stream, status, at)
    if status != CollectionRun.OK:
        run.error_class = "TransientError"
    record_outcome(CollectionSchedule.objects.get(pk=schedule.pk), run, at)


def assert_a_full_judgement_changes_nothing(now: datetime) -> None:
    schedules = list(health.annotated())
    tokens = health.token_expiries({s.connection_id for s in schedules})
    wrong = [
        (s.connection.name, s.stream, s.status, verdict.status)
        for s in schedules
        if (verdict := health.evaluate(s, now, tokens.get(s.connection_id, ()))).status != s.status
    ]
    assert wrong == [], now


def test_the_due_pass_agrees_with_a_full_judgement_at_every_step(settings):
    settings.HEALTH_AUTOPAUSE_FAILURES = 5
    settings.HEALTH_AUTOPAUSE_SECONDS = 6 * 3600
    settings.HEALTH_GRACE_SECONDS = {"agent_states": 120, "volume": 1800, "config": 3600}
    santiago = Tenant.objects.create(name="Sur", slug="sur", time_zone="America/Santiago")
    token_conn = make_connection(santiago, "tcn", "tokened")
    quiet_conn = make_connection(santiago, "8x8", "quiet")
    broken_conn = make_connection(santiago, "nextiva", "broken")
    for conn in (token_conn, quiet_conn, broken_conn):
        backdate(conn, START - td(days=1))
    AccessToken.objects.create(
        connection=token_conn, section="realtime", issued=date(2025, 9, 5), expires=date(2026, 9, 5)
    )
    polled = make_schedule(token_conn, "agent_states", interval_seconds=STEP_SECONDS)
    silent = make_schedule(quiet_conn, "agent_states", interval_seconds=STEP_SECONDS)
    failing = make_schedule(broken_conn, "agent_states", interval_seconds=STEP_SECONDS)
    health.evaluate_all(START)

    now = START
    while now < START + td(days=3, hours=6):
        outcome(polled, CollectionRun.OK, now)  # polls well throughout: only the token fails it
        if now < START + td(days=1, hours=3):
            outcome(silent, CollectionRun.OK, now)  # then falls silent: late
        outcome(failing, CollectionRun.OK if now < START + td(days=2) else CollectionRun.FAILED, now)
        health.evaluate_all(now)
        assert_a_full_judgement_changes_nothing(now)
        now += td(seconds=STEP_SECONDS)

    flips = set(HealthFlip.objects.values_list("connection__name", "stream", "new_status"))
    assert {
        ("tokened", "agent_states", "auth_failed"),
        ("quiet", "agent_states", "late"),
        ("broken", "agent_states", "failing"),
        ("broken", "agent_states", "paused"),
    } <= flips
    turned = HealthFlip.objects.get(connection=token_conn, stream="agent_states", new_status="auth_failed")
    assert td(0) <= turned.created - SANTIAGO_DAY_START < td(seconds=STEP_SECONDS)  # the day's first pass


def test_the_token_of_a_day_whose_midnight_is_skipped_fails_at_that_days_first_instant(settings):
    santiago = Tenant.objects.create(name="Sur", slug="sur", time_zone="America/Santiago")
    conn = make_connection(santiago, "tcn", "tokened")
    backdate(conn, START - td(days=1))
    AccessToken.objects.create(
        connection=conn, section="realtime", issued=date(2025, 9, 5), expires=date(2026, 9, 5)
    )
    polled = make_schedule(conn, "agent_states", interval_seconds=10 * 86400)
    outcome(polled, CollectionRun.OK, START)
    health.evaluate_all(START)
    polled.refresh_from_db()
    assert polled.health_due_at == SANTIAGO_DAY_START
    health.evaluate_all(SANTIAGO_DAY_START - td(microseconds=1))
    polled.refresh_from_db()
    assert polled.status == "ok"
    health.evaluate_all(SANTIAGO_DAY_START)
    polled.refresh_from_db()
    assert polled.status == "auth_failed"
