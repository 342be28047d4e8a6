"""Every connection has one schedule row per stream, kept in step when it is saved."""

from __future__ import annotations

from datetime import timedelta as td

import pytest
import time_machine
from django.test import override_settings

from collectors.models import CollectionSchedule
from collectors.schedules import next_run_after, phase, sync_schedules
from tests.collectors.enginekit import T0, schedule_of
from tests.conftest import make_connection

pytestmark = pytest.mark.django_db


def streams(conn):
    return dict(CollectionSchedule.objects.filter(connection=conn).values_list("stream", "interval_seconds"))


def test_saving_a_connection_creates_its_streams_due_at_once(tenant_a):
    with time_machine.travel(T0, tick=False):
        conn_a = make_connection(tenant_a, "tcn", "tcn-main")
        eight = make_connection(tenant_a, "8x8", "eight")
        eight.interval_seconds = 30
        eight.save()
    assert streams(conn_a) == {"agent_states": 900, "config": 3600, "file_drop": 900}
    assert streams(eight) == {"agent_states": 30, "config": 3600, "volume": 900}
    assert set(CollectionSchedule.objects.values_list("next_run_at", flat=True)) == {T0}


def test_changing_the_polling_interval_follows_and_takes_effect_soon(eight):
    schedule = schedule_of(eight, "agent_states")
    schedule.next_run_at = T0 + td(days=1)
    schedule.save()
    eight.interval_seconds = 60
    with time_machine.travel(T0, tick=False):
        eight.save()
    schedule.refresh_from_db()
    assert schedule.interval_seconds == 60
    assert schedule.next_run_at == T0 + td(seconds=60)


def test_saving_again_keeps_a_paused_stream_paused_and_its_status(eight):
    CollectionSchedule.objects.filter(connection=eight, stream="volume").update(
        enabled=False, status="paused"
    )
    eight.name = "eight-renamed"
    eight.save()
    volume = schedule_of(eight, "volume")
    assert (volume.enabled, volume.status) == (False, "paused")
    assert CollectionSchedule.objects.filter(connection=eight).count() == 3


@override_settings(COLLECT_CONFIG_INTERVAL_SECONDS=900)
def test_a_changed_config_interval_setting_applies_on_the_next_sync(eight):
    sync_schedules(eight)
    assert schedule_of(eight, "config").interval_seconds == 900


def test_a_stream_the_vendor_no_longer_declares_is_disabled_not_deleted(eight):
    from integrations.vendors.eightbyeight.vendor import EightByEight

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(EightByEight, "streams", ("agent_states", "config"))
        sync_schedules(eight)
    assert not schedule_of(eight, "volume").enabled
    assert schedule_of(eight, "config").enabled


def test_history_runs_are_spread_over_five_minutes_after_their_delay_at_a_stable_phase():
    # With a few seconds of jitter, 500 history runs reached the workers in one dispatcher
    # tick at every 15-minute boundary, and the polls queued behind them missed (bench/).
    now = T0 + td(minutes=7)
    volume = [next_run_after(now, "volume", 900, pk) for pk in range(1, 501)]
    # After the next boundary and the history delay (60 s), over the following 300 s.
    assert all(T0 + td(minutes=16) <= t <= T0 + td(minutes=21) for t in volume)
    minutes = [int((t - T0).total_seconds() // 60) for t in volume if t < T0 + td(minutes=21)]
    per_minute = [minutes.count(m) for m in range(16, 21)]
    assert min(per_minute) >= 80 and max(per_minute) <= 120  # 100 each when even
    # Stable: one stream's runs are one interval apart, with no randomness.
    first = next_run_after(now, "volume", 900, 7)
    assert next_run_after(first, "volume", 900, 7) == first + td(minutes=15)
    assert next_run_after(now, "volume", 900, 7) == first
    # Before its phase point has passed, the run is still this interval's.
    offset = td(seconds=phase(7, "volume", 900))
    assert next_run_after(T0 + td(seconds=30), "volume", 900, 7) == T0 + offset


def test_configuration_imports_are_spread_over_the_whole_hour_at_a_stable_phase(settings):
    # 1,000 connections' hourly imports in five minutes took the CPU from the polls (bench/).
    settings.COLLECT_SPREAD_SECONDS = 300  # applies to history only
    now = T0 + td(minutes=7)
    config = [next_run_after(now, "config", 3600, pk) for pk in range(1, 1001)]
    assert all(now < t <= now + td(hours=1) for t in config)
    minutes = [int((t - T0).total_seconds() // 60) % 60 for t in config]
    per_minute = [minutes.count(m) for m in range(60)]
    assert min(per_minute) >= 10 and max(per_minute) <= 24  # 16.7 each when even
    first = next_run_after(now, "config", 3600, 7)
    assert next_run_after(first, "config", 3600, 7) == first + td(hours=1)


def test_the_spread_never_takes_a_run_past_half_its_interval(settings):
    settings.COLLECT_SPREAD_SECONDS = 3000
    assert all(60 <= phase(pk, "volume", 900) <= 450 for pk in range(1, 200))
    settings.COLLECT_SPREAD_SECONDS = 0
    assert {phase(pk, "volume", 900) for pk in range(1, 50)} == {60.0}


def test_each_polls_phase_is_stable_and_the_phases_of_many_streams_spread_over_the_interval():
    # Everyone on the grid would send every poll in one dispatcher tick (bench/: the tail of
    # each burst of 500 expired in the queue).
    now = T0 + td(seconds=7)
    runs = [next_run_after(now, "agent_states", 10, pk) for pk in range(1, 501)]
    assert all(now < t <= now + td(seconds=10) for t in runs)
    offsets = [t.timestamp() % 10 for t in runs]
    per_second = [sum(1 for o in offsets if s <= o < s + 1) for s in range(10)]
    assert min(per_second) >= 40 and max(per_second) <= 60  # 50 each when even
    # Stable: one stream's polls are one interval apart, with no jitter.
    first = next_run_after(now, "agent_states", 10, 42)
    assert next_run_after(first, "agent_states", 10, 42) == first + td(seconds=10)
    assert phase(42, "agent_states", 10) == phase(42, "agent_states", 10)
