"""Turn a real-time snapshot into agent state transactions by diffing it against the last one.

Only changes write `AgentStateEvent` rows: the agent's open event is closed and a new one
opened. An agent missing from a complete snapshot is logged out. After a gap in polling
(more than GAP_INTERVALS polling intervals without a snapshot) what happened in between is
unknown, so open events end where the agent was last seen, not now. Everything is read and
written in bulk: a constant number of queries per snapshot, not one per agent (two when no
agent changed: one read, the cursor's move). `read_snapshot` reads without writing, so a
poll that changes nothing but the cursor is known before any transaction (`Poll.unchanged`).
The SQL lives in `collectors.backends`.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from datetime import datetime
from datetime import timedelta as td

from django.db import connection as db

from collectors import backends
from collectors.backends import AgentRow, CurrentRow, EventRow
from collectors.conf import app_settings
from collectors.models import Agent, AgentCurrentState, Cursor
from collectors.windows import as_utc
from collectors.writers import resolve_by_vendor_id
from integrations.models import VendorConnection
from integrations.vendors.base import STREAM_AGENT_STATES
from integrations.vendors.errors import DataError
from integrations.vendors.records import NEUTRAL_STATES, AgentStateRecord, StateSnapshot

LOGGED_OUT = "logged_out"
OTHER = "other"
BATCH_SIZE = 1000


@dataclass
class SnapshotResult:
    events_created: int = 0
    events_closed: int = 0
    agents_created: int = 0
    notes: list[str] = field(default_factory=list)


def neutral(record: AgentStateRecord, state_map: dict[str, str]) -> AgentStateRecord:
    """Apply the connection's state-map override (by raw code, then raw label) and the neutral set.

    The override works the same for every vendor. A state outside the neutral set is kept
    raw and stored as `other`.
    """
    state = record.state
    for key in (record.raw_code, record.raw_label):
        if key and key in state_map:
            state = state_map[key]
            break
    raw_code = record.raw_code
    if state not in NEUTRAL_STATES:
        raw_code = raw_code or str(state)[:100]
        state = OTHER
    if state == record.state and raw_code == record.raw_code:
        return record
    return dataclasses.replace(record, state=state, raw_code=raw_code)


def state_of(record: AgentStateRecord) -> tuple[str, str, str, str]:
    return (record.state, record.raw_code[:100], record.raw_label[:200], record.reason_code[:100])


def resolve_agents(
    connection: VendorConnection,
    names: dict[str, str],
    now: datetime,
    result: SnapshotResult,
    rows: list[tuple[str, int, str]],
) -> dict[str, int]:
    """Agent ids by vendor id, agents first seen in a snapshot created on the fly.

    `rows` are the connection's agents (vendor id, id, name), read with their current states.
    """
    ids, created = resolve_by_vendor_id(Agent, connection, names, now, rows)
    if created:
        result.agents_created = created
        result.notes.append(f"{created} agent(s) first seen in this snapshot")
    return ids


# (agent id, its new state's four columns, when the new state began)
Change = tuple[int, tuple[str, str, str, str], datetime]


def apply_snapshot(
    connection: VendorConnection, snapshot: StateSnapshot, *, interval_seconds: int
) -> SnapshotResult:
    """Write the changes a snapshot shows; call inside a transaction.

    The connection's agent-state `Cursor` holds the time of the last snapshot applied: every
    agent of a complete snapshot was seen then (listed, or logged out by absence), so it
    is where open events end after a gap, and an older snapshot is refused.
    """
    return read_snapshot(connection, snapshot, interval_seconds=interval_seconds).apply()


def read_snapshot(connection: VendorConnection, snapshot: StateSnapshot, *, interval_seconds: int) -> Poll:
    """A snapshot checked and read against the stored states, nothing written yet (`Poll`)."""
    result = SnapshotResult(notes=list(snapshot.notes))
    try:
        observed = as_utc(snapshot.observed_at)
    except ValueError as exc:
        raise DataError(f"observed_at {snapshot.observed_at!r}: {exc}") from None
    state_map = dict(connection.state_map or {})

    records: dict[str, AgentStateRecord] = {}
    for record in snapshot.agents:
        if not record.agent_vendor_id:
            raise DataError("agent_vendor_id is empty", sample=repr(record))
        if record.agent_vendor_id in records:
            result.notes.append(f"agent {record.agent_vendor_id!r} appears twice; the last entry is used")
        records[record.agent_vendor_id] = neutral(record, state_map)

    # One statement reads the last poll's time, the agents and their current states: a
    # steady-state poll then writes only the cursor's move.
    last_poll, agents = backends.read_agent_states()(connection)
    # After a gap nobody knows what happened in between: open events end at the last poll.
    gapped = last_poll is not None and observed - last_poll > td(
        seconds=interval_seconds * app_settings.GAP_INTERVALS
    )
    return Poll(connection, observed, snapshot.complete, records, last_poll, agents, gapped, result)


@dataclass
class Poll:
    """A snapshot read against the stored states: `apply` writes what it changes.

    `unchanged` tells, without writing, the common poll that changes nothing but the cursor,
    so the run can store that move with its run row in one statement and no transaction.
    """

    connection: VendorConnection
    observed: datetime
    complete: bool
    records: dict[str, AgentStateRecord]
    last_poll: datetime | None
    agents: list[AgentRow]
    gapped: bool
    result: SnapshotResult
    # The diff `unchanged` found with every agent known: `apply` need not compute it again.
    known_diff: tuple[list[Change], list[str]] | None = None

    @property
    def stale(self) -> bool:
        return self.last_poll is not None and self.observed <= self.last_poll

    def unchanged(self) -> SnapshotResult | None:
        """The result when applying would write nothing but the cursor's move, else None.

        Nothing else is written when every listed agent is known under the name it already
        has (no agent to create or rename) and no agent changed state.
        """
        if self.last_poll is None or self.stale:
            return None
        known = {vid: (agent_id, name) for vid, agent_id, name, _ in self.agents}
        for vid, record in self.records.items():
            stored = known.get(vid)
            if stored is None or (record.agent_name[:300] and record.agent_name[:300] != stored[1]):
                return None
        self.known_diff = changes, notes = self.diff({vid: known[vid][0] for vid in self.records})
        if changes:
            return None
        return dataclasses.replace(self.result, notes=[*self.result.notes, *notes])

    def apply(self) -> SnapshotResult:
        """Write the changes (call inside a transaction) and move the cursor."""
        connection, observed, last_poll, result = self.connection, self.observed, self.last_poll, self.result
        if self.stale and last_poll is not None:
            result.notes.append(
                f"snapshot of {observed.isoformat()} is not newer than the last one "
                f"({as_utc(last_poll).isoformat()}); ignored"
            )
            return result
        agent_ids = resolve_agents(
            connection,
            {vid: r.agent_name[:300] for vid, r in self.records.items()},
            observed,
            result,
            [(vid, agent_id, name) for vid, agent_id, name, _ in self.agents],
        )
        # Every agent known and named alike, so the ids are the ones `unchanged` diffed with.
        changes, notes = self.known_diff or self.diff(agent_ids)
        result.notes.extend(notes)
        current = self.current
        open_since = open_events(connection, [c[0] for c in changes if c[0] in current])
        closes: list[EventRow] = []
        opens: list[EventRow] = []
        currents: list[CurrentRow] = []
        for agent_id, new, start in changes:
            cur = current.get(agent_id)
            if cur is not None and agent_id in open_since:
                since = open_since[agent_id]
                if start <= since:
                    start = observed
                end = max(as_utc(last_poll), since) if self.gapped and last_poll is not None else start
                closes.append((connection.pk, agent_id, *cur, since, end))
            opens.append((connection.pk, agent_id, *new, start, None))
            currents.append((agent_id, connection.pk, *new, start, observed))
        write(closes, opens, currents)
        # The read showed whether the cursor exists; a concurrent first poll loses on the
        # unique key and its transaction rolls back whole.
        moved = last_poll is not None and move_cursor(connection, observed)
        if not moved:
            Cursor.objects.create(connection=connection, stream=STREAM_AGENT_STATES, position=observed)
        result.events_created = len(opens)
        result.events_closed = len(closes)
        return result

    @functools.cached_property
    def current(self) -> dict[int, tuple[str, str, str, str]]:
        # Only the four state columns of every agent: parsing 10,000 timestamps per poll would
        # cost more than the whole diff. `since` is read by `apply` for the agents that changed.
        return {agent_id: state for _, agent_id, _, state in self.agents if state is not None}

    def diff(self, agent_ids: dict[str, int]) -> tuple[list[Change], list[str]]:
        """The state changes of the agents (ids by vendor id), and notes on the snapshot."""
        current, observed, last_poll = self.current, self.observed, self.last_poll
        changes: list[Change] = []
        for vid, record in self.records.items():
            agent_id = agent_ids[vid]
            cur = current.get(agent_id)
            new = state_of(record)
            if cur == new and (not self.gapped or new[0] == LOGGED_OUT):
                continue
            # The vendor's own "since" dates the change when it falls after the last poll.
            start = observed
            if record.since is not None:
                since = as_utc(record.since)
                if since <= observed and (last_poll is None or since > last_poll or cur is None):
                    start = since
            changes.append((agent_id, new, start))

        seen = {agent_ids[vid] for vid in self.records}
        notes = []
        if self.complete:
            for agent_id, cur in current.items():
                if agent_id not in seen and cur[0] != LOGGED_OUT:
                    changes.append((agent_id, (LOGGED_OUT, "", "", ""), observed))
        else:
            absent = sum(1 for agent_id in current if agent_id not in seen)
            notes.append(
                f"snapshot incomplete: {absent} agent(s) not listed were kept in their last state, "
                "not logged out"
            )
        return changes, notes


def open_events(connection: VendorConnection, agent_ids: list[int]) -> dict[int, datetime]:
    """When the current state of each of these agents began (the key of its open event)."""
    since: dict[int, datetime] = {}
    for i in range(0, len(agent_ids), BATCH_SIZE):
        rows = AgentCurrentState.objects.filter(
            connection=connection, agent_id__in=agent_ids[i : i + BATCH_SIZE]
        ).values_list("agent_id", "since")
        since.update((agent_id, as_utc(value)) for agent_id, value in rows)
    return since


def move_cursor(connection: VendorConnection, observed: datetime) -> bool:
    """Move the connection's agent-state cursor; False when it has none yet."""
    sql, params = backends.agent_state_cursor_move()(connection, observed)
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount > 0


def write(closes: list[EventRow], opens: list[EventRow], currents: list[CurrentRow]) -> None:
    """Close events, open events and upsert current states (`collectors.backends`)."""
    backends.write_agent_states()(closes, opens, currents)
