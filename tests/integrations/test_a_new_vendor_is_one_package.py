"""A sixth vendor, Fakeline, defined only in tests/integrations/vendors/fakevendor/ (vendor.py,
adapter.py, sandbox.py) and registered by one entry: no model, migration, form, admin, demo,
sandbox table or engine module names it, yet it is validated, offered, simulated, given a demo
connection and collected end to end (HTTP through the sandbox, the adapter, the engine and the
database)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from datetime import timedelta as td
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from collectors.models import Agent, AgentQueue, Queue
from integrations.models import VendorConnection
from integrations.sandbox.server import SandboxServer
from integrations.sandbox.traffic import DOCUMENTED_NEUTRAL, ROSTERS, sandbox_vendor_keys
from integrations.vendors import get_vendor, vendor_choices, vendor_keys
from integrations.vendors.base import STREAM_AGENT_STATES, STREAM_CONFIG, STREAM_VOLUME
from integrations.vendors.checks import check_vendor_registry
from integrations.vendors.ncc.client import forget_all
from tests.e2e_sandbox.sandboxkit import collect, connection, iso, stored_events, stored_volume, true_volume

# The one registry entry.
FAKE = {"fake": "tests.integrations.vendors.fakevendor.vendor.Fake"}
# A Wednesday, 12:00 in Chicago (the sandbox tenant's zone): most agents on shift.
NOON = datetime(2025, 6, 11, 17, 0, tzinfo=UTC)


@pytest.fixture
def registered(settings):
    settings.SWITCHBOARD_EXTRA_VENDORS = FAKE


@pytest.fixture
def sandbox(registered, settings, tmp_path, time_machine, db) -> Iterator[SandboxServer]:
    """The sandbox (started once Fakeline is registered) and the demo tenant aimed at it."""
    settings.VAR_DIR = tmp_path
    settings.DROP_ROOT = str(tmp_path / "drops")
    # The sandbox listens on loopback, which the egress policy refuses unless allowed.
    settings.VENDOR_EGRESS_ALLOW = ["127.0.0.1/32"]
    forget_all()
    time_machine.move_to(NOON, tick=False)
    with SandboxServer("127.0.0.1", 0) as server:
        call_command("setup_demo", "--sandbox-port", str(server.port), stdout=StringIO())
        yield server
    forget_all()


def test_its_registry_entry_makes_it_a_vendor_with_the_rest(registered):
    assert vendor_keys()[-1] == "fake"
    assert ("fake", "Fakeline") in vendor_choices()
    assert get_vendor("fake").streams == (STREAM_VOLUME, STREAM_AGENT_STATES, STREAM_CONFIG)
    assert "fake" in sandbox_vendor_keys()
    assert check_vendor_registry() == []


def test_without_its_registry_entry_a_connection_of_it_is_refused(tenant_a):
    conn = VendorConnection(
        tenant=tenant_a, name="fake", vendor="fake", realtime_base_url="https://x.example/"
    )
    with pytest.raises(ValidationError) as info:
        conn.full_clean()
    assert "unknown vendor 'fake'" in str(info.value)
    assert "fake" not in vendor_keys()


def test_a_connection_of_it_validates_with_its_declared_fields(registered, tenant_a):
    conn = VendorConnection(tenant=tenant_a, name="fake", vendor="fake")
    conn.apply_vendor_defaults()
    with pytest.raises(ValidationError) as info:
        conn.full_clean()
    assert info.value.message_dict["realtime_token"] == ["API token is required for Fakeline."]
    conn.set_values("realtime", {"token": "t0ken"})
    conn.full_clean()
    assert conn.get_vendor_display() == "Fakeline"


def test_the_admin_offers_it_when_adding_a_connection(registered, admin_client):
    response = admin_client.get(reverse("admin:integrations_vendorconnection_add"))
    assert b"Fakeline" in response.content
    form = admin_client.get(reverse("admin:integrations_vendorconnection_add") + "?vendor=fake")
    assert form.status_code == 200
    assert b"API token" in form.content


def test_the_demo_gives_it_a_connection_aimed_at_its_simulation(sandbox):
    conn = connection("fake")
    assert conn.realtime_base_url == sandbox.base_url("fake")
    assert conn.values_of("realtime")["token"] == "sandbox-fake-token"


def test_it_collects_configuration_end_to_end(sandbox):
    run = collect("fake", "config")
    roster = ROSTERS["fake"]
    conn = connection("fake")
    assert run["rows_created"] > 0
    assert dict(Queue.objects.filter(connection=conn).values_list("vendor_id", "name")) == {
        q.id: q.name for q in roster.queues
    }
    assert dict(Agent.objects.filter(connection=conn).values_list("vendor_id", "name")) == {
        a.id: a.name for a in roster.agents
    }
    memberships = set(
        AgentQueue.objects.filter(agent__connection=conn, active=True).values_list(
            "agent__vendor_id", "queue__vendor_id"
        )
    )
    assert memberships == {(a.id, q) for a in roster.agents for q in a.queue_ids}


def test_it_collects_intervals_end_to_end(sandbox):
    start, end = NOON - td(hours=6), NOON - td(hours=2)
    run = collect("fake", "volume", "--start", iso(start), "--end", iso(end))
    assert run["rows_created"] == 16 * len(ROSTERS["fake"].queues)
    expected = true_volume(sandbox.traffic, "fake", start, end)
    assert any(entered for entered, _a, _h in expected.values())
    assert stored_volume("fake") == expected


def test_it_collects_agent_states_end_to_end(sandbox):
    collect("fake", "agent-states")
    events = stored_events("fake")
    expected = {}
    for agent in ROSTERS["fake"].agents:
        state = sandbox.traffic.agent_state_at("fake", agent.id, NOON)
        expected[agent.id] = (DOCUMENTED_NEUTRAL["fake"][state.code], state.code, state.since)
    assert {agent: [(e.state, e.raw_code, e.start) for e in got] for agent, got in events.items()} == {
        agent: [value] for agent, value in expected.items()
    }
    assert {state for state, _code, _since in expected.values()} - {"logged_out"}


def test_its_simulation_takes_faults_like_the_others(sandbox):
    sandbox.faults.set("fake", "invalid_token")
    with pytest.raises(CommandError) as info:
        call_command("collect", "demo/fake-demo", "config", "--json", stdout=StringIO())
    assert "credentials refused" in str(info.value)
    assert sandbox.faults.snapshot()["fake"] == {"fault": "invalid_token", "retry_after": 5, "delay": 3.0}
