"""Interval volume on PostgreSQL: binary COPY into a temporary table, then one merge.

No model instance per row and no rendered VALUES lists. The staging tables are
session-local and dropped at commit; each is emptied first because an earlier call in the
same (outer) transaction may have used it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import connection as db

from collectors.backends import IntervalRow
from collectors.interval_rules import staged_check_params, staged_check_sql
from integrations.models import VendorConnection

STAGE_SQL = """
CREATE TEMP TABLE IF NOT EXISTS switchboard_interval_stage (
    queue_id bigint NOT NULL, interval_start timestamptz NOT NULL,
    entered integer NOT NULL, abandoned integer NOT NULL, handle_seconds bigint NOT NULL
) ON COMMIT DROP;
TRUNCATE switchboard_interval_stage
"""
COPY_SQL = """
COPY switchboard_interval_stage (queue_id, interval_start, entered, abandoned, handle_seconds)
FROM STDIN (FORMAT BINARY)
"""
COPY_TYPES = ["int8", "timestamptz", "int4", "int4", "int8"]
# Unchanged rows are filtered by the DO UPDATE's WHERE, so they are neither rewritten nor
# returned; `xmax = 0` tells an inserted row from an updated one. Rows go in key order so two
# writers lock overlapping rows in the same order (no deadlock).
_MERGE_SQL = """
WITH written AS (
    INSERT INTO collectors_intervalvolume AS t
        (connection_id, queue_id, interval_start, entered, abandoned, handle_seconds, collected_at)
    SELECT %s, s.queue_id, s.interval_start, s.entered, s.abandoned, s.handle_seconds, %s
    FROM switchboard_interval_stage s{where}
    ORDER BY s.queue_id, s.interval_start
    ON CONFLICT (queue_id, interval_start) DO UPDATE SET
        entered = EXCLUDED.entered,
        abandoned = EXCLUDED.abandoned,
        handle_seconds = EXCLUDED.handle_seconds,
        collected_at = EXCLUDED.collected_at
    WHERE (t.entered, t.abandoned, t.handle_seconds)
        IS DISTINCT FROM (EXCLUDED.entered, EXCLUDED.abandoned, EXCLUDED.handle_seconds)
    RETURNING (t.xmax = 0) AS created
)
SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created) FROM written
"""
MERGE_SQL = _MERGE_SQL.format(where="")

# From this many staged rows, stored rows are updated by one UPDATE … FROM and only the rest go
# through INSERT … ON CONFLICT (an anti-join first), which spares ON CONFLICT's speculative
# insertion of every stored row: about 1.2 times as fast at 100k rows and more. The UPDATE cannot
# order its row locks, so two big writers of the same rows at once could deadlock (PostgreSQL
# then fails one, whose run is retried); small writes, polls and 15-minute drops, the ones that
# do meet, keep the single ordered statement. The INSERT's ON CONFLICT covers a row another
# writer inserted since the UPDATE's snapshot (counted as updated when it changes).
SPLIT_FROM = 5000
UPDATE_SQL = """
UPDATE collectors_intervalvolume t SET
    entered = s.entered, abandoned = s.abandoned, handle_seconds = s.handle_seconds, collected_at = %s
FROM switchboard_interval_stage s
WHERE t.queue_id = s.queue_id AND t.interval_start = s.interval_start
    AND (t.entered, t.abandoned, t.handle_seconds) IS DISTINCT FROM (s.entered, s.abandoned, s.handle_seconds)
"""
# The same merge of only the staged rows not stored yet (an anti-join).
INSERT_SQL = _MERGE_SQL.format(
    where="""
    WHERE NOT EXISTS (
        SELECT 1 FROM collectors_intervalvolume v
        WHERE v.queue_id = s.queue_id AND v.interval_start = s.interval_start
    )"""
)

# Interval totals computed in the database (a call-detail file's recomputed intervals) are
# staged here by queue vendor id, before their queues have ids. Wider columns than the
# model's, so that a total too large for it is refused by the rules rather than by an overflow.
NAMED_TABLE = "switchboard_interval_named"
NAMED_STAGE_SQL = f"""
CREATE TEMP TABLE IF NOT EXISTS {NAMED_TABLE} (
    queue_vendor_id text NOT NULL, interval_start timestamptz NOT NULL,
    entered bigint NOT NULL, abandoned bigint NOT NULL, handle_seconds numeric NOT NULL
) ON COMMIT DROP;
TRUNCATE {NAMED_TABLE}
"""
NAMED_CHECK_SQL = staged_check_sql(NAMED_TABLE)


def merge(
    connection: VendorConnection,
    batches: Iterable[list[IntervalRow]],
    collected_at: datetime,
) -> tuple[int, int]:
    """COPY each batch into a temporary table, then merge it, skipping unchanged rows.

    Only one batch is held at a time. Between two COPYs the caller may query (to create the
    queues the next batch names), which is why each batch is its own COPY.
    """
    with db.cursor() as cur:
        cur.execute(STAGE_SQL)
        staged = 0
        for rows in batches:
            staged += len(rows)
            with cur.copy(COPY_SQL) as copy:
                copy.set_types(COPY_TYPES)
                write = copy.write_row
                for row in rows:
                    write(row)
        if staged < SPLIT_FROM:
            cur.execute(MERGE_SQL, [connection.pk, collected_at])
            created, updated = cur.fetchone()
            return created, updated
        # Statistics let the planner hash-join a big stage instead of probing the index per row.
        cur.execute("ANALYZE switchboard_interval_stage")
        cur.execute(UPDATE_SQL, [collected_at])
        updated = cur.rowcount
        cur.execute(INSERT_SQL, [connection.pk, collected_at])
        created, raced = cur.fetchone()
    return created, updated + raced


def first_broken_named(latest: datetime) -> tuple[Any, ...] | None:
    """The first staged total that breaks a rule of `collectors.interval_rules`, if any."""
    with db.cursor() as cur:
        cur.execute(NAMED_CHECK_SQL, staged_check_params(latest))
        return cur.fetchone()


def named_queue_ids() -> list[str]:
    with db.cursor() as cur:
        cur.execute(f"SELECT DISTINCT queue_vendor_id FROM {NAMED_TABLE}")  # noqa: S608 (a constant)
        return [vid for (vid,) in cur.fetchall()]


def merge_named(
    connection: VendorConnection, queue_ids: dict[str, int], collected_at: datetime
) -> tuple[int, int, datetime, datetime]:
    """Merge the staged totals like `merge`; return (created, updated, first start, last start)."""
    with db.cursor() as cur:
        cur.execute(STAGE_SQL)
        cur.execute(
            "INSERT INTO switchboard_interval_stage "  # noqa: S608 (a constant)
            "(queue_id, interval_start, entered, abandoned, handle_seconds) "
            "SELECT q.id, n.interval_start, n.entered, n.abandoned, n.handle_seconds "
            f"FROM {NAMED_TABLE} n JOIN unnest(%s::text[], %s::bigint[]) AS q (vid, id) "
            "ON q.vid = n.queue_vendor_id",
            [list(queue_ids), list(queue_ids.values())],
        )
        cur.execute(MERGE_SQL, [connection.pk, collected_at])
        created, updated = cur.fetchone()
        cur.execute(f"SELECT min(interval_start), max(interval_start) FROM {NAMED_TABLE}")  # noqa: S608 (a constant)
        first, last = cur.fetchone()
    return created, updated, first, last
