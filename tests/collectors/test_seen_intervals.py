"""SeenIntervals: the bitmap upsert_intervals uses to refuse a queue and interval given twice."""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import timedelta as td

from collectors.writers import SeenIntervals

T0 = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)


def test_it_tells_a_new_interval_from_one_already_seen_whichever_way_the_span_grows():
    seen = SeenIntervals()
    # Forward, then far backward (years before the first start), then forward again past the end.
    starts = [T0 + td(minutes=15 * i) for i in range(10)]
    starts += [T0 - td(days=900) + td(minutes=15 * i) for i in range(5)]
    starts += [T0 + td(days=400, minutes=15 * i) for i in range(5)]
    assert all(seen.add("sales", start) for start in starts)
    assert not any(seen.add("sales", start) for start in starts)
    assert seen.add("support", T0)
    assert seen.add("sales", T0 - td(minutes=15))
    assert not seen.add("sales", T0 - td(days=900) + td(minutes=60))
