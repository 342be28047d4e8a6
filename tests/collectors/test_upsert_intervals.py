from __future__ import annotations

from datetime import UTC, datetime
from datetime import timedelta as td
from zoneinfo import ZoneInfo

import pytest

from collectors.models import IntervalVolume, Queue
from collectors.writers import upsert_intervals
from integrations.vendors.errors import DataError
from integrations.vendors.records import IntervalRecord

NOW = datetime(2026, 3, 2, 12, 7, tzinfo=UTC)
T0 = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)


def rec(queue="sales", start=T0, entered=10, abandoned=1, handle=600, name=""):
    return IntervalRecord(queue, start, entered, abandoned, handle, queue_name=name)


def test_it_creates_rows_and_queues_named_from_the_records(conn_a):
    created, updated = upsert_intervals(
        conn_a, [rec(name="Sales"), rec(start=T0 + td(minutes=15)), rec("support")], NOW
    )
    assert (created, updated) == (3, 0)
    assert dict(Queue.objects.values_list("vendor_id", "name")) == {"sales": "Sales", "support": ""}
    row = IntervalVolume.objects.get(queue__vendor_id="sales", interval_start=T0)
    assert (row.entered, row.abandoned, row.handle_seconds, row.collected_at) == (10, 1, 600, NOW)
    assert row.connection == conn_a


def test_rerunning_the_same_records_changes_nothing(conn_a):
    upsert_intervals(conn_a, [rec(), rec("support")], NOW)
    later = NOW + td(hours=1)
    assert upsert_intervals(conn_a, [rec(), rec("support")], later) == (0, 0)
    assert IntervalVolume.objects.count() == 2
    assert set(IntervalVolume.objects.values_list("collected_at", flat=True)) == {NOW}


def test_it_counts_revised_rows_as_updated_and_unchanged_ones_as_neither(conn_a):
    upsert_intervals(conn_a, [rec(), rec(start=T0 + td(minutes=15))], NOW)
    created, updated = upsert_intervals(
        conn_a, [rec(entered=11), rec(start=T0 + td(minutes=15)), rec(start=T0 + td(minutes=30))], NOW
    )
    assert (created, updated) == (1, 1)
    assert IntervalVolume.objects.get(interval_start=T0).entered == 11


def test_it_keeps_one_connections_queues_apart_from_anothers(conn_a, conn_b):
    upsert_intervals(conn_a, [rec()], NOW)
    upsert_intervals(conn_b, [rec()], NOW)
    assert Queue.objects.filter(vendor_id="sales").count() == 2
    assert IntervalVolume.objects.count() == 2


def test_a_name_given_later_renames_the_queue_but_an_empty_one_does_not(conn_a):
    upsert_intervals(conn_a, [rec(name="Sales")], NOW)
    upsert_intervals(conn_a, [rec(start=T0 + td(minutes=15))], NOW)
    assert Queue.objects.get().name == "Sales"
    upsert_intervals(conn_a, [rec(start=T0 + td(minutes=30), name="Sales East")], NOW)
    assert Queue.objects.get().name == "Sales East"


def test_an_aware_start_in_another_zone_is_stored_in_utc(conn_a):
    local = T0.astimezone(ZoneInfo("America/Los_Angeles"))
    upsert_intervals(conn_a, [rec(start=local)], NOW)
    assert IntervalVolume.objects.get().interval_start == T0


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (
            rec(start=T0 + td(minutes=5)),
            "interval_start 2026-03-02T11:05:00+00:00 of queue 'sales' is not on",
        ),
        (rec(start=T0 + td(seconds=1)), "is not on the 15-minute UTC grid"),
        # 11:10 in Kathmandu (+05:45) is 05:25 UTC: off the UTC grid.
        (rec(start=datetime(2026, 3, 2, 11, 10, tzinfo=ZoneInfo("Asia/Kathmandu"))), "not on the 15-minute"),
        (rec(entered=-1), "entered -1 of queue 'sales'"),
        (rec(abandoned=-3), "abandoned -3"),
        (rec(handle=-600), "handle_seconds -600"),
        (rec(entered=True), "entered True"),
        (rec(entered="7"), "entered '7'"),
        (rec(start=NOW + td(days=1, minutes=8)), "more than a day in the future"),
        (rec(start=datetime(2026, 3, 2, 11, 0)), "is not a timezone-aware datetime"),
        (rec(queue=""), "queue_vendor_id is empty"),
    ],
)
def test_a_record_breaking_an_invariant_fails_naming_the_field_and_writes_nothing(conn_a, record, message):
    good = [rec("support"), rec("support", start=T0 + td(minutes=15))]
    with pytest.raises(DataError, match=None) as excinfo:
        upsert_intervals(conn_a, [*good, record], NOW)
    assert message in str(excinfo.value)
    assert excinfo.value.sample
    assert not IntervalVolume.objects.exists()
    assert not Queue.objects.exists()


def test_a_start_just_under_a_day_ahead_is_accepted(conn_a):
    assert upsert_intervals(conn_a, [rec(start=T0 + td(days=1))], NOW) == (1, 0)


def test_the_same_queue_and_interval_twice_in_one_batch_is_refused(conn_a):
    with pytest.raises(DataError, match="appears twice"):
        upsert_intervals(conn_a, [rec(), rec(entered=4)], NOW)
    assert not IntervalVolume.objects.exists()


def test_an_empty_batch_writes_nothing(conn_a, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert upsert_intervals(conn_a, iter([]), NOW) == (0, 0)


def test_it_accepts_a_generator_and_many_rows_in_a_constant_number_of_queries(
    conn_a, django_assert_max_num_queries
):
    upsert_intervals(conn_a, (rec(f"q{i % 5}", T0 - td(minutes=15 * (i // 5))) for i in range(500)), NOW)
    revised = (rec(f"q{i % 5}", T0 - td(minutes=15 * (i // 5)), entered=i % 2) for i in range(500))
    # SQLite inserts at most 999 parameters a statement (4 INSERTs here), PostgreSQL one.
    with django_assert_max_num_queries(10):
        created, updated = upsert_intervals(conn_a, revised, NOW)
    assert (created, updated) == (0, 500)
    assert IntervalVolume.objects.count() == 500
