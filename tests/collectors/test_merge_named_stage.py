"""Interval totals computed in PostgreSQL are checked like any vendor's records before the merge."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection as db

from collectors.models import IntervalVolume
from collectors.writers import MAX_BIGINT, NAMED_STAGE_SQL, merge_named_stage
from integrations.vendors.errors import DataError

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
NOW = datetime(2025, 1, 15, 18, 0, tzinfo=UTC)
H17 = datetime(2025, 1, 15, 17, 0, tzinfo=UTC)
H1730 = datetime(2025, 1, 15, 17, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _postgres_only():
    if db.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL): the staged merge is PostgreSQL's path")


def stage(*rows: tuple[str, datetime, int, int, int]) -> None:
    with db.cursor() as cur:
        cur.execute(NAMED_STAGE_SQL)
        for row in rows:
            cur.execute("INSERT INTO switchboard_interval_named VALUES (%s, %s, %s, %s, %s)", list(row))


def test_it_merges_staged_totals_counting_created_and_updated_rows(conn_a):
    stage(("Sales", datetime(2025, 1, 15, 17, 0, tzinfo=UTC), 3, 1, 200))
    assert merge_named_stage(conn_a, NOW).created == 1
    stage(
        ("Sales", datetime(2025, 1, 15, 17, 0, tzinfo=UTC), 4, 1, 260),
        ("Sales", datetime(2025, 1, 15, 17, 15, tzinfo=UTC), 1, 0, 30),
        ("Support", datetime(2025, 1, 15, 17, 15, tzinfo=UTC), 2, 0, 90),
    )
    merged = merge_named_stage(conn_a, NOW)
    assert (merged.created, merged.updated) == (2, 1)
    assert merged.window == (H17, H1730)
    rows = IntervalVolume.objects.filter(connection=conn_a).values_list(
        "queue__vendor_id", "interval_start", "entered", "abandoned", "handle_seconds"
    )
    assert sorted(rows) == [
        ("Sales", datetime(2025, 1, 15, 17, 0, tzinfo=UTC), 4, 1, 260),
        ("Sales", datetime(2025, 1, 15, 17, 15, tzinfo=UTC), 1, 0, 30),
        ("Support", datetime(2025, 1, 15, 17, 15, tzinfo=UTC), 2, 0, 90),
    ]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (("Sales", datetime(2025, 1, 15, 17, 5, tzinfo=UTC), 1, 0, 10), "is not on the 15-minute UTC grid"),
        (("Sales", datetime(2025, 1, 17, 0, 0, tzinfo=UTC), 1, 0, 10), "is more than a day in the future"),
        (("Sales", datetime(1900, 1, 1, 9, 0, tzinfo=UTC), 1, 0, 10), "is before 2000-01-01"),
        (("Sales", datetime(2025, 1, 15, 17, 0, tzinfo=UTC), 1, 0, MAX_BIGINT + 1), "implausibly large"),
        ((" ", datetime(2025, 1, 15, 17, 0, tzinfo=UTC), 1, 0, 10), "queue_vendor_id is empty"),
    ],
)
def test_a_bad_total_is_refused_naming_it_and_nothing_is_merged(conn_a, row, message):
    good = ("Sales", datetime(2025, 1, 15, 16, 45, tzinfo=UTC), 1, 0, 10)
    stage(good, row)
    with pytest.raises(DataError, match=message):
        merge_named_stage(conn_a, NOW)
    assert not IntervalVolume.objects.filter(connection=conn_a).exists()
