"""Every endpoint of the read API, as the schema names it, with how the tests reach its rows.

test_schema walks the schema's paths and fails on one missing here; test_tenancy_matrix
exercises every entry here with every key and every filter. So an endpoint added to the
API without a test of its tenancy fails the suite.
"""

from __future__ import annotations

from dataclasses import dataclass

from collectors.models import (
    Agent,
    AgentCurrentState,
    AgentQueue,
    AgentStateEvent,
    CollectionRun,
    CollectionSchedule,
    IntervalVolume,
    Queue,
)
from integrations.models import VendorConnection
from tokens.models import AccessToken


@dataclass(frozen=True)
class Endpoint:
    name: str
    model: type
    connection_lookup: str  # from the model to its connection's id
    scope: str
    time_filter: bool = False
    csv: bool = False

    @property
    def list_path(self) -> str:
        return f"/api/v1/{self.name}/"

    @property
    def detail_pattern(self) -> str:
        return f"/api/v1/{self.name}/{{{'agent' if self.model is AgentCurrentState else 'id'}}}/"

    def ids_of(self, connection: VendorConnection) -> list[int]:
        return list(
            self.model.objects.filter(**{self.connection_lookup: connection.pk}).values_list("pk", flat=True)
        )


ENDPOINTS = (
    Endpoint("connections", VendorConnection, "pk", "data:read"),
    Endpoint("queues", Queue, "connection", "data:read"),
    Endpoint("agents", Agent, "connection", "data:read"),
    Endpoint("memberships", AgentQueue, "agent__connection", "data:read"),
    Endpoint("intervals", IntervalVolume, "connection", "data:read", time_filter=True, csv=True),
    Endpoint("state-events", AgentStateEvent, "connection", "data:read", time_filter=True, csv=True),
    Endpoint("current-states", AgentCurrentState, "connection", "data:read"),
    Endpoint("stream-health", CollectionSchedule, "connection", "health:read"),
    Endpoint("runs", CollectionRun, "connection", "health:read", time_filter=True),
    Endpoint("token-expiries", AccessToken, "connection", "tokens:read"),
)
