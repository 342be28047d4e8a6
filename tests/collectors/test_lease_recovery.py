"""A killed worker: its lease holds the stream until it expires, then the window is re-collected once."""

from __future__ import annotations

from datetime import timedelta as td
from unittest import mock

import pytest

from collectors import runs
from collectors.dispatch import dispatch_due
from collectors.models import CollectionRun, CollectionSchedule, IntervalVolume
from tests.collectors.enginekit import QUEUES, T0, execute, schedule_of

pytestmark = pytest.mark.django_db
NOW = T0 + td(minutes=1, seconds=2)


def claims_at(now):
    claims = []
    dispatch_due(now, enqueue=claims.append)
    return {c.stream: c for c in claims}


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs, no handler catches it."""


def test_a_killed_workers_window_is_recollected_after_the_lease_expires_without_duplicates(eight, fake):
    CollectionSchedule.objects.update(next_run_at=NOW)
    first = claims_at(NOW)["volume"]
    # The worker commits the data, then dies before it can record the outcome and free the lease.
    with mock.patch.object(runs, "record_outcome", side_effect=Killed), pytest.raises(Killed):
        execute(first, NOW)
    rows = IntervalVolume.objects.count()
    assert rows == 96 * len(QUEUES)
    lease_until = schedule_of(eight, "volume").lease_until
    assert lease_until is not None

    # While the lease holds, the stream is not started again, although it is due.
    CollectionSchedule.objects.update(next_run_at=NOW)
    assert "volume" not in claims_at(lease_until - td(seconds=1))
    # Once it has expired, the next tick runs the stream again.
    after = lease_until + td(seconds=1)
    second = claims_at(after)["volume"]
    result = execute(second, after)
    assert result.run.status == CollectionRun.OK
    assert IntervalVolume.objects.filter(interval_start__lt=T0).count() == rows
    assert result.run.rows_updated == 0
    dupes = IntervalVolume.objects.values("queue", "interval_start").distinct().count()
    assert dupes == IntervalVolume.objects.count()
    schedule = schedule_of(eight, "volume")
    assert (schedule.lease_until, schedule.lease_id) == (None, "")


def test_a_redelivered_task_whose_stream_was_claimed_again_does_nothing(eight, fake):
    CollectionSchedule.objects.update(next_run_at=NOW)
    stale = claims_at(NOW)["volume"]
    after = schedule_of(eight, "volume").lease_until + td(seconds=1)
    CollectionSchedule.objects.update(next_run_at=after)  # the lease now lapses before the next slot
    fresh = claims_at(after)["volume"]
    assert fresh.lease_id != stale.lease_id
    result = execute(stale, after)  # the broker redelivers the dead worker's message (acks_late)
    assert result.run is None
    assert "no longer held" in result.skipped
    assert not CollectionRun.objects.exists()
    assert fake.calls == []
    assert execute(fresh, after).run.status == CollectionRun.OK


def test_a_finished_run_frees_its_lease_so_the_next_tick_can_claim_the_stream(eight, fake):
    CollectionSchedule.objects.update(next_run_at=NOW)
    states = claims_at(NOW)["agent_states"]
    execute(states, NOW)
    schedule = schedule_of(eight, "agent_states")
    assert (schedule.lease_until, schedule.lease_id) == (None, "")
    assert "agent_states" in claims_at(schedule.next_run_at)


def test_a_run_waiting_to_retry_keeps_the_stream_leased(eight, fake):
    from integrations.vendors.errors import TransientError

    CollectionSchedule.objects.update(next_run_at=NOW)
    claim = claims_at(NOW)["volume"]
    fake.error = TransientError("503")
    result = execute(claim, NOW)
    assert result.retry_in is not None
    schedule = schedule_of(eight, "volume")
    assert schedule.lease_id == claim.lease_id
    assert schedule.lease_until > NOW + td(seconds=result.retry_in)
    CollectionSchedule.objects.update(next_run_at=NOW)
    assert "volume" not in claims_at(NOW + td(seconds=result.retry_in))
    fake.error = None
    assert execute(claim, NOW + td(seconds=result.retry_in)).run.status == CollectionRun.OK


def test_a_message_that_got_through_a_batch_reported_failed_does_nothing_and_the_resend_runs(eight, fake):
    # A Redis pipeline whose write failed counts its whole batch as unsent and the batch is
    # released, although some messages may have reached the broker. Such a message must not
    # collect its window: the re-sent one does, once.
    CollectionSchedule.objects.update(next_run_at=NOW)
    delivered = []

    def reached_redis_but_reported_failed(claims, enqueue=None):
        delivered.extend(claims)
        return 0

    with mock.patch("collectors.dispatch.publish_batch", reached_redis_but_reported_failed):
        assert dispatch_due(NOW) == 0
    assert not CollectionSchedule.objects.exclude(lease_id="").exists()
    stale = next(c for c in delivered if c.stream == "volume")
    later = NOW + td(seconds=5)
    assert execute(stale, later).run is None  # before the next tick: the lease was released
    resent = claims_at(later)["volume"]
    assert resent.task_id == stale.task_id  # the same window, under a new lease
    result = execute(stale, later)  # after it: the lease is someone else's
    assert result.run is None and "no longer held" in result.skipped
    assert fake.calls == []
    assert execute(resent, later).run.status == CollectionRun.OK
    assert CollectionRun.objects.count() == 1
