"""`collect <conn> config` for every demo connection imports exactly the sandbox's roster."""

from __future__ import annotations

import pytest

from collectors.models import Agent, AgentQueue, Queue
from integrations.sandbox.traffic import ROSTERS

from .conftest import NOON
from .sandboxkit import ALL_VENDORS, collect, connection

pytestmark = pytest.mark.django_db


def imported(vendor: str):
    conn = connection(vendor)
    queues = dict(Queue.objects.filter(connection=conn, active=True).values_list("vendor_id", "name"))
    agents = {
        vid: (name, group)
        for vid, name, group in Agent.objects.filter(connection=conn, active=True).values_list(
            "vendor_id", "name", "group"
        )
    }
    memberships = set(
        AgentQueue.objects.filter(agent__connection=conn, active=True).values_list(
            "agent__vendor_id", "queue__vendor_id"
        )
    )
    return queues, agents, memberships


@pytest.mark.parametrize("vendor", ALL_VENDORS)
def test_queues_and_agents_imported_are_the_sandboxs(demo, vendor):
    demo(NOON)
    collect(vendor, "config")
    roster = ROSTERS[vendor]
    queues, agents, memberships = imported(vendor)

    if vendor == "8x8":
        # rtstats lists agents with their group and queues by id; it names no memberships.
        assert queues == {q.id: q.name for q in roster.queues}
        assert agents == {a.id: (a.name, a.group) for a in roster.agents}
        assert memberships == set()
    elif vendor == "tcn":
        # Skills and hunt groups are both queues (the call file names hunt groups); an agent
        # belongs to its hunt group.
        group_names = {q.sid: q.name for q in roster.queues}
        assert queues == {q.name: q.name for q in roster.queues}
        assert agents == {a.id: (a.name, group_names[a.group]) for a in roster.agents}
        assert memberships == {(a.id, group_names[a.group]) for a in roster.agents}
    else:
        # Queues and skills share the list (skills prefixed); memberships from userqueue.
        expected = {q.id: q.name for q in roster.queues} | {f"skill:{s.id}": s.name for s in roster.skills}
        assert queues == expected
        assert agents == {a.id: (a.name, "") for a in roster.agents}
        assert memberships == {(a.id, q) for a in roster.agents for q in a.queue_ids}


def test_importing_again_changes_nothing(demo):
    demo(NOON)
    for vendor in ALL_VENDORS:
        collect(vendor, "config")
    before = {v: imported(v) for v in ALL_VENDORS}
    counts = (Queue.objects.count(), Agent.objects.count(), AgentQueue.objects.count())
    for vendor in ALL_VENDORS:
        run = collect(vendor, "config")
        assert (run["rows_created"], run["rows_updated"], run["rows_deactivated"]) == (0, 0, 0), run
    assert {v: imported(v) for v in ALL_VENDORS} == before
    assert (Queue.objects.count(), Agent.objects.count(), AgentQueue.objects.count()) == counts
