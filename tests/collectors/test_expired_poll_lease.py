"""An agent-state poll whose task expired unstarted gives its stream back one interval later."""

from __future__ import annotations

from datetime import timedelta as td

import pytest

from collectors.dispatch import dispatch_due
from collectors.models import CollectionSchedule
from collectors.runs import CLAIM_MARGIN_SECONDS
from tests.collectors.enginekit import T0, execute, schedule_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake")]
NOW = T0 + td(minutes=1, seconds=2)


@pytest.fixture(autouse=True)
def _due_now(eight):
    CollectionSchedule.objects.update(next_run_at=NOW - td(seconds=1), lease_until=None, lease_id="")


def poll_claim(now):
    claims = []
    dispatch_due(now, enqueue=claims.append)
    return next((c for c in claims if c.stream == "agent_states"), None)


def test_an_expired_polls_claim_lapses_just_after_its_expiry_and_the_next_slot_is_dispatched(eight):
    claim = poll_claim(NOW)
    interval = claim.interval_seconds
    assert claim.options()["expires"] == interval
    # The task expired in the queue: no worker ever started it. Until the claim lapses the
    # stream is not sent again, since a worker might still be about to start it.
    assert poll_claim(NOW + td(seconds=interval)) is None
    lapsed = NOW + td(seconds=interval + CLAIM_MARGIN_SECONDS + 1)
    again = poll_claim(lapsed)
    assert again is not None
    assert again.lease_id != claim.lease_id
    assert again.window_start > claim.window_start


def test_a_poll_started_just_before_its_expiry_runs_and_then_frees_its_stream(eight):
    claim = poll_claim(NOW)
    result = execute(claim, NOW + td(seconds=claim.interval_seconds - 1))
    assert result.run is not None and result.run.status == "ok"
    assert schedule_of(eight, "agent_states").lease_id == ""  # finished: free again


def test_a_poll_waiting_to_retry_holds_its_stream_only_until_the_retry_is_due(eight, fake):
    from integrations.vendors.errors import TransientError

    claim = poll_claim(NOW)
    fake.error = TransientError("503")
    result = execute(claim, NOW)
    assert result.retry_in is not None and result.retry_in < claim.interval_seconds
    held = schedule_of(eight, "agent_states")
    assert held.lease_id == claim.lease_id
    assert held.lease_until == NOW + td(seconds=result.retry_in + CLAIM_MARGIN_SECONDS)
    # The retry keeps the first try's expiry: if it never starts, the next slot goes out
    # once the hold lapses, not after the two-minute running lease.
    CollectionSchedule.objects.update(next_run_at=NOW)  # due by the clock throughout
    assert poll_claim(held.lease_until - td(seconds=1)) is None
    again = poll_claim(held.lease_until + td(seconds=1))
    assert again is not None and again.lease_id != claim.lease_id
