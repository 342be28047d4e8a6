from __future__ import annotations

from datetime import UTC, datetime
from datetime import timedelta as td

from integrations.sandbox.traffic import Traffic, daily_curve


def _calls_between_local_hours(traffic: Traffic, day: datetime, first: int, last: int) -> int:
    zone = traffic.tz
    start = day.replace(hour=first, tzinfo=zone).astimezone(UTC)
    end = day.replace(hour=last, tzinfo=zone).astimezone(UTC)
    return sum(t.entered for t in traffic.interval_truth("8x8", start, end))


def test_mid_day_in_the_tenant_zone_is_much_busier_than_the_night():
    traffic = Traffic()
    busy = quiet = 0
    for offset in range(5):  # a working week
        day = datetime(2025, 6, 9) + td(days=offset)
        busy += _calls_between_local_hours(traffic, day, 10, 14)
        quiet += _calls_between_local_hours(traffic, day, 0, 4)
    assert busy > 5 * quiet
    assert quiet > 0  # the night is quiet, not dead


def test_the_peak_follows_the_tenant_zone_not_utc():
    chicago, tokyo = Traffic(zone="America/Chicago"), Traffic(zone="Asia/Tokyo")
    # 17:00-21:00 UTC is mid-day in Chicago and the small hours in Tokyo.
    start, end = datetime(2025, 6, 11, 17, tzinfo=UTC), datetime(2025, 6, 11, 21, tzinfo=UTC)
    in_chicago = sum(t.entered for t in chicago.interval_truth("8x8", start, end))
    in_tokyo = sum(t.entered for t in tokyo.interval_truth("8x8", start, end))
    assert in_chicago > 4 * in_tokyo


def test_the_curve_peaks_at_noon_and_is_lowest_at_night():
    assert daily_curve(12) == max(daily_curve(h / 4) for h in range(96))
    assert daily_curve(3) < 0.1 < 0.9 < daily_curve(11.5)
