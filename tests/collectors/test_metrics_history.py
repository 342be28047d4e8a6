"""/metrics and the health board's freshness read the same rows however much history is stored."""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import timedelta as td

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from collectors import gaps
from collectors.models import CollectionRun
from collectors.runs import store_outcome
from tests.collectors.healthkit import add_interval, backdate, make_queue, make_run, make_schedule

pytestmark = pytest.mark.django_db
TOKEN = "metrics-secret-0123456789"
NOW = datetime(2024, 3, 12, 0, 7, tzinfo=UTC)


@pytest.fixture(autouse=True)
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.HEALTH_GRACE_SECONDS = {"volume": 0}
    settings.HEALTH_GAP_DAYS = 7


def collect_history(conn, queue, first: datetime, last: datetime) -> None:
    """An hourly volume run for every hour in [first, last), each storing its four intervals."""
    sched = make_schedule(conn, "volume")
    t = first
    while t < last:
        for k in range(4):
            add_interval(queue, t + k * gaps.INTERVAL)
        run = make_run(conn, "volume", CollectionRun.OK, t + td(hours=1), window=(t, t + td(hours=1)), rows=4)
        store_outcome(sched, run, t + td(hours=1))
        t += td(hours=1)


def scrape(client) -> tuple[list[str], str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    return [q["sql"] for q in ctx.captured_queries], response.content.decode()


def gap_sample(body: str) -> str:
    return next(
        line
        for line in body.splitlines()
        if line.startswith("switchboard_connection_gap_intervals") and 'stream="volume"' in line
    )


@time_machine.travel(NOW, tick=False)
def test_a_scrape_never_reads_the_runs_and_reads_no_more_after_weeks_of_history(client, conn_a):
    backdate(conn_a, NOW - td(days=30))
    queue = make_queue(conn_a)
    grid = gaps.floor_interval(NOW)
    collect_history(conn_a, queue, grid - td(hours=6), grid)
    few, body = scrape(client)
    assert gap_sample(body).endswith(" " + str(float(7 * 96 - 24)))

    collect_history(conn_a, queue, grid - td(days=20), grid - td(hours=6))
    many, body = scrape(client)
    assert gap_sample(body).endswith(" 0.0")
    assert len(many) <= len(few)
    assert not any("collectors_collectionrun" in sql for sql in few + many)
    # The runs answered for the whole window: no stored interval needs reading.
    assert not any("collectors_intervalvolume" in sql for sql in many)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="EXPLAIN plans are PostgreSQL's")
def test_freshness_steps_back_once_per_connection_down_the_interval_index(conn_a, conn_b):
    queue = make_queue(conn_a)
    for hours in range(48):
        add_interval(queue, gaps.floor_interval(NOW) - td(hours=hours))
    # Another connection's newer intervals: walking all intervals newest first would read them.
    other = make_queue(conn_b)
    for k in range(400):
        add_interval(other, gaps.floor_interval(NOW) + k * gaps.INTERVAL)
    with CaptureQueriesContext(connection) as ctx:
        fresh = gaps.freshness([conn_a.pk])
    assert fresh[conn_a.pk].newest_interval == gaps.floor_interval(NOW)
    (sql,) = [q["sql"] for q in ctx.captured_queries if "collectors_intervalvolume" in q["sql"]]
    with connection.cursor() as cur:
        cur.execute("ANALYZE collectors_intervalvolume")
        # Tables this small are cheaper to read whole; the plan is the one a big table gets.
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cur.fetchall())
    assert "Scan Backward using interval_conn_start" in plan
    assert "Limit" in plan and "Aggregate" not in plan
