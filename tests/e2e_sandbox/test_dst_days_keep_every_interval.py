"""Across a daylight-saving change the 15-minute UTC intervals still equal the generated calls.

The sandbox tenant lives in Chicago (8x8's `d=` days are Chicago days) and TCN's files give
Pacific wall-clock times; each changes its clocks at another UTC hour on the same night.
"""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import timedelta as td

import pytest

from .sandboxkit import REST_VOLUME, between, collect, drop_and_scan, stored_volume, taken, true_volume

pytestmark = pytest.mark.django_db

DAY = td(hours=24)
NIGHT = td(hours=12)  # TCN's files: the twelve hours before noon hold both zones' changes
# Noon in Chicago the day the clocks change: the backfilled day holds the night of the change.
SPRING_FORWARD = datetime(2025, 3, 9, 17, 0, tzinfo=UTC)  # 12:00 CDT; 02:00 local skipped
FALL_BACK = datetime(2025, 11, 2, 18, 0, tzinfo=UTC)  # 12:00 CST; 01:00-01:59 local twice
# Pacific 01:00-01:59 on 2025-11-02: first on daylight time (08:00Z), then on standard (09:00Z).
PACIFIC_REPEAT = (datetime(2025, 11, 2, 8, 0, tzinfo=UTC), datetime(2025, 11, 2, 10, 0, tzinfo=UTC))
SETTLING = td(hours=2)  # 8x8 fills handle times an hour after acceptance


@pytest.mark.parametrize("t0", [SPRING_FORWARD, FALL_BACK], ids=["spring-forward", "fall-back"])
@pytest.mark.parametrize("vendor", REST_VOLUME)
def test_rest_history_over_the_change_equals_the_traffic(demo, vendor, t0):
    world = demo(t0)
    collect(vendor, "volume")
    stored = stored_volume(vendor)
    if vendor == "8x8":
        truth = true_volume(world.traffic, vendor, t0 - DAY, t0 - SETTLING)
        assert between(stored, t0 - DAY, t0 - SETTLING) == truth
    else:
        assert stored == true_volume(world.traffic, vendor, t0 - DAY, t0, as_of=t0)
    assert len({start for _q, start in stored}) >= 90  # one row per UTC quarter hour, 23 h or 25 h


def test_tcn_files_over_spring_forward_equal_the_traffic(demo):
    world = demo(SPRING_FORWARD)
    assert taken(drop_and_scan(world.traffic, SPRING_FORWARD - NIGHT, SPRING_FORWARD)) == 48
    truth = true_volume(world.traffic, "tcn", SPRING_FORWARD - NIGHT, SPRING_FORWARD)
    assert stored_volume("tcn") == {k: v for k, v in truth.items() if v[0]}


def test_tcn_files_over_fall_back_put_the_repeated_hour_in_its_first_pass(demo):
    """A call-detail row's `yyyy/MM/dd HH:mm` Pacific time is ambiguous in the repeated hour
    (the file name is customer-configured, so it cannot settle it): the reader takes the first
    pass, as documented. Every other interval is exact, and no call is lost or counted twice."""
    world = demo(FALL_BACK)
    assert taken(drop_and_scan(world.traffic, FALL_BACK - NIGHT, FALL_BACK)) == 48
    truth = true_volume(world.traffic, "tcn", FALL_BACK - NIGHT, FALL_BACK)
    stored = stored_volume("tcn")
    first, end = PACIFIC_REPEAT
    second = first + td(hours=1)
    outside = {k: v for k, v in truth.items() if v[0] and not first <= k[1] < end}
    assert {k: v for k, v in stored.items() if not first <= k[1] < end} == outside

    assert between(stored, second, end) == {}
    moved = {k: v for k, v in between(truth, second, end).items() if v[0]}
    assert moved, "no call in the second pass: this case tests nothing"
    expected: dict = {}
    for (queue, start), counts in between(truth, first, end).items():
        key = (queue, start if start < second else start - td(hours=1))
        expected[key] = tuple(a + b for a, b in zip(expected.get(key, (0, 0, 0)), counts, strict=True))
    assert between(stored, first, second) == {k: v for k, v in expected.items() if v[0]}
