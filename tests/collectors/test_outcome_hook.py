"""Health reads outcomes: the engine stores them and announces them on one hook
(`collectors.runs.outcome_recorded`); it never calls the health monitor itself."""

from __future__ import annotations

from datetime import timedelta as td

import pytest

from collectors import health
from collectors.models import CollectionSchedule
from collectors.runs import outcome_recorded, run_collection
from integrations.vendors.errors import TransientError
from tests.collectors.enginekit import T0, schedule_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake")]
NOW = T0 + td(minutes=7)


@pytest.fixture
def unheard():
    """The health monitor's hook disconnected: runs store outcomes and nothing judges them."""
    outcome_recorded.disconnect(dispatch_uid="collectors.health.on_outcome")
    yield
    outcome_recorded.connect(health.on_outcome, dispatch_uid="collectors.health.on_outcome")


def test_a_failed_run_announces_its_outcome_on_the_hook(eight, fake):
    heard = []

    def listen(sender, schedule, run, now, **kwargs):
        heard.append((schedule.stream, run.status, now))

    outcome_recorded.connect(listen)
    try:
        fake.error = TransientError("timed out")
        run_collection(schedule_of(eight, "volume"), now=NOW, attempt=5)
    finally:
        outcome_recorded.disconnect(listen)
    assert [(stream, status) for stream, status, _ in heard] == [("volume", "failed")]


def test_without_the_hook_the_periodic_pass_judges_the_stored_outcomes(eight, fake, settings, unheard):
    settings.HEALTH_FAILING_AFTER = 1
    fake.error = TransientError("timed out")
    run_collection(schedule_of(eight, "volume"), now=NOW, attempt=5)
    stored = schedule_of(eight, "volume")
    assert (stored.status, stored.consecutive_failures) == ("new", 1)
    health.evaluate_all(NOW + td(seconds=1), CollectionSchedule.objects.filter(pk=stored.pk))
    assert schedule_of(eight, "volume").status == "failing"
