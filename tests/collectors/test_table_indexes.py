"""The big tables carry only the indexes their queries need, and the interval table no
foreign-key constraints: Django's own cascade removes what a deleted connection or queue owned."""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import timedelta as td

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from collectors import gaps
from collectors.models import AgentStateEvent, CollectionRun, CollectionSchedule, IntervalVolume, Queue
from collectors.writers import upsert_intervals
from integrations.vendors.records import IntervalRecord

pytestmark = pytest.mark.django_db
postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's catalogue and plans")

NOW = datetime(2026, 3, 2, 12, 7, tzinfo=UTC)
T0 = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
TABLES = (IntervalVolume, AgentStateEvent, CollectionRun, CollectionSchedule)


def records(queues=("sales", "support"), count=8):
    return [
        IntervalRecord(queue, T0 - td(minutes=15 * n), 10, 1, 600, queue_name=queue.title())
        for queue in queues
        for n in range(count)
    ]


def full_indexes(table: str) -> dict[str, tuple[list[str], bool]]:
    """Each index that is not partial: its columns in order and whether it is unique."""
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT i.relname, ix.indisunique,
                   array(SELECT a.attname FROM unnest(ix.indkey) WITH ORDINALITY k(attnum, n)
                         JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum
                         ORDER BY k.n)
            FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid
            WHERE ix.indrelid = %s::regclass AND ix.indpred IS NULL
            """,
            [table],
        )
        return {name: (columns, unique) for name, unique, columns in cur.fetchall()}


def plan(sql: str, params=()) -> str:
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
        # The test tables are small enough to read whole; the plan is the one a big table gets.
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cur.fetchall())


@postgres
@pytest.mark.parametrize("model", TABLES, ids=lambda m: m.__name__)
def test_no_index_repeats_the_leading_columns_of_another(model):
    indexes = full_indexes(model._meta.db_table)
    redundant = [
        (name, other)
        for name, (columns, unique) in indexes.items()
        for other, (longer, _) in indexes.items()
        if name != other and not unique and longer[: len(columns)] == columns
    ]
    assert redundant == []


@postgres
def test_the_interval_table_has_no_foreign_key_checked_at_commit(conn_a):
    upsert_intervals(conn_a, records(), NOW)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
            [IntervalVolume._meta.db_table],
        )
        assert cur.fetchone()[0] == 0
        # The foreign keys' deferred triggers are what an upsert's COMMIT spent its time in.
        cur.execute(
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = %s::regclass AND tgdeferrable",
            [IntervalVolume._meta.db_table],
        )
        assert cur.fetchone()[0] == 0
    assert IntervalVolume.objects.filter(connection=conn_a).count() == 16


def test_deleting_a_connection_deletes_its_intervals(conn_a, conn_b):
    upsert_intervals(conn_a, records(), NOW)
    upsert_intervals(conn_b, records(), NOW)
    conn_a.delete()
    assert not IntervalVolume.objects.filter(connection_id=conn_a.pk).exists()
    assert IntervalVolume.objects.filter(connection=conn_b).count() == 16


def test_deleting_a_queue_deletes_its_intervals(conn_a):
    upsert_intervals(conn_a, records(), NOW)
    Queue.objects.get(connection=conn_a, vendor_id="sales").delete()
    assert set(IntervalVolume.objects.values_list("queue__vendor_id", flat=True)) == {"support"}
    assert IntervalVolume.objects.count() == 8


@postgres
def test_the_newest_interval_of_each_connection_is_one_step_down_its_index(conn_a, conn_b):
    upsert_intervals(conn_a, records(count=50), NOW)
    upsert_intervals(conn_b, records(count=50), NOW)
    with CaptureQueriesContext(connection) as ctx:
        fresh = gaps.freshness([conn_a.pk, conn_b.pk])
    assert fresh[conn_a.pk].newest_interval == T0
    (sql,) = [q["sql"] for q in ctx.captured_queries if "interval_start" in q["sql"]]
    with connection.cursor() as cur:
        # With two connections in the table, walking the newest intervals of all connections
        # (`interval_start_desc`) finds either one at once, and the planner may take it; with
        # thousands it cannot. Without it (dropped inside this test's transaction, so rolled
        # back), the query must still be a walk down its own index, with no sort.
        cur.execute("DROP INDEX interval_start_desc")
    shown = plan(sql)
    assert "Backward using interval_conn_start" in shown, shown
    assert "Sort" not in shown, shown


@postgres
def test_a_streams_runs_newest_first_are_read_from_the_connection_stream_index(conn_a):
    CollectionRun.objects.bulk_create(
        CollectionRun(connection=conn_a, stream=stream, started_at=T0 - td(minutes=n), status="ok")
        for stream in ("volume", "agent_states", "config")
        for n in range(100)
    )
    qs = CollectionRun.objects.filter(connection=conn_a, stream="volume").order_by("-started_at")[:10]
    sql, params = qs.query.sql_with_params()
    shown = plan(sql, params)
    assert "run_conn_stream_started" in shown, shown
    assert "Sort" not in shown, shown


@postgres
def test_the_health_pass_reads_its_due_streams_through_the_two_due_time_indexes(conn_a, conn_b):
    from collectors import health

    CollectionSchedule.objects.update(late_after=NOW + td(minutes=5), health_due_at=None)
    CollectionSchedule.objects.filter(connection=conn_b).update(late_after=None, health_due_at=T0)
    # The selection alone: on test-sized tables the planner would rather walk the few rows by
    # connection for the page order's joins; at 60k schedules the selective due indexes win.
    sql, params = health.due(NOW).order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cur:
        # A plain index scan of any index, filtered, can look as cheap on a few rows; a bitmap
        # scan needs an index condition, so what is left is the due-time indexes or nothing.
        cur.execute("SET LOCAL enable_indexscan = off")
    shown = plan(sql, params)
    assert "schedule_late_after" in shown, shown
    assert "schedule_health_due" in shown, shown
    assert "Seq Scan" not in shown, shown
    assert set(health.due(NOW).values_list("connection_id", flat=True)) == {conn_b.pk}


@postgres
def test_the_due_time_indexes_hold_only_the_rows_with_a_due_time(conn_a):
    with connection.cursor() as cur:
        cur.execute(
            "SELECT i.relname, pg_get_expr(ix.indpred, ix.indrelid) FROM pg_index ix "
            "JOIN pg_class i ON i.oid = ix.indexrelid WHERE ix.indrelid = %s::regclass",
            [CollectionSchedule._meta.db_table],
        )
        partial = {name: predicate for name, predicate in cur.fetchall() if predicate}
    assert partial["schedule_late_after"] == "(late_after IS NOT NULL)"
    assert partial["schedule_health_due"] == "(health_due_at IS NOT NULL)"
