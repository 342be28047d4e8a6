"""A new connection's history: from its history start, oldest first, in chunks no longer than
its vendor allows, as many per run as the time budget and a backfill slot allow, resumable,
and its progress shown ("backfilled 120 of 365 days, about 2 h left")."""

from __future__ import annotations

from datetime import timedelta as td

import pytest
import time_machine
from django.test import override_settings

from collectors.backfill import Progress, progress
from collectors.models import CollectionRun, Cursor, IntervalVolume
from collectors.runs import run_collection
from integrations.vendors.errors import TransientError
from tests.collectors.enginekit import QUEUES, T0, schedule_of

pytestmark = pytest.mark.django_db
NOW = T0 + td(minutes=7)


def run(conn, now=NOW):
    return run_collection(schedule_of(conn, "volume"), now=now).run


def asked(fake):
    return [(start, end) for kind, start, end in fake.calls if kind == "volume"]


def test_a_new_connection_collects_its_history_start_oldest_first_in_vendor_sized_chunks(eight, fake):
    eight.backfill_days = 90
    eight.save()
    r = run(eight)
    assert r.status == CollectionRun.OK
    origin = T0 - td(days=90)
    assert asked(fake) == [
        (origin, origin + td(days=28)),
        (origin + td(days=28), origin + td(days=56)),
        (origin + td(days=56), origin + td(days=84)),
        (origin + td(days=84), T0),
    ]
    assert IntervalVolume.objects.count() == 90 * 96 * len(QUEUES)
    cursor = Cursor.objects.get(connection=eight, stream="volume")
    assert (cursor.position, cursor.backfill_from, cursor.backfill_until) == (T0, origin, None)


@override_settings(COLLECT_BACKFILL_BUDGET_SECONDS=0)
def test_with_its_time_budget_spent_a_run_stops_after_one_chunk_and_the_next_resumes(eight, fake):
    eight.backfill_days = 60
    eight.save()
    origin = T0 - td(days=60)
    run(eight)
    assert Cursor.objects.get(connection=eight).position == origin + td(days=28)
    run(eight, NOW + td(minutes=15))
    # Resumed at the cursor (re-reading the lookback before it), nothing skipped.
    assert asked(fake)[1][0] == origin + td(days=28) - td(hours=1)
    assert asked(fake)[1][1] - asked(fake)[1][0] == td(days=28)


@override_settings(COLLECT_BACKFILL_MAX_CONNECTIONS=1)
def test_only_the_capped_number_of_connections_backfill_many_chunks_at_once(eight, fake):
    from tests.conftest import make_connection

    other = make_connection(eight.tenant, "8x8", "other")
    Cursor.objects.create(
        connection=other, stream="volume", position=T0 - td(days=30), backfill_until=NOW + td(minutes=5)
    )
    eight.backfill_days = 60
    eight.save()
    run(eight)
    # The one slot is taken: this connection moves one chunk per run.
    assert len(asked(fake)) == 1
    assert Cursor.objects.get(connection=eight).position == T0 - td(days=32)


def test_a_failure_midway_keeps_the_chunks_before_it_and_the_next_run_resumes_there(eight, fake):
    eight.backfill_days = 60
    eight.save()
    original = fake.fetch_volume

    def second_fails(start, end):
        if len(fake.calls) == 1:
            fake.calls.append(("volume", start, end))
            raise TransientError("vendor down")
        return original(start, end)

    fake.fetch_volume = second_fails
    assert run(eight).status != CollectionRun.OK
    assert Cursor.objects.get(connection=eight).position == T0 - td(days=32)
    assert IntervalVolume.objects.count() == 28 * 96 * len(QUEUES)
    assert Cursor.objects.get(connection=eight).backfill_until is None  # the slot is given back
    assert run(eight, NOW + td(minutes=15)).status == CollectionRun.OK
    # Every interval from the history start to the last closed one (which moved on by one).
    assert IntervalVolume.objects.count() == (60 * 96 + 1) * len(QUEUES)


def test_progress_counts_days_done_of_the_total_and_estimates_from_the_measured_rate():
    start = T0 - td(days=365)
    found = progress(start, T0, start + td(days=120), T0 + td(minutes=60), T0 + td(hours=1))
    assert isinstance(found, Progress)
    assert (found.done_days, found.total_days) == (120, 365)
    # 120 days in 60 minutes: the other 245 take about 122 minutes.
    assert found.text == "backfilled 120 of 365 days, about 2 h left"


def test_progress_before_anything_is_measured_says_so_and_after_catching_up_is_none():
    start = T0 - td(days=30)
    assert progress(start, T0, start, T0, T0).text == "backfilled 0 of 30 days, time left not measured yet"
    assert progress(start, T0, T0, T0 + td(minutes=5), T0) is None


@override_settings(COLLECT_BACKFILL_BUDGET_SECONDS=0)
def test_the_health_page_and_json_show_the_backfill_under_way(eight, fake, client, django_user_model):
    from collectors import board

    eight.backfill_days = 60
    eight.save()
    run(eight)
    row = next(r for r in board.build(now=NOW) if r.schedule.stream == "volume")
    assert row.backfill is not None
    assert row.backfill.text.startswith("backfilled 28 of 60 days")
    assert row.as_dict()["backfill"]["done_days"] == 28
    other = next(r for r in board.build(now=NOW) if r.schedule.stream == "config")
    assert other.backfill is None
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin)
    with time_machine.travel(NOW, tick=False):
        page = client.get("/health/").content.decode()
        change = client.get(f"/admin/integrations/vendorconnection/{eight.pk}/change/").content.decode()
    assert "backfilled 28 of 60 days" in page
    assert "backfilled 28 of 60 days" in change
