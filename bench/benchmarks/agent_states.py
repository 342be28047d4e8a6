"""4) One agent-state poll: N agents, 10% changed since the last poll, diffed and written.

Both sides start from the same stored state (N agents, each with a current state and an open
event, last seen 30 s ago) and apply the same complete snapshot. Switchboard runs
`collectors.agent_states.apply_snapshot` in a transaction; the reference is the same diff
done set-based in PostgreSQL (COPY the snapshot, then one statement each to close, open and
move the current state), the floor for this work.
"""

from __future__ import annotations

from datetime import timedelta as td
from pathlib import Path
from typing import Any

from bench.benchmarks.fixtures import analyze, bench_connection, truncate
from bench.harness import COUNTER, SWITCHBOARD, Benchmark

CONNECTION = "agent-states"
BEFORE = ("available", "0", "Available")
AFTER = ("busy", "2", "Busy")


def changed(n: int) -> bool:
    return n % 10 == 0


class AgentStates(Benchmark):
    name = "agent_states"
    title = "Agent-state snapshot diff (10% changed)"
    unit = "agents"
    sizes = {"tiny": (200,), "small": (1_000, 10_000), "full": (1_000, 10_000, 50_000)}
    switchboard_label = "collectors.agent_states.apply_snapshot in one transaction"
    reference_label = "set-based SQL: COPY the snapshot, close/open/move with one statement each"
    target = "linear in agents; under 1 s for 10k"

    def missing(self) -> str | None:
        try:
            from collectors.agent_states import apply_snapshot  # noqa: F401
        except ImportError as exc:
            return f"collectors.agent_states.apply_snapshot not importable ({exc})"
        return None

    def setup(self, side: str, size: int, workdir: Path) -> Any:
        from django.db import connection as db
        from django.utils import timezone

        from collectors.models import Cursor
        from integrations.vendors.base import STREAM_AGENT_STATES
        from integrations.vendors.records import AgentStateRecord, StateSnapshot

        conn = bench_connection(CONNECTION, "8x8", base_url="http://127.0.0.1:8765/8x8/api/")
        truncate("collectors_agent")
        # The last poll's time survives a run: left in place, the next run's snapshot comes
        # minutes after it, is taken for a gap, and every open event is closed and reopened.
        Cursor.objects.filter(connection=conn, stream=STREAM_AGENT_STATES).delete()
        now = timezone.now().replace(microsecond=0)
        last_seen, since = now - td(seconds=30), now - td(minutes=20)
        with db.cursor() as cur:
            with cur.copy(
                'COPY collectors_agent (connection_id, vendor_id, name, "group", active, first_seen,'
                " last_seen) FROM STDIN"
            ) as copy:
                for n in range(size):
                    copy.write_row((conn.id, f"a{n}", f"Agent {n}", "", True, since, last_seen))
            cur.execute("SELECT id FROM collectors_agent WHERE connection_id = %s ORDER BY id", [conn.id])
            ids = [row[0] for row in cur.fetchall()]
            with cur.copy(
                "COPY collectors_agentcurrentstate (agent_id, connection_id, state, raw_code, raw_label,"
                " reason_code, since, last_seen) FROM STDIN"
            ) as copy:
                for agent_id in ids:
                    copy.write_row((agent_id, conn.id, *BEFORE, "", since, last_seen))
            with cur.copy(
                "COPY collectors_agentstateevent (connection_id, agent_id, state, raw_code, raw_label,"
                " reason_code, start) FROM STDIN"
            ) as copy:
                for agent_id in ids:
                    copy.write_row((conn.id, agent_id, *BEFORE, "", since))
        analyze("collectors_agent", "collectors_agentcurrentstate", "collectors_agentstateevent")
        snapshot = StateSnapshot(
            observed_at=now,
            agents=[
                AgentStateRecord(
                    f"a{n}",
                    (AFTER if changed(n) else BEFORE)[0],
                    raw_code=(AFTER if changed(n) else BEFORE)[1],
                    raw_label=(AFTER if changed(n) else BEFORE)[2],
                    agent_name=f"Agent {n}",
                )
                for n in range(size)
            ],
        )
        return {"connection": conn, "snapshot": snapshot, "now": now}

    def run(self, side: str, size: int, state: Any) -> dict[str, Any]:
        from django.db import transaction

        conn, snapshot = state["connection"], state["snapshot"]
        if side == SWITCHBOARD:
            from collectors.agent_states import apply_snapshot

            with transaction.atomic():
                result = apply_snapshot(conn, snapshot, interval_seconds=30)
            return {"opened": result.events_created, "closed": result.events_closed}
        return self._sql(conn, snapshot)

    def _sql(self, conn, snapshot) -> dict[str, Any]:
        from django.db import connection as db
        from django.db import transaction

        obs = snapshot.observed_at
        with transaction.atomic(), db.cursor() as cur:
            cur.execute(
                "CREATE TEMP TABLE snap (vendor_id text, state text, raw_code text, raw_label text,"
                " reason_code text) ON COMMIT DROP"
            )
            COUNTER.note()  # the COPY bypasses Django's execute wrappers
            with cur.copy("COPY snap FROM STDIN") as copy:
                for r in snapshot.agents:
                    copy.write_row((r.agent_vendor_id, r.state, r.raw_code, r.raw_label, r.reason_code))
            cur.execute(
                "CREATE TEMP TABLE changed ON COMMIT DROP AS"
                " SELECT a.id AS agent_id, s.state, s.raw_code, s.raw_label, s.reason_code, c.since"
                " FROM snap s JOIN collectors_agent a ON a.connection_id = %s AND a.vendor_id = s.vendor_id"
                " JOIN collectors_agentcurrentstate c ON c.agent_id = a.id"
                " WHERE (c.state, c.raw_code, c.raw_label, c.reason_code)"
                " IS DISTINCT FROM (s.state, s.raw_code, s.raw_label, s.reason_code)",
                [conn.id],
            )
            cur.execute(
                'UPDATE collectors_agentstateevent e SET "end" = %s FROM changed ch'
                " WHERE e.agent_id = ch.agent_id AND e.start = ch.since",
                [obs],
            )
            closed = cur.rowcount
            cur.execute(
                "INSERT INTO collectors_agentstateevent (connection_id, agent_id, state, raw_code, raw_label,"
                " reason_code, start) SELECT %s, agent_id, state, raw_code, raw_label, reason_code, %s"
                " FROM changed",
                [conn.id, obs],
            )
            opened = cur.rowcount
            cur.execute(
                "UPDATE collectors_agentcurrentstate c SET state = ch.state, raw_code = ch.raw_code,"
                " raw_label = ch.raw_label, reason_code = ch.reason_code, since = %s"
                " FROM changed ch WHERE c.agent_id = ch.agent_id",
                [obs],
            )
            cur.execute(
                "UPDATE collectors_agentcurrentstate SET last_seen = %s WHERE connection_id = %s",
                [obs, conn.id],
            )
        return {"opened": opened, "closed": closed}

    def verify(self, side: str, size: int, state: Any, result: dict[str, Any]) -> dict[str, Any]:
        from collectors.models import AgentCurrentState, AgentStateEvent

        conn = state["connection"]
        moved = sum(1 for n in range(size) if changed(n))
        events = AgentStateEvent.objects.filter(connection=conn)
        open_ = events.filter(end__isnull=True).count()
        busy = AgentCurrentState.objects.filter(connection=conn, state=AFTER[0]).count()
        if (events.count(), open_, busy) != (size + moved, size, moved):
            raise AssertionError(
                f"{side}: {events.count()} events ({open_} open), {busy} busy; "
                f"expected {size + moved} ({size} open), {moved} busy"
            )
        return {"changed": moved}

    def verdict(self, table: list[dict[str, Any]]) -> tuple[bool | None, str]:
        rows = [r for r in table if r.get("sb_seconds") is not None]
        if not rows:
            return None, "not measured"
        at10k = next((r for r in rows if r["size"] == 10_000), None)
        first, last = rows[0], rows[-1]
        growth = (last["sb_seconds"] / first["sb_seconds"]) / (last["size"] / first["size"])
        linear = growth <= 1.5
        fast = at10k is None or at10k["sb_seconds"] < 1.0
        text = (
            f"time per agent ×{growth:.2f} from {first['size']:,} to {last['size']:,} agents "
            f"({'linear or better' if linear else 'worse than linear'}; linear means ≤ ×1.5)"
        )
        text += f"; {at10k['sb_seconds']:.2f} s at 10k (target < 1 s)" if at10k else "; 10k not run"
        return linear and fast, text
