"""The Celery task: thin, late-acknowledged, time-limited, retried only for transient errors."""

from __future__ import annotations

from datetime import timedelta as td
from unittest import mock

import pytest
from celery.exceptions import Retry

from collectors import tasks
from collectors.dispatch import dispatch_due
from collectors.models import CollectionRun, CollectionSchedule
from integrations.vendors.errors import AuthError, TransientError
from tests.collectors.enginekit import T0, schedule_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake")]
NOW = T0 + td(minutes=1, seconds=2)


def test_the_task_is_acknowledged_late_and_rejected_if_its_worker_dies():
    task = tasks.collect
    assert task.acks_late is True
    assert task.reject_on_worker_lost is True
    assert task.soft_time_limit < task.time_limit
    assert task.name == "collectors.tasks.collect"


def claim(stream):
    CollectionSchedule.objects.update(next_run_at=NOW)
    claims = []
    dispatch_due(NOW, enqueue=claims.append)
    return next(c for c in claims if c.stream == stream)


def call(claim_):
    return tasks.collect.run(
        claim_.schedule_id,
        claim_.window_start.isoformat(),
        claim_.window_end.isoformat(),
        lease_id=claim_.lease_id,
    )


def test_it_runs_the_claimed_collection(eight):
    assert call(claim("config")) == "ok"
    assert CollectionRun.objects.get().status == "ok"


def test_a_transient_error_retries_with_the_computed_countdown(eight, fake):
    fake.error = TransientError("429 Too Many Requests", retry_after=120)
    c = claim("volume")
    with mock.patch.object(tasks.collect, "retry", side_effect=Retry) as retry, pytest.raises(Retry):
        call(c)
    assert retry.call_args.kwargs["countdown"] == 120
    # Its own expiry: the first try's (QUEUE_GRACE_SECONDS after sending) would lapse before it.
    assert retry.call_args.kwargs["expires"] == 120 + 180
    assert CollectionRun.objects.get().status == CollectionRun.RETRYING


def test_an_agent_state_retry_keeps_the_polls_expiry(eight, fake):
    fake.error = TransientError("503 Service Unavailable", retry_after=5)
    c = claim("agent_states")
    with mock.patch.object(tasks.collect, "retry", side_effect=Retry) as retry, pytest.raises(Retry):
        call(c)
    assert "expires" not in retry.call_args.kwargs


def test_an_auth_error_is_not_retried(eight, fake):
    fake.error = AuthError("401")
    c = claim("config")
    with mock.patch.object(tasks.collect, "retry", side_effect=Retry) as retry:
        assert call(c) == "auth_failed"
    retry.assert_not_called()
    assert schedule_of(eight, "config").status == "auth_failed"


def test_a_task_for_a_deleted_schedule_does_nothing(eight):
    c = claim("config")
    CollectionSchedule.objects.filter(pk=c.schedule_id).delete()
    assert call(c) == "schedule gone"
