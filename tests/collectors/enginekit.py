"""A fake vendor adapter and fixtures for the engine tests (import the fixtures you use).

The fake stands in for any vendor's adapter (patched onto `Vendor.adapter`), so the
engine is tested apart from every vendor package. Its volume is a pure function of the
interval, so "the vendor's data" for any window is known and gaps can be counted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import timedelta as td
from unittest import mock

import pytest

from collectors.models import CollectionSchedule
from integrations.models import VendorConnection
from integrations.vendors.base import Vendor
from integrations.vendors.eightbyeight.vendor import EightByEight
from integrations.vendors.records import (
    AgentRecord,
    AgentStateRecord,
    ConfigSnapshot,
    IntervalRecord,
    MembershipRecord,
    QueueRecord,
    StateSnapshot,
)
from tests.conftest import make_connection

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SECRET = "8x8-token-0123456789abcdef"
QUEUES = ("sales", "support")


def volume_of(queue: str, start: datetime, revision: int = 0) -> IntervalRecord:
    n = int(start.timestamp() // 900) % 50
    return IntervalRecord(
        queue, start, entered=n + revision, abandoned=n // 10, handle_seconds=n * 30, queue_name=queue.title()
    )


class FakeAdapter:
    """Answers like a vendor would; set `error` to make the next calls fail."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.error: Exception | None = None
        self.revision = 0
        self.extra: list[IntervalRecord] = []
        self.snapshot: StateSnapshot | None = None
        self.config = ConfigSnapshot(
            queues=[QueueRecord("sales", "Sales"), QueueRecord("support", "Support")],
            agents=[AgentRecord("a1", "Ann"), AgentRecord("a2", "Bob", "Team B")],
            memberships=[MembershipRecord("a1", "sales"), MembershipRecord("a2", "support")],
        )

    def _maybe_fail(self) -> None:
        if self.error is not None:
            raise self.error

    def fetch_volume(self, start: datetime, end: datetime) -> list[IntervalRecord]:
        self.calls.append(("volume", start, end))
        self._maybe_fail()
        records = []
        t = start
        while t < end:
            records.extend(volume_of(q, t, self.revision) for q in QUEUES)
            t += td(minutes=15)
        return records + self.extra

    def fetch_agent_states(self, now: datetime) -> StateSnapshot:
        self.calls.append(("agent_states", now))
        self._maybe_fail()
        if self.snapshot is not None:
            return self.snapshot
        return StateSnapshot(observed_at=now, agents=[AgentStateRecord("a1", "available")])

    def fetch_config(self) -> ConfigSnapshot:
        self.calls.append(("config",))
        self._maybe_fail()
        return self.config


@pytest.fixture
def fake():
    adapter = FakeAdapter()
    # The fake serves settled data at once, so the engine's generic cursor rules apply
    # without 8x8's settle span (tested on its own in test_windows).
    with (
        mock.patch.object(Vendor, "adapter", classmethod(lambda cls, settings: adapter)),
        mock.patch.object(EightByEight, "volume_settle_seconds", 0),
    ):
        yield adapter


@pytest.fixture
def eight(tenant_a) -> VendorConnection:
    """An 8x8 connection (volume, agent states and config) polling agent states every 30 s."""
    conn = make_connection(tenant_a, "8x8", "eight")
    conn.interval_seconds = 30
    conn.save()
    return conn


def schedule_of(conn: VendorConnection, stream: str) -> CollectionSchedule:
    return CollectionSchedule.objects.get(connection=conn, stream=stream)


def execute(claim, now: datetime):
    """What a worker does with a dispatched claim (the body of the collect task)."""
    from collectors.runs import run_collection

    return run_collection(
        CollectionSchedule.objects.get(pk=claim.schedule_id),
        window_start=claim.window_start,
        window_end=claim.window_end,
        task_id=claim.task_id,
        lease_id=claim.lease_id,
        now=now,
    )
