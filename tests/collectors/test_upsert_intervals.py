from __future__ import annotations

from datetime import UTC, datetime
from datetime import timedelta as td
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from collectors.backends import intervals_pg
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
        (rec(start=T0 + td(microseconds=1)), "is not on the 15-minute UTC grid"),
        # 11:10 in Kathmandu (+05:45) is 05:25 UTC: off the UTC grid.
        (rec(start=datetime(2026, 3, 2, 11, 10, tzinfo=ZoneInfo("Asia/Kathmandu"))), "not on the 15-minute"),
        (rec(entered=-1), "entered -1 of queue 'sales'"),
        (rec(abandoned=-3), "abandoned -3"),
        (rec(handle=-600), "handle_seconds -600"),
        (rec(entered=True), "entered True"),
        (rec(entered="7"), "entered '7'"),
        (rec(abandoned=1.0), "abandoned 1.0 of queue 'sales' at 2026-03-02T11:00:00+00:00 is not an integer"),
        (rec(entered=2**31), "entered 2147483648 of queue 'sales'"),
        (rec(handle=2**63), "is implausibly large"),
        (rec(queue="  "), "queue_vendor_id is empty"),
        (rec(start=NOW + td(days=1, minutes=8)), "more than a day in the future"),
        (rec(start=datetime(1900, 1, 1, 9, 0, tzinfo=UTC)), "before 2000-01-01, the earliest date"),
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


def test_counts_at_the_column_limits_and_int_subclasses_are_stored(conn_a):
    class Count(int):
        pass

    assert upsert_intervals(conn_a, [rec(entered=2**31 - 1, abandoned=Count(3), handle=2**63 - 1)], NOW) == (
        1,
        0,
    )
    row = IntervalVolume.objects.get()
    assert (row.entered, row.abandoned, row.handle_seconds) == (2**31 - 1, 3, 2**63 - 1)


def test_both_sides_of_a_dst_fold_are_two_intervals_in_utc(conn_a):
    # 01:30 on 2026-11-01 happens twice in New York: 05:30 UTC (EDT), then 06:30 UTC (EST).
    york = ZoneInfo("America/New_York")
    first, second = (
        datetime(2026, 11, 1, 1, 30, tzinfo=york),
        datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=york),
    )
    assert upsert_intervals(
        conn_a, [rec(start=first), rec(start=second)], datetime(2026, 11, 1, 12, tzinfo=UTC)
    ) == (
        2,
        0,
    )
    assert sorted(IntervalVolume.objects.values_list("interval_start", flat=True)) == [
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
        datetime(2026, 11, 1, 6, 30, tzinfo=UTC),
    ]


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


# PostgreSQL: the COPY + one INSERT … ON CONFLICT path.


@pytest.fixture
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL): SQLite takes the ORM path tested above")


def stored():
    """Counts, collected_at and physical row position (ctid changes when a row is rewritten)."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT q.vendor_id, v.interval_start, v.entered, v.abandoned, v.handle_seconds, v.collected_at,"
            " v.ctid::text FROM collectors_intervalvolume v JOIN collectors_queue q ON q.id = v.queue_id"
        )
        return {(vid, start): (tuple(counts), at, ctid) for vid, start, *counts, at, ctid in cur.fetchall()}


@pytest.mark.postgres
@pytest.mark.usefixtures("_postgres_only")
# A small write is one ordered INSERT … ON CONFLICT; a big one an UPDATE … FROM plus an INSERT.
@pytest.mark.parametrize("split_from", [10**9, 1], ids=["one-statement", "update-then-insert"])
def test_on_postgresql_a_mixed_batch_counts_created_updated_and_unchanged_rows_exactly(
    conn_a, monkeypatch, split_from
):
    monkeypatch.setattr(intervals_pg, "SPLIT_FROM", split_from)
    t1, t2, t3 = (T0 + td(minutes=15 * i) for i in (1, 2, 3))
    assert upsert_intervals(conn_a, [rec(), rec(start=t1), rec(start=t2), rec("support")], NOW) == (4, 0)
    before = stored()
    later = NOW + td(hours=1)
    batch = [
        rec(),  # unchanged
        rec("support"),  # unchanged
        rec(start=t1, entered=12),  # updated
        rec(start=t2, handle=601),  # updated: only handle_seconds differs
        rec(start=t3),  # new interval of a known queue
        rec("support", start=t1),  # new interval
        rec("billing", name="Billing"),  # new queue
    ]
    assert upsert_intervals(conn_a, batch, later) == (3, 2)
    after = stored()
    assert len(after) == 7
    for key in [("sales", T0), ("support", T0)]:
        assert after[key] == before[key], "an unchanged row was rewritten"
    assert after[("sales", t1)][:2] == ((12, 1, 600), later)
    assert after[("sales", t2)][:2] == ((10, 1, 601), later)
    assert after[("sales", t1)][2] != before[("sales", t1)][2]
    for key in [("sales", t3), ("support", t1), ("billing", T0)]:
        assert after[key][:2] == ((10, 1, 600), later)
    assert Queue.objects.get(vendor_id="billing").name == "Billing"
    assert set(IntervalVolume.objects.values_list("connection_id", flat=True)) == {conn_a.pk}
    # Called twice more in this same transaction: the staging table is reused and emptied.
    assert upsert_intervals(conn_a, batch, later + td(hours=1)) == (0, 0)
    assert upsert_intervals(conn_a, [rec(entered=0)], later) == (0, 1)


@pytest.mark.postgres
@pytest.mark.usefixtures("_postgres_only")
def test_on_postgresql_a_bad_record_after_good_ones_writes_nothing(conn_a):
    upsert_intervals(conn_a, [rec(), rec(start=T0 + td(minutes=15))], NOW)
    before = stored()
    batch = [rec(entered=50), rec(start=T0 + td(minutes=30)), rec("new"), rec(start=T0 + td(minutes=20))]
    with pytest.raises(DataError, match="is not on the 15-minute UTC grid"):
        upsert_intervals(conn_a, batch, NOW + td(hours=1))
    assert stored() == before
    assert list(Queue.objects.values_list("vendor_id", flat=True)) == ["sales"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_postgres_only")
def test_on_postgresql_each_committed_call_drops_its_staging_table(conn_a):
    assert upsert_intervals(conn_a, [rec(), rec("support")], NOW) == (2, 0)
    assert upsert_intervals(conn_a, [rec(entered=3), rec("support"), rec("other")], NOW) == (1, 1)
    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass('pg_temp.switchboard_interval_stage')")
        assert cur.fetchone() == (None,)
    assert IntervalVolume.objects.count() == 3
