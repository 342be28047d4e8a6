"""The sandbox's agents work at any hour: a demo started at night sees states change."""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import timedelta as td

import pytest
import requests
import time_machine

from integrations.sandbox.server import SandboxServer
from integrations.sandbox.traffic import LOGGED_OUT, VENDOR_STATES, Traffic, sandbox_vendor_keys

from .conftest import EIGHT_AUTH

# 03:00 in Chicago on a Tuesday (CST): before the fix every sandbox agent was logged out.
NIGHT = datetime(2026, 1, 13, 9, 0, tzinfo=UTC)


def on_shift(traffic: Traffic, vendor: str, at: datetime) -> int:
    logged_out = VENDOR_STATES[vendor][LOGGED_OUT]
    return sum(traffic.agent_state_at(vendor, a.id, at).code != logged_out for a in traffic.agents(vendor))


@pytest.mark.parametrize("vendor", sandbox_vendor_keys())
def test_agents_are_on_shift_and_changing_state_at_night(vendor):
    traffic = Traffic()
    assert on_shift(traffic, vendor, NIGHT) >= 2
    assert traffic.state_changes_between(vendor, NIGHT, NIGHT + td(minutes=15))


@pytest.mark.parametrize(
    "start",
    [
        datetime(2026, 3, 6, 6, 0, tzinfo=UTC),  # a week around the change to daylight time
        datetime(2026, 10, 29, 5, 0, tzinfo=UTC),  # a week around the change back
    ],
    ids=["spring", "fall"],
)
def test_every_quarter_hour_of_a_week_has_an_agent_on_shift_and_a_change_within_the_hour(start):
    traffic = Traffic()
    for vendor in sandbox_vendor_keys():
        changes = traffic.state_changes_between(vendor, start, start + td(days=7, hours=1))
        t = start
        while t < start + td(days=7):
            assert on_shift(traffic, vendor, t) >= 1, (vendor, t)
            assert any(t <= c < t + td(hours=1) for c in changes), (vendor, t)
            t += td(minutes=15)


def test_a_demo_started_at_night_serves_agents_that_move():
    def states() -> dict[str, str]:
        with SandboxServer("127.0.0.1", 0) as server:
            rows = requests.get(
                server.base_url("8x8") + "rtstats/stats/agents.json", auth=EIGHT_AUTH, timeout=5
            ).json()
        return {row["agent-id"]: row["agent-status"] for row in rows["agent"]}

    with time_machine.travel(NIGHT, tick=False):
        first = states()
    with time_machine.travel(NIGHT + td(minutes=15), tick=False):
        later = states()
    logged_out = VENDOR_STATES["8x8"][LOGGED_OUT]
    assert any(code != logged_out for code in first.values())
    assert first != later
