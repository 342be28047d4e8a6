"""What a run's outcome asks of the health monitor: a success on a healthy stream, nothing."""

from __future__ import annotations

from datetime import timedelta as td

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext

from collectors.models import CollectionSchedule, HealthFlip
from collectors.runs import run_collection
from integrations.vendors.errors import TransientError
from tests.collectors.enginekit import T0, schedule_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake")]
NOW = T0 + td(minutes=7)


def health_queries(queries: CaptureQueriesContext) -> list[str]:
    """The health pass's reads: the annotated schedule (it alone sub-selects the run table)."""
    return [q["sql"] for q in queries.captured_queries if "streak_started" in q["sql"] or "U0" in q["sql"]]


def test_a_success_on_a_stream_already_ok_skips_the_health_pass(eight):
    run_collection(schedule_of(eight, "volume"), now=NOW)
    assert schedule_of(eight, "volume").status == "ok"
    flips = HealthFlip.objects.count()
    with CaptureQueriesContext(db) as queries:
        run_collection(schedule_of(eight, "volume"), now=NOW + td(minutes=15))
    assert health_queries(queries) == []
    schedule = schedule_of(eight, "volume")
    assert (schedule.status, schedule.last_success_at) == ("ok", schedule.last_run_at)
    assert HealthFlip.objects.count() == flips


def test_a_success_on_a_late_stream_flips_it_back_to_ok_at_once(eight):
    run_collection(schedule_of(eight, "volume"), now=NOW)
    CollectionSchedule.objects.filter(connection=eight, stream="volume").update(status="late")
    with CaptureQueriesContext(db) as queries:
        run_collection(schedule_of(eight, "volume"), now=NOW + td(hours=2))
    assert health_queries(queries) != []
    assert schedule_of(eight, "volume").status == "ok"
    assert HealthFlip.objects.filter(connection=eight, old_status="late", new_status="ok").count() == 1


def test_a_failure_on_a_healthy_stream_is_still_judged(eight, fake, settings):
    settings.HEALTH_FAILING_AFTER = 1
    run_collection(schedule_of(eight, "volume"), now=NOW)
    fake.error = TransientError("timed out")
    run_collection(schedule_of(eight, "volume"), now=NOW + td(minutes=15), attempt=5)
    schedule = schedule_of(eight, "volume")
    assert (schedule.status, schedule.consecutive_failures) == ("failing", 1)
