"""upsert_intervals streams records in batches: what holds for one batch holds across several."""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import timedelta as td

import pytest

from collectors import writers
from collectors.models import IntervalVolume, Queue
from collectors.writers import upsert_intervals
from integrations.vendors.errors import DataError
from integrations.vendors.records import IntervalRecord

NOW = datetime(2026, 3, 2, 12, 7, tzinfo=UTC)
T0 = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _small_batches(monkeypatch):
    monkeypatch.setattr(writers, "STREAM_BATCH", 2)


def rec(queue="sales", start=T0, entered=10, name=""):
    return IntervalRecord(queue, start, entered, 1, 600, queue_name=name)


def test_records_spread_over_many_batches_are_all_written_and_counted(conn_a):
    records = [rec(f"q{i % 3}", T0 - td(minutes=15 * (i // 3))) for i in range(11)]
    assert upsert_intervals(conn_a, iter(records), NOW) == (11, 0)
    revised = [rec(f"q{i % 3}", T0 - td(minutes=15 * (i // 3)), entered=i % 2 * 10) for i in range(11)]
    assert upsert_intervals(conn_a, iter(revised), NOW) == (0, 6)  # the even ones
    assert IntervalVolume.objects.count() == 11
    assert Queue.objects.count() == 3


def test_the_same_interval_in_two_batches_is_refused_and_nothing_is_written(conn_a):
    batch = [rec(), rec("support"), rec("other"), rec(entered=4)]
    twice = "interval_start 2026-03-02T11:00:00\\+00:00 of queue 'sales' appears twice"
    with pytest.raises(DataError, match=twice) as e:
        upsert_intervals(conn_a, iter(batch), NOW)
    assert "entered=4" in e.value.sample
    assert not IntervalVolume.objects.exists()
    assert not Queue.objects.exists()


def test_a_bad_record_in_a_later_batch_undoes_the_queues_of_earlier_ones(conn_a):
    upsert_intervals(conn_a, [rec()], NOW)
    batch = [rec("support"), rec("billing"), rec(entered=3), rec(start=T0 + td(minutes=5))]
    with pytest.raises(DataError, match="not on the 15-minute UTC grid"):
        upsert_intervals(conn_a, iter(batch), NOW)
    assert list(Queue.objects.values_list("vendor_id", flat=True)) == ["sales"]
    assert IntervalVolume.objects.get().entered == 10


def test_a_queue_named_in_a_later_batch_is_named_by_the_last_name_given(conn_a):
    batch = [
        rec(),
        rec(start=T0 - td(minutes=15)),
        rec(start=T0 - td(minutes=30), name="Sales"),
        rec(start=T0 - td(minutes=45)),
        rec(start=T0 - td(minutes=60), name="Sales East"),
        rec(start=T0 - td(minutes=75)),
    ]
    assert upsert_intervals(conn_a, iter(batch), NOW) == (6, 0)
    assert Queue.objects.get().name == "Sales East"
