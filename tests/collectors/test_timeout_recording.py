"""What the worker's parent records when Celery kills a run at its hard time limit.

Celery calls the task's `on_failure` with TimeLimitExceeded in the parent process (the
prefork child is gone); these tests call it the same way. The real kill, on a prefork worker
and Redis, is tests/collectors/test_time_limits.py.
"""

from __future__ import annotations

from datetime import timedelta as td

import pytest
from celery.exceptions import TimeLimitExceeded
from django.utils import timezone

from collectors.models import CollectionRun, CollectionSchedule
from collectors.runs import take_lease
from collectors.tasks import collect
from tests.conftest import make_connection

pytestmark = pytest.mark.django_db


def killed(
    schedule: CollectionSchedule, lease_id: str, task_id: str = "collect:1:slot", limit: int = 90
) -> None:
    start = timezone.now().replace(microsecond=0)
    args = (schedule.pk, start.isoformat(), (start + td(seconds=30)).isoformat())
    collect.on_failure(TimeLimitExceeded(limit), task_id, args, {"lease_id": lease_id}, None)


def running_run(schedule: CollectionSchedule, task_id: str) -> CollectionRun:
    return CollectionRun.objects.create(
        connection_id=schedule.connection_id,
        stream=schedule.stream,
        started_at=timezone.now(),
        task_id=task_id,
    )


@pytest.fixture
def states(eight) -> CollectionSchedule:
    return CollectionSchedule.objects.get(connection=eight, stream="agent_states")


def test_the_killed_run_is_recorded_timed_out_and_its_lease_ended(states):
    lease = take_lease(states, timezone.now())
    run = running_run(states, "collect:1:slot")
    killed(states, lease)
    run.refresh_from_db()
    assert (run.status, run.error_class) == (CollectionRun.TIMED_OUT, "TimeLimitExceeded")
    assert run.error_message == "killed at its hard time limit (90 s)" and run.finished_at
    states.refresh_from_db()
    assert (states.lease_id, states.lease_until, states.consecutive_failures) == ("", None, 1)


def test_celery_reporting_the_same_kill_twice_counts_one_failure(states):
    lease = take_lease(states, timezone.now())
    running_run(states, "collect:1:slot")
    killed(states, lease)
    killed(states, lease)
    assert CollectionRun.objects.filter(status=CollectionRun.TIMED_OUT).count() == 1
    states.refresh_from_db()
    assert states.consecutive_failures == 1


def test_a_run_killed_before_it_wrote_its_row_is_recorded_all_the_same(states):
    lease = take_lease(states, timezone.now())
    killed(states, lease, task_id="collect:9:early")
    [run] = CollectionRun.objects.filter(connection_id=states.connection_id)
    assert (run.status, run.task_id, run.stream) == (
        CollectionRun.TIMED_OUT,
        "collect:9:early",
        "agent_states",
    )
    assert run.window_start is not None and run.window_end - run.window_start == td(seconds=30)
    assert run.lease_id == lease
    states.refresh_from_db()
    assert states.lease_id == ""


def test_it_never_ends_a_lease_another_run_holds_now(states):
    """The killed run's lease had lapsed and another run took the stream: that run keeps it."""
    take_lease(states, timezone.now())
    CollectionSchedule.objects.filter(pk=states.pk).update(lease_id="someone-else")
    running_run(states, "collect:1:slot")
    killed(states, "the-lapsed-lease")
    states.refresh_from_db()
    assert states.lease_id == "someone-else" and states.lease_until is not None


def test_it_touches_only_the_killed_tasks_run_not_another_connections(states, tenant_b):
    other = make_connection(tenant_b, "8x8", "theirs")
    theirs = CollectionSchedule.objects.get(connection=other, stream="agent_states")
    their_run = running_run(theirs, "collect:1:slot")  # the same task id, another tenant's stream
    lease = take_lease(states, timezone.now())
    mine = running_run(states, "collect:1:slot")
    killed(states, lease)
    their_run.refresh_from_db()
    mine.refresh_from_db()
    assert (mine.status, their_run.status) == (CollectionRun.TIMED_OUT, CollectionRun.RUNNING)


def test_any_other_failure_is_left_to_the_run_itself(states):
    lease = take_lease(states, timezone.now())
    run = running_run(states, "collect:1:slot")
    start = timezone.now().isoformat()
    collect.on_failure(
        RuntimeError("boom"), "collect:1:slot", (states.pk, start, start), {"lease_id": lease}, None
    )
    run.refresh_from_db()
    assert run.status == CollectionRun.RUNNING
    states.refresh_from_db()
    assert states.lease_id == lease


def test_a_run_stopped_by_its_soft_limit_records_itself_timed_out(states, fake):
    from celery.exceptions import SoftTimeLimitExceeded

    from collectors.runs import run_collection

    fake.error = SoftTimeLimitExceeded()
    lease = take_lease(states, timezone.now())
    result = run_collection(states, lease_id=lease)
    assert result.run.status == CollectionRun.TIMED_OUT
    assert (result.run.error_class, result.run.error_message) == (
        "TimeoutError",
        "the run exceeded its soft time limit",
    )
    states.refresh_from_db()
    assert (states.lease_id, states.consecutive_failures) == ("", 1)
