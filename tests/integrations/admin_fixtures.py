"""Rows of every admin-visible model for one connection, for scoping and query-count tests."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from datetime import timedelta as td

from collectors.models import (
    Agent,
    AgentCurrentState,
    AgentQueue,
    AgentStateEvent,
    CollectionRun,
    CollectionSchedule,
    Cursor,
    DropFile,
    IntervalVolume,
    Queue,
)
from integrations.models import VendorConnection

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
STREAMS = ("volume", "agent_states", "config", "file_drop")


def fill(conn: VendorConnection, n: int, tag: str) -> None:
    """n rows of each collectors model for `conn`; names carry `tag` so pages can be searched."""
    queues = [
        Queue.objects.create(
            connection=conn, vendor_id=f"{tag}-q{i}", name=f"{tag} queue {i}", first_seen=T0, last_seen=T0
        )
        for i in range(n)
    ]
    agents = [
        Agent.objects.create(
            connection=conn, vendor_id=f"{tag}-a{i}", name=f"{tag} agent {i}", first_seen=T0, last_seen=T0
        )
        for i in range(n)
    ]
    for i in range(n):
        AgentQueue.objects.create(agent=agents[i], queue=queues[i], first_seen=T0, last_seen=T0)
        IntervalVolume.objects.create(
            connection=conn,
            queue=queues[i],
            interval_start=T0 + td(minutes=15 * i),
            entered=10,
            abandoned=1,
            handle_seconds=600,
            collected_at=T0,
        )
        AgentStateEvent.objects.create(
            connection=conn, agent=agents[i], state="available", raw_code="READY", start=T0 + td(minutes=i)
        )
        AgentCurrentState.objects.create(
            agent=agents[i], connection=conn, state="available", since=T0, last_seen=T0
        )
        run = CollectionRun.objects.create(
            connection=conn, stream="volume", started_at=T0 + td(minutes=i), status=CollectionRun.OK
        )
        DropFile.objects.create(
            connection=conn,
            name=f"{tag}-file-{i}.csv",
            sha256=hashlib.sha256(f"{tag}-{i}".encode()).hexdigest(),
            size=100,
            received_at=T0,
            status=DropFile.INGESTED,
            run=run,
        )
    for stream in STREAMS[: min(n, len(STREAMS))]:
        # The engine may already have made the schedules when the connection was saved.
        CollectionSchedule.objects.get_or_create(
            connection=conn, stream=stream, defaults={"interval_seconds": 60, "next_run_at": T0}
        )
        Cursor.objects.get_or_create(connection=conn, stream=stream, defaults={"position": T0})


# (model name, text that appears on each row of that model's changelist)
COLLECTOR_PAGES = (
    "queue",
    "agent",
    "agentqueue",
    "intervalvolume",
    "agentstateevent",
    "agentcurrentstate",
    "collectionschedule",
    "cursor",
    "collectionrun",
    "dropfile",
)
