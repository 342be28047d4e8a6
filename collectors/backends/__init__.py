"""How each write path's rows reach the tables, chosen by the database in use.

What to write (validation, idempotence, the counts a run reports) is decided once, in
`collectors.writers` and `collectors.agent_states`; only the SQL mechanics differ between
databases, and they live here, one small module per write path and dialect:

* interval volume: `intervals_pg` on PostgreSQL (batches streamed by binary COPY into a
  temporary table, then one merge that skips unchanged rows), `intervals_orm` elsewhere (read
  the stored counts, bulk-upsert what changed);
* agent-state events and current states: `agent_states_sql` everywhere (one read of the
  last poll's time with every agent and its current state; multi-row INSERT … ON CONFLICT
  writes, the same syntax on PostgreSQL and SQLite 3.24+; the cursor's move, one UPDATE, with
  the run row in the same statement where the database allows).

The configuration import is plain ORM on every database and needs no backend. Each registry
below maps `connection.vendor` to a dotted path, "" being every other database; the module
is imported on first use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from functools import cache
from typing import Any, cast

from django.db import connection as db
from django.utils.module_loading import import_string

from integrations.models import VendorConnection

# A checked interval row: (queue id, start in UTC, entered, abandoned, handle_seconds).
IntervalRow = tuple[int, datetime, int, int, int]
# (connection, batches of checked rows, no queue and start twice, collected_at) -> (created, updated)
MergeIntervals = Callable[[VendorConnection, Iterable[list[IntervalRow]], datetime], tuple[int, int]]
# The columns of an agent state, in events and in current states alike.
STATE_FIELDS = ("state", "raw_code", "raw_label", "reason_code")
# Rows of agent-state events (connection_id, agent_id, state, raw_code, raw_label, reason_code,
# start, end) and of current states (agent_id, connection_id, the four state columns, since,
# last_seen), datetimes as Python values.
EventRow = tuple[int, int, str, str, str, str, datetime, datetime | None]
CurrentRow = tuple[int, int, str, str, str, str, datetime, datetime]
# (events to close, events to open, current states to upsert) -> None
WriteAgentStates = Callable[[list[EventRow], list[EventRow], list[CurrentRow]], None]
# A connection's agent (vendor id, id, name, its current state's four columns or None).
AgentRow = tuple[str, int, str, tuple[str, str, str, str] | None]
# (connection) -> (the agent-state cursor's position or None if there is none, the agents)
ReadAgentStates = Callable[[VendorConnection], tuple[datetime | None, list[AgentRow]]]
# (connection, the snapshot's time) -> the UPDATE that moves its agent-state cursor, and its
# parameters (run alone, or with the run row: `collectors.rows.insert_if`)
AgentStateCursorMove = Callable[[VendorConnection, datetime], tuple[str, list[Any]]]

MERGE_INTERVALS = {
    "postgresql": "collectors.backends.intervals_pg.merge",
    "": "collectors.backends.intervals_orm.merge",
}
WRITE_AGENT_STATES = {"": "collectors.backends.agent_states_sql.write"}
READ_AGENT_STATES = {"": "collectors.backends.agent_states_sql.read"}
AGENT_STATE_CURSOR_MOVE = {"": "collectors.backends.agent_states_sql.cursor_move"}


def merge_intervals() -> MergeIntervals:
    return cast(MergeIntervals, _for_database(MERGE_INTERVALS))


def write_agent_states() -> WriteAgentStates:
    return cast(WriteAgentStates, _for_database(WRITE_AGENT_STATES))


def read_agent_states() -> ReadAgentStates:
    return cast(ReadAgentStates, _for_database(READ_AGENT_STATES))


def agent_state_cursor_move() -> AgentStateCursorMove:
    return cast(AgentStateCursorMove, _for_database(AGENT_STATE_CURSOR_MOVE))


def _for_database(registry: dict[str, str]) -> Any:
    return _load(registry.get(db.vendor, registry[""]))


@cache
def _load(path: str) -> Any:
    return import_string(path)
