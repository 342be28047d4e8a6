"""Recovery from killed workers and lost broker messages: runs are closed, streams freed soon.

A history or configuration run left `running` by a killed worker is closed as `abandoned`
by the health pass once its lease expired (a poll writes its run row only when it ends, so
a killed poll leaves none); a history or configuration message lost with the broker (a Redis
restart) frees its stream within minutes (the task expires, the claim lapses just after);
a killed worker's agent-state stream is polled again within one interval plus a short grace.
"""

from __future__ import annotations

from datetime import timedelta as td
from unittest import mock

import pytest

from collectors import runs
from collectors.conf import app_settings
from collectors.dispatch import dispatch_due
from collectors.health import evaluate_all
from collectors.models import CollectionRun, CollectionSchedule
from tests.collectors.enginekit import T0, execute, schedule_of
from tests.conftest import make_connection

pytestmark = pytest.mark.django_db
NOW = T0 + td(minutes=1, seconds=2)


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs, no handler catches it."""


def claims_at(now):
    claims = []
    dispatch_due(now, enqueue=claims.append)
    return {c.stream: c for c in claims}


def kill_mid_fetch(fake, stream):
    """The worker dies inside the vendor call: the run row stays `running`."""
    method = {"volume": "fetch_volume", "config": "fetch_config", "agent_states": "fetch_agent_states"}[
        stream
    ]
    return mock.patch.object(fake, method, side_effect=Killed)


@pytest.mark.parametrize("stream", ["volume", "config"])
def test_a_run_left_running_by_a_killed_worker_is_closed_as_abandoned_once_its_lease_expires(
    eight, fake, tenant_b, stream
):
    CollectionSchedule.objects.update(next_run_at=NOW)
    claim = claims_at(NOW)[stream]
    with kill_mid_fetch(fake, stream), pytest.raises(Killed):
        execute(claim, NOW)
    orphan = CollectionRun.objects.get(connection=eight, stream=stream)
    assert orphan.status == CollectionRun.RUNNING
    assert orphan.lease_id == claim.lease_id
    # Another tenant's run, healthy and in progress, is never touched.
    other = make_connection(tenant_b, "8x8", "bolt-eight")
    busy = CollectionSchedule.objects.get(connection=other, stream=stream)
    CollectionSchedule.objects.filter(pk=busy.pk).update(next_run_at=NOW)
    busy_claim = claims_at(NOW)[stream]
    assert busy_claim.schedule_id == busy.pk
    running = CollectionRun.objects.create(
        connection=other, stream=stream, started_at=NOW, lease_id=busy_claim.lease_id
    )
    runs.confirm_lease(busy.pk, busy_claim.lease_id, stream, NOW, busy.interval_seconds)
    lease_until = schedule_of(eight, stream).lease_until
    CollectionSchedule.objects.filter(pk=busy.pk).update(lease_until=lease_until + td(hours=1))

    evaluate_all(lease_until - td(seconds=1))
    orphan.refresh_from_db()
    assert orphan.status == CollectionRun.RUNNING  # the lease still holds: it may be alive

    evaluate_all(lease_until)
    orphan.refresh_from_db()
    assert (orphan.status, orphan.finished_at, orphan.error_class) == (
        CollectionRun.ABANDONED,
        lease_until,
        "WorkerLost",
    )
    assert "stopped before it finished" in orphan.error_message
    running.refresh_from_db()
    assert running.status == CollectionRun.RUNNING


def test_a_run_whose_stream_was_claimed_again_is_abandoned_even_while_the_new_lease_holds(eight, fake):
    CollectionSchedule.objects.update(next_run_at=NOW)
    first = claims_at(NOW)["volume"]
    with kill_mid_fetch(fake, "volume"), pytest.raises(Killed):
        execute(first, NOW)
    after = schedule_of(eight, "volume").lease_until + td(seconds=1)
    CollectionSchedule.objects.update(next_run_at=after)
    second = claims_at(after)["volume"]
    evaluate_all(after)  # the new claim's lease holds, but it is not the orphan's
    statuses = dict(CollectionRun.objects.values_list("lease_id", "status"))
    assert statuses == {first.lease_id: CollectionRun.ABANDONED}
    assert execute(second, after).run.status == CollectionRun.OK


@pytest.mark.parametrize("stream", ["volume", "config"])
def test_a_history_or_config_message_lost_with_the_broker_frees_its_stream_within_minutes(
    eight, fake, stream
):
    CollectionSchedule.objects.update(next_run_at=NOW)
    claim = claims_at(NOW)[stream]
    # The task expires once it has waited QUEUE_GRACE_SECONDS, and the claim lapses just after.
    assert claim.options()["expires"] == app_settings.QUEUE_GRACE_SECONDS
    # The message is lost (Redis restarted): no worker ever starts the run.
    CollectionSchedule.objects.update(next_run_at=NOW)  # due by the clock throughout
    freed = NOW + td(seconds=app_settings.QUEUE_GRACE_SECONDS + runs.CLAIM_MARGIN_SECONDS)
    assert stream not in claims_at(freed - td(seconds=1))
    again = claims_at(freed + td(seconds=1))[stream]
    assert again.lease_id != claim.lease_id
    assert freed - NOW <= td(minutes=4)
    assert execute(again, freed + td(seconds=1)).run.status == CollectionRun.OK


def test_a_history_retry_gets_its_own_expiry_and_a_lost_retry_frees_the_stream_soon_after(eight, fake):
    from integrations.vendors.errors import TransientError

    CollectionSchedule.objects.update(next_run_at=NOW)
    claim = claims_at(NOW)["volume"]
    fake.error = TransientError("503")
    result = execute(claim, NOW)
    assert result.retry_expires == result.retry_in + app_settings.QUEUE_GRACE_SECONDS
    held = schedule_of(eight, "volume").lease_until
    assert held == NOW + td(seconds=result.retry_expires + runs.CLAIM_MARGIN_SECONDS)
    CollectionSchedule.objects.update(next_run_at=NOW)
    assert "volume" not in claims_at(held - td(seconds=1))
    assert "volume" in claims_at(held + td(seconds=1))


def test_a_killed_agent_state_workers_stream_is_polled_again_within_one_interval_and_a_short_grace(
    eight, fake
):
    CollectionSchedule.objects.update(next_run_at=NOW)
    claim = claims_at(NOW)["agent_states"]
    interval = claim.interval_seconds
    soft, hard = claim.options()["soft_time_limit"], claim.options()["time_limit"]
    grace = app_settings.AGENT_STATES_GRACE_SECONDS
    # The poll cannot outlive its lease: it is stopped a second before the lease lapses.
    assert soft < hard < interval + grace
    started = NOW + td(seconds=1)
    with kill_mid_fetch(fake, "agent_states"), pytest.raises(Killed):
        execute(claim, started)
    CollectionSchedule.objects.update(next_run_at=NOW)  # due by the clock throughout
    resumes = started + td(seconds=interval + grace)
    assert "agent_states" not in claims_at(resumes - td(seconds=1))
    again = claims_at(resumes)["agent_states"]
    assert again.lease_id != claim.lease_id
    assert resumes - started == td(seconds=40)  # a 30 s poll: not the 150 s of the old lease
    # The killed poll left no run row behind (a poll writes it when it ends).
    assert not CollectionRun.objects.filter(connection=eight, stream="agent_states").exists()
    assert execute(again, resumes).run.status == CollectionRun.OK
