"""Collecting the same window (or file, or instant) again leaves every neutral row as it was."""

from __future__ import annotations

from datetime import timedelta as td

import pytest

from collectors.models import AgentStateEvent, DropCall, IntervalVolume
from integrations.sandbox.traffic import ROSTERS

from .conftest import NOON
from .sandboxkit import REST_VOLUME, collect, drop_and_scan, iso, taken

pytestmark = pytest.mark.django_db


def volume_rows():
    return sorted(
        IntervalVolume.objects.values_list(
            "id", "queue_id", "interval_start", "entered", "abandoned", "handle_seconds", "collected_at"
        )
    )


@pytest.mark.parametrize("vendor", REST_VOLUME)
def test_the_same_history_window_twice_changes_no_row(demo, vendor):
    demo(NOON)
    window = ("--start", iso(NOON - td(hours=6)), "--end", iso(NOON - td(hours=2)))
    first = collect(vendor, "volume", *window)
    assert first["rows_created"] == 16 * len(ROSTERS[vendor].queues)
    before = volume_rows()
    again = collect(vendor, "volume", *window)
    assert (again["rows_created"], again["rows_updated"]) == (0, 0), again
    assert volume_rows() == before


def test_the_same_tcn_files_dropped_again_are_ledger_duplicates(demo):
    world = demo(NOON)
    taken(drop_and_scan(world.traffic, NOON - td(hours=6), NOON))
    before, calls = volume_rows(), DropCall.objects.count()
    # The platform resends the last six hours (same names, same bytes).
    results = drop_and_scan(world.traffic, NOON - td(hours=6), NOON)
    assert taken(results, resent=True) == 24
    assert {r.status for r in results} == {"duplicate"}
    assert volume_rows() == before
    assert DropCall.objects.count() == calls


def test_the_same_poll_instant_twice_writes_one_set_of_events(demo):
    world = demo(NOON)
    for vendor in ("8x8", "tcn"):
        collect(vendor, "agent-states")
    events = sorted(AgentStateEvent.objects.values_list("id", "state", "start", "end"))
    assert events
    world.move_to(NOON)
    for vendor in ("8x8", "tcn"):
        run = collect(vendor, "agent-states")
        assert (run["rows_created"], run["rows_updated"]) == (0, 0), run
    assert sorted(AgentStateEvent.objects.values_list("id", "state", "start", "end")) == events
