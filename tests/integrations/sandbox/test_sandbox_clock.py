from __future__ import annotations

import requests
import time_machine

from integrations.sandbox.server import SandboxServer

from .conftest import EIGHT_AUTH, NOON


def test_without_a_clock_the_sandbox_reads_djangos_now(traffic):
    with time_machine.travel(NOON, tick=False), SandboxServer("127.0.0.1", 0) as server:
        rows = requests.get(
            server.base_url("8x8") + "rtstats/stats/agents.json", auth=EIGHT_AUTH, timeout=5
        ).json()
    for row in rows["agent"]:
        assert row["agent-status"] == traffic.agent_state_at("8x8", row["agent-id"], NOON).code


def test_unknown_paths_are_404(http, sandbox):
    assert http.get(sandbox.root_url + "/genesys/api/").status_code == 404
    assert (
        http.get(sandbox.base_url("8x8") + "rtstats/stats/nothing.json", auth=EIGHT_AUTH).status_code == 404
    )
