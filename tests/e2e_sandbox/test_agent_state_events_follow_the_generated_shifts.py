"""Polling `collect <conn> agent-states` leaves, per agent, exactly the sandbox's state sequence.

Time moves to every instant an agent changes state (and to a poll each gap-threshold in
between, as the schedule would), each poll a real HTTP request to the sandbox thread. The
events must then be the agent's timeline in the documented neutral states: same order, same
starts, each ending where the next begins.
"""

from __future__ import annotations

from datetime import timedelta as td
from itertools import pairwise

import pytest

from collectors.conf import app_settings
from collectors.models import AgentStateEvent
from integrations.sandbox.traffic import ROSTERS

from .conftest import NOON
from .sandboxkit import ALL_VENDORS, collect, connection, expected_events, poll_instants, stored_events

pytestmark = pytest.mark.django_db

# A quarter of an hour from noon: 25 to 60 state changes per vendor, every kind of state.
SPAN = td(minutes=15)


def poll_through(demo, vendor: str):
    world = demo(NOON)
    collect(vendor, "config")
    # The schedule's own rhythm: never further apart than the gap after which the engine
    # would stop trusting that nothing happened in between.
    every = connection(vendor).connection_settings().interval_seconds * app_settings.GAP_INTERVALS
    polls = poll_instants(world.traffic, vendor, NOON, NOON + SPAN, every)
    for t in polls:
        world.move_to(t)
        collect(vendor, "agent-states")
    return world, polls


@pytest.mark.parametrize("vendor", ALL_VENDORS)
def test_each_agents_events_are_its_generated_states_in_the_documented_neutral_form(demo, vendor):
    world, polls = poll_through(demo, vendor)
    stored = stored_events(vendor)
    expected = {
        a.id: events
        for a in ROSTERS[vendor].agents
        if (events := expected_events(world.traffic, vendor, a.id, polls))
    }
    assert stored == expected
    changes = sum(len(events) for events in expected.values())
    assert changes > len(expected) + 20, "too few state changes to say anything"
    states = {e.state for events in expected.values() for e in events}
    assert {"available", "busy", "wrap_up"} <= states


def test_a_poll_that_sees_nothing_new_writes_nothing(demo):
    world, polls = poll_through(demo, "thrio")
    count = AgentStateEvent.objects.count()
    # A second after a change, with the next one further off: every agent as before.
    quiet = next(a + td(seconds=1) for a, b in pairwise(polls) if b - a > td(seconds=2))
    world.move_to(quiet)
    run = collect("thrio", "agent-states")
    assert (run["rows_created"], run["rows_updated"]) == (0, 0)
    assert AgentStateEvent.objects.count() == count
