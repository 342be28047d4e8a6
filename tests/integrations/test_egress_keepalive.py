"""Vendor clients of one process share kept-alive connections, and nothing else."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from integrations.egress import egress_session
from integrations.vendors.eightbyeight.client import EightByEightClient
from tests.integrations.egresskit import RecordingServer


@pytest.fixture
def server(settings) -> Iterator[RecordingServer]:
    settings.VENDOR_EGRESS_ALLOW = ["127.0.0.1/32"]
    served = RecordingServer(keep_alive=True)
    served.answer = lambda path: (200, {"Set-Cookie": "vendor_session=tenant-a-only"}, "[]")
    yield served
    served.stop()


def client(server: RecordingServer, tenant: str) -> EightByEightClient:
    return EightByEightClient(server.url("/8x8/api/"), tenant, f"{tenant}-token-0123456789")


def test_two_tenants_clients_reuse_one_connection_each_with_its_own_credentials(server):
    first, second = client(server, "tenant-a"), client(server, "tenant-b")
    first.request("GET", server.url("/8x8/api/agents"))
    first.session.close()  # a run's client is done; the process keeps the connection
    second.request("GET", server.url("/8x8/api/agents"))
    assert len(server.received) == 2
    assert server.received[0].peer == server.received[1].peer  # one TCP connection for both
    assert server.received[0].headers["Authorization"] != server.received[1].headers["Authorization"]
    # The first tenant's cookie stays on its own session: the second never sends it.
    assert "Cookie" not in server.received[1].headers


def test_a_session_of_its_own_opens_its_own_connection(server):
    for _ in range(2):
        with egress_session() as session:
            session.get(server.url("/hook"), timeout=5)
    assert server.received[0].peer != server.received[1].peer
