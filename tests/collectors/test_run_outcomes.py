"""How a run ends: ok, auth failed, transient (retried), bad data; always recorded, never a secret."""

from __future__ import annotations

import logging
from datetime import timedelta as td

import pytest
from django.test import override_settings

from collectors.models import CollectionRun, Cursor, IntervalVolume
from collectors.runs import retry_delay, run_collection
from integrations.vendors.errors import AuthError, DataError, TransientError
from integrations.vendors.records import IntervalRecord
from tests.collectors.enginekit import SECRET, T0, schedule_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake")]
NOW = T0 + td(minutes=7)


def volume_run(conn, now=NOW, **kwargs):
    return run_collection(schedule_of(conn, "volume"), now=now, **kwargs)


def test_a_successful_run_is_recorded_and_marks_the_stream_ok(eight):
    result = volume_run(eight, task_id="collect:1:x")
    run = result.run
    assert (run.status, run.task_id, run.finished_at is not None) == (CollectionRun.OK, "collect:1:x", True)
    schedule = schedule_of(eight, "volume")
    assert (schedule.status, schedule.consecutive_failures, schedule.last_error) == ("ok", 0, "")
    assert schedule.last_success_at == schedule.last_run_at == run.finished_at
    assert result.retry_in is None


def test_an_auth_error_is_not_retried_and_marks_the_stream_auth_failed(eight, fake):
    fake.error = AuthError(f"401 Unauthorized: Bearer {SECRET} rejected")
    result = volume_run(eight, attempt=0)
    assert result.retry_in is None
    assert result.run.status == CollectionRun.AUTH_FAILED
    schedule = schedule_of(eight, "volume")
    assert schedule.status == "auth_failed"
    assert schedule.status_since is not None
    assert schedule.consecutive_failures == 1
    assert SECRET not in schedule.last_error + schedule.status_reason + result.run.error_message
    assert "401 Unauthorized" in schedule.status_reason


def test_a_transient_error_is_retried_with_backoff_and_counts_as_a_failure(eight, fake):
    fake.error = TransientError("timed out")
    result = volume_run(eight, attempt=0, lease_id="")
    assert result.run.status == CollectionRun.RETRYING
    assert 7.5 <= result.retry_in <= 15
    assert "retry 1 of 5" in result.run.notes
    assert schedule_of(eight, "volume").consecutive_failures == 1
    assert schedule_of(eight, "volume").status == "new"  # judging failures is the health monitor's job


def test_the_last_allowed_attempt_fails_for_good(eight, fake):
    fake.error = TransientError("timed out")
    result = volume_run(eight, attempt=5)
    assert result.retry_in is None
    assert result.run.status == CollectionRun.FAILED


@override_settings(COLLECT_RETRY_BASE_SECONDS=10, COLLECT_RETRY_MAX_SECONDS=100)
def test_backoff_grows_exponentially_with_jitter_honours_retry_after_and_is_capped(eight):
    schedule = schedule_of(eight, "volume")
    delays = [retry_delay(TransientError("x"), attempt, schedule) for attempt in range(5)]
    for attempt, delay in enumerate(delays):
        ceiling = min(100, 10 * 2**attempt)
        assert ceiling / 2 <= delay <= ceiling
    assert retry_delay(TransientError("429", retry_after=80), 0, schedule) == 80


@override_settings(COLLECT_RETRY_MAX_SECONDS=100)
def test_a_retry_after_longer_than_the_ceiling_is_left_to_the_next_dispatch(eight):
    # A countdown that long could outlive the broker's visibility timeout and be delivered twice.
    assert retry_delay(TransientError("429", retry_after=240), 0, schedule_of(eight, "volume")) is None


def test_an_agent_state_poll_is_not_retried_past_its_next_poll(eight):
    schedule = schedule_of(eight, "agent_states")  # every 30 s
    assert retry_delay(TransientError("429", retry_after=45), 0, schedule) is None
    assert retry_delay(TransientError("timed out"), 0, schedule) <= 15


def test_bad_data_fails_the_run_naming_the_field_writes_nothing_and_leaves_the_cursor(eight, fake):
    volume_run(eight)
    position = Cursor.objects.get(connection=eight).position
    count = IntervalVolume.objects.count()
    fake.revision = 5  # would update rows, but one record is bad: none may be written
    fake.extra = [
        IntervalRecord("sales", position - td(minutes=15), entered=-4, abandoned=0, handle_seconds=0)
    ]
    run = volume_run(eight, now=NOW + td(minutes=15)).run
    assert run.status == CollectionRun.FAILED
    assert run.error_class == "DataError"
    assert "entered -4 of queue 'sales'" in run.error_message
    assert "entered=-4" in run.payload_sample
    assert Cursor.objects.get(connection=eight).position == position
    assert IntervalVolume.objects.count() == count
    assert not IntervalVolume.objects.filter(entered__gte=50).exists()


def test_no_secret_reaches_the_run_record_the_schedule_or_the_log(eight, fake, caplog):
    fake.error = DataError(
        f"cannot parse reply to token={SECRET}", sample=f'{{"apiKey": "{SECRET}", "rows": [1]}}'
    )
    with caplog.at_level(logging.DEBUG):
        run = volume_run(eight).run
        fake.error = RuntimeError(f"crashed holding {SECRET}")
        crashed = volume_run(eight, now=NOW + td(minutes=1)).run
    stored = [
        run.error_message,
        run.payload_sample,
        crashed.error_message,
        schedule_of(eight, "volume").last_error,
    ]
    assert all(SECRET not in text for text in stored)
    assert '"rows": [1]' in run.payload_sample
    assert "[redacted]" in crashed.error_message
    assert SECRET not in caplog.text
    assert "crashed" in caplog.text


def test_a_crash_is_recorded_as_a_failed_run_not_raised(eight, fake):
    fake.error = ZeroDivisionError("boom")
    run = volume_run(eight).run
    assert (run.status, run.error_class, run.error_message) == (
        CollectionRun.FAILED,
        "ZeroDivisionError",
        "boom",
    )


def test_a_paused_stream_keeps_its_status_when_a_run_by_hand_succeeds(eight):
    schedule = schedule_of(eight, "volume")
    schedule.enabled, schedule.status = False, "paused"
    schedule.save()
    volume_run(eight)
    schedule.refresh_from_db()
    assert schedule.status == "paused"
    assert schedule.last_success_at is not None
