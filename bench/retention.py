"""7) Retention: `/metrics` and the three big changelists as the tables grow, and storage per
connection-day before and after `prune`.

    python -m bench.retention [--sizes tiny|default|full] [--reps 3] [--out bench/RESULTS.md]

Sizes are rows per table (runs, agent state events, intervals): `default` 10k and 1M, `full`
adds 10M (about 15 minutes to generate on 2 cores, so it is opt-in), `tiny` is the smoke test's.
Rows are generated in PostgreSQL (`INSERT … SELECT … FROM generate_series`), each new row older
than the last: a bigger table is more history behind the same recent rows, which is how these
tables grow. Every page is requested through Django's test client, in this process, as a
superuser and as a manager of one tenant of twenty; the median of `--reps` is reported with the
number of queries. Beside each, the statement the code before retention ran on every request
(the whole-table aggregate of /metrics, the changelist's full COUNT(*)) is timed once, as the
reference.

Storage: C connections write D days of rows at the rates of a real 8x8 or TCN connection (an
agent-state poll every 10 s, history every 15 minutes, configuration hourly, 20 agents, 10 queues,
5,000 TCN calls a day); the table sizes (`pg_total_relation_size`) and rows are taken, then
`prune` runs with the default policies and a 30-day tenant retention, and the rows kept are
counted. Their bytes are the rows times each table's bytes per row before pruning: the steady
state once autovacuum reuses the freed pages. (A `VACUUM FULL` measurement is not used: on a
shared server another session's open snapshot keeps the dead rows, which is what happened here.)

Uses a database of its own (BENCH_RETENTION_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/sb_bench_retention), dropped and created at the start. Writes
bench/RETENTION.md and puts it into `--out` as its Retention section (bench/report.py carries it over when
`make bench` rewrites the file).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench.services import ROOT, ServiceMissing, bench_environment, ensure_database, migrate

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/sb_bench_retention"
SIZES = {
    "tiny": (1_000, 5_000),
    "default": (10_000, 1_000_000),
    "full": (10_000, 1_000_000, 10_000_000),
}
TENANTS = 20
CONNECTIONS_PER_TENANT = 5
AGENTS = 20  # per connection
QUEUES = 10  # per connection
TOKEN = "bench-metrics-token-0123456789"
SECTION = "## Retention: /metrics, changelists and storage"
# Storage simulation: (connections, days) per size key.
STORAGE = {"tiny": (1, 12), "default": (4, 40), "full": (4, 40)}
CALLS_PER_DAY = 5_000
POLL_SECONDS = 10

PAGES = (
    ("runs", "/admin/collectors/collectionrun/"),
    ("runs, failed", "/admin/collectors/collectionrun/?status__exact=failed"),
    ("runs, stream volume", "/admin/collectors/collectionrun/?stream__exact=volume"),
    ("runs, one connection", "/admin/collectors/collectionrun/?connection__id__exact={conn}"),
    ("agent state events", "/admin/collectors/agentstateevent/"),
    ("agent state events, state break", "/admin/collectors/agentstateevent/?state__exact=break"),
    ("intervals", "/admin/collectors/intervalvolume/"),
    ("intervals, one tenant", "/admin/collectors/intervalvolume/?connection__tenant__id__exact={tenant}"),
)
BIG_TABLES = ("collectors_collectionrun", "collectors_agentstateevent", "collectors_intervalvolume")
# The aggregate /metrics ran over every run before the per-stream totals (collectors/metrics.py).
OLD_METRICS_SQL = """
SELECT connection_id, stream, count(id), sum(finished_at - started_at), sum(rows_created + rows_updated),
  count(id) FILTER (WHERE finished_at - started_at <= interval '0.25 s'),
  count(id) FILTER (WHERE finished_at - started_at <= interval '1 s'),
  count(id) FILTER (WHERE finished_at - started_at <= interval '10 s'),
  count(id) FILTER (WHERE finished_at - started_at <= interval '900 s')
FROM collectors_collectionrun WHERE finished_at IS NOT NULL GROUP BY connection_id, stream
"""


@dataclass
class Timing:
    label: str
    user: str
    seconds: float
    in_db: float
    queries: int


@dataclass
class SizeResult:
    size: int
    timings: list[Timing] = field(default_factory=list)
    reference: dict[str, float] = field(default_factory=dict)
    generate_seconds: float = 0.0


# --- the database ------------------------------------------------------------------------------


def fresh_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(("postgresql", parts.netloc, "/postgres", "", ""))
    ensure_database(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def execute(statement: str, params: list[Any] | tuple[Any, ...] = ()) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(statement, params)
        return cur.fetchall() if cur.description else []


def world() -> dict[str, Any]:
    """Twenty tenants of five 8x8 connections (their schedules), agents, queues and two users."""
    from django.contrib.auth import get_user_model

    from bench.benchmarks.fixtures import CREDENTIALS
    from integrations.models import Membership, Tenant, VendorConnection

    conns = []
    for t in range(TENANTS):
        tenant = Tenant.objects.create(name=f"Tenant {t:02d}", slug=f"tenant-{t:02d}")
        for c in range(CONNECTIONS_PER_TENANT):
            conn = VendorConnection(tenant=tenant, vendor="8x8", name=f"conn-{c}")
            conn.apply_vendor_defaults()
            conn.set_values("realtime", CREDENTIALS["8x8"])
            conn.save()
            conns.append(conn.pk)
    now = datetime.now(UTC)
    execute(
        "INSERT INTO collectors_agent"
        ' (connection_id, vendor_id, name, "group", active, first_seen, last_seen)'
        " SELECT c, 'a' || g, 'Agent ' || g, '', true, %s, %s FROM unnest(%s::int[]) c,"
        " generate_series(1, %s) g",
        [now, now, conns, AGENTS],
    )
    execute(
        "INSERT INTO collectors_queue (connection_id, vendor_id, name, active, first_seen, last_seen)"
        " SELECT c, 'q' || g, 'Queue ' || g, true, %s, %s FROM unnest(%s::int[]) c, generate_series(1, %s) g",
        [now, now, conns, QUEUES],
    )
    user_model = get_user_model()
    superuser = user_model.objects.create_superuser("bench-admin", "admin@example.com", "x")
    manager = user_model.objects.create_user("bench-manager", "manager@example.com", "x", is_staff=True)
    first = Tenant.objects.order_by("pk").first()
    Membership.objects.create(user=manager, tenant=first, role=Membership.MANAGER)
    return {"now": now, "superuser": superuser, "manager": manager, "tenant": first.pk, "conn": conns[0]}


def grow(current: int, target: int, now: datetime) -> None:
    """Rows current+1 … target of each big table, each older than the ones before."""
    if target <= current:
        return
    # Runs: 100 connections, about 10 a second, at the mix of real ones (a poll every 10 s,
    # history every 15 minutes, configuration hourly, files every 15 minutes), 2% failed.
    execute(
        """
        INSERT INTO collectors_collectionrun (connection_id, stream, window_start, window_end, started_at,
          finished_at, status, rows_created, rows_updated, rows_deactivated, error_class, error_message,
          payload_sample, notes, task_id, source, lease_id)
        SELECT c.ids[1 + g %% array_length(c.ids, 1)],
          CASE WHEN g %% 1000 < 975 THEN 'agent_states' WHEN g %% 1000 < 986 THEN 'volume'
               WHEN g %% 1000 < 989 THEN 'config' ELSE 'file_drop' END,
          NULL, NULL, %(now)s - g * interval '100 ms', %(now)s - g * interval '100 ms' + interval '300 ms',
          CASE WHEN g %% 50 = 0 THEN 'failed' ELSE 'ok' END, g %% 7, 0, 0,
          CASE WHEN g %% 50 = 0 THEN 'TransientError' ELSE '' END,
          CASE WHEN g %% 50 = 0 THEN 'vendor answered 503' ELSE '' END, '', '', 'collect:' || g, '', ''
        FROM generate_series(%(lo)s, %(hi)s) g,
          (SELECT array_agg(id ORDER BY id) AS ids FROM integrations_vendorconnection) c
        """,
        {"now": now, "lo": current + 1, "hi": target},
    )
    # Events: each agent changes state about every 33 minutes; the newest of each is open.
    execute(
        """
        WITH a AS (SELECT array_agg(id ORDER BY id) AS ids, array_agg(connection_id ORDER BY id) AS conns
                   FROM collectors_agent)
        INSERT INTO collectors_agentstateevent (connection_id, agent_id, state, raw_code, raw_label,
          reason_code, start, "end")
        SELECT a.conns[1 + g %% n], a.ids[1 + g %% n],
          (ARRAY['available', 'busy', 'wrap_up', 'break', 'offered', 'work_offline', 'logged_out',
                 'other'])[1 + (g / n) %% 8],
          'code', 'label', '',
          date_trunc('second', %(now)s) - g * interval '1 s',
          CASE WHEN g < n THEN NULL ELSE date_trunc('second', %(now)s) - (g - n) * interval '1 s' END
        FROM a, LATERAL (SELECT array_length(a.ids, 1) AS n) k, generate_series(%(lo)s, %(hi)s) g
        """,
        {"now": now, "lo": current, "hi": target - 1},
    )
    # Intervals: every queue, one 15-minute interval after another going back.
    execute(
        """
        WITH q AS (SELECT array_agg(id ORDER BY id) AS ids, array_agg(connection_id ORDER BY id) AS conns
                   FROM collectors_queue)
        INSERT INTO collectors_intervalvolume (connection_id, queue_id, interval_start, entered, abandoned,
          handle_seconds, collected_at)
        SELECT q.conns[1 + g %% n], q.ids[1 + g %% n],
          date_trunc('hour', %(now)s) - (g / n) * interval '15 min', g %% 40, g %% 3, (g %% 40) * 180, %(now)s
        FROM q, LATERAL (SELECT array_length(q.ids, 1) AS n) k, generate_series(%(lo)s, %(hi)s) g
        """,
        {"now": now, "lo": current, "hi": target - 1},
    )
    for table in BIG_TABLES:
        execute(f"VACUUM ANALYZE {table}")


def set_run_totals() -> float:
    """The per-stream totals from the stored runs (what the migration backfills); returns the
    seconds the old whole-table aggregate took."""
    started = time.perf_counter()
    rows = execute(OLD_METRICS_SQL)
    seconds = time.perf_counter() - started
    from collectors.models import RUN_DURATION_BUCKETS, CollectionSchedule

    for conn_id, stream, n, total, rows_collected, *_ in rows:
        CollectionSchedule.objects.filter(connection_id=conn_id, stream=stream).update(
            runs_finished=n,
            run_seconds_total=total.total_seconds() if total else 0.0,
            rows_collected=rows_collected or 0,
            # Every generated run takes 300 ms.
            **{f"run_le_{i}": n if bound >= 0.3 else 0 for i, bound in enumerate(RUN_DURATION_BUCKETS)},
        )
    return seconds


# --- measuring ---------------------------------------------------------------------------------


def timed_get(client, url: str, reps: int, **extra: Any) -> tuple[float, float, int]:
    """Median seconds of `reps` requests after one warm-up, median seconds spent in the
    database, and the number of queries of one request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url, secure=True, **extra)
    seconds, in_db, queries = [], [], 0
    for _ in range(reps):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url, secure=True, **extra)
            seconds.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}")
        in_db.append(sum(float(q["time"]) for q in ctx.captured_queries))
        queries = len(ctx.captured_queries)
    return statistics.median(seconds), statistics.median(in_db), queries


def measure(size: int, state: dict[str, Any], reps: int) -> SizeResult:
    from django.test import Client

    result = SizeResult(size)
    result.reference["old /metrics aggregate"] = set_run_totals()
    metrics = Client()
    seconds, in_db, queries = timed_get(metrics, "/metrics", reps, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    result.timings.append(Timing("/metrics", "token", seconds, in_db, queries))
    for who in ("superuser", "manager"):
        client = Client()
        client.force_login(state[who])
        for label, url in PAGES:
            seconds, in_db, queries = timed_get(client, url.format(**state), reps)
            result.timings.append(Timing(label, who, seconds, in_db, queries))
    for table in BIG_TABLES:
        started = time.perf_counter()
        execute(f"SELECT count(*) FROM {table}")
        result.reference[f"COUNT(*) {table.removeprefix('collectors_')}"] = time.perf_counter() - started
    return result


# --- storage per connection-day ----------------------------------------------------------------


def storage(key: str) -> dict[str, Any]:
    """Rows and bytes per table after D days of C connections, before and after retention."""
    from collectors.retention import prune
    from integrations.models import Tenant, VendorConnection

    connections, days = STORAGE[key]
    for table in (*BIG_TABLES, "collectors_dropcall", "collectors_dropfile", "collectors_healthflip"):
        execute(f"TRUNCATE {table} CASCADE")
    conns = list(VendorConnection.objects.order_by("pk").values_list("pk", flat=True)[:connections])
    now = datetime.now(UTC)
    Tenant.objects.update(data_retention_days=30)
    seconds = days * 86400
    # Per connection-day: 8,640 agent-state polls, 96 history and 24 configuration runs (2% failed),
    # 20 agents changing state 30 times, 10 queues x 96 intervals, 5,000 calls in 96 files, 2 flips.
    execute(
        """
        INSERT INTO collectors_collectionrun (connection_id, stream, window_start, window_end, started_at,
          finished_at, status, rows_created, rows_updated, rows_deactivated, error_class, error_message,
          payload_sample, notes, task_id, source, lease_id)
        SELECT c, s.stream, NULL, NULL, %(now)s - g * s.every, %(now)s - g * s.every + interval '300 ms',
          CASE WHEN g %% 50 = 0 THEN 'failed' ELSE 'ok' END, g %% 7, 0, 0,
          CASE WHEN g %% 50 = 0 THEN 'TransientError' ELSE '' END,
          CASE WHEN g %% 50 = 0 THEN 'vendor answered 503' ELSE '' END, '', '',
          'collect:' || c || ':' || g, '', ''
        FROM unnest(%(conns)s::int[]) c,
          (VALUES ('agent_states', interval '10 s', %(polls)s), ('volume', interval '15 min', %(hist)s),
                  ('config', interval '1 hour', %(conf)s)) s(stream, every, n),
          LATERAL generate_series(1, s.n) g
        """,
        {
            "now": now,
            "conns": conns,
            "polls": seconds // POLL_SECONDS,
            "hist": seconds // 900,
            "conf": seconds // 3600,
        },
    )
    execute(
        """
        INSERT INTO collectors_agentstateevent (connection_id, agent_id, state, raw_code, raw_label,
          reason_code, start, "end")
        SELECT a.connection_id, a.id, (ARRAY['available', 'busy', 'wrap_up', 'break'])[1 + g %% 4],
          'code', 'label', '',
          date_trunc('second', %(now)s) - g * interval '48 min',
          CASE WHEN g = 0 THEN NULL ELSE date_trunc('second', %(now)s) - (g - 1) * interval '48 min' END
        FROM collectors_agent a, generate_series(0, %(n)s) g WHERE a.connection_id = ANY(%(conns)s)
        """,
        {"now": now, "conns": conns, "n": days * 30 - 1},
    )
    execute(
        """
        INSERT INTO collectors_intervalvolume (connection_id, queue_id, interval_start, entered, abandoned,
          handle_seconds, collected_at)
        SELECT q.connection_id, q.id, date_trunc('hour', %(now)s) - g * interval '15 min', g %% 40, g %% 3,
          (g %% 40) * 180, %(now)s
        FROM collectors_queue q, generate_series(1, %(n)s) g WHERE q.connection_id = ANY(%(conns)s)
        """,
        {"now": now, "conns": conns, "n": days * 96},
    )
    execute(
        """
        INSERT INTO collectors_dropfile (connection_id, name, sha256, size, received_at, status, rows, reason)
        SELECT c, 'calls-' || g || '.csv', md5(c || ':' || g) || md5(g || ':' || c), 200000,
          %(now)s - g * interval '15 min', 'ingested', 52, ''
        FROM unnest(%(conns)s::int[]) c, generate_series(1, %(n)s) g
        """,
        {"now": now, "conns": conns, "n": days * 96},
    )
    execute(
        """
        INSERT INTO collectors_dropcall (connection_id, call_key, interval_start, file_id)
        SELECT f.connection_id, f.id * 100000 + k, date_trunc('hour', f.received_at), f.id
        FROM collectors_dropfile f, generate_series(1, %(per_file)s) k
        """,
        {"per_file": CALLS_PER_DAY // 96},
    )
    execute(
        """
        INSERT INTO collectors_healthflip (connection_id, stream, old_status, new_status, reason, created,
          processed, send_error, delivery)
        SELECT c, 'agent_states', 'ok', 'late', 'no successful run', %(now)s - g * interval '12 hours',
          %(now)s - g * interval '12 hours', '', 'sent'
        FROM unnest(%(conns)s::int[]) c, generate_series(1, %(n)s) g
        """,
        {"now": now, "conns": conns, "n": days * 2},
    )
    tables = (*BIG_TABLES, "collectors_dropcall", "collectors_dropfile", "collectors_healthflip")
    for table in tables:
        execute(f"VACUUM ANALYZE {table}")
    before = sizes(tables)
    started = time.perf_counter()
    outcomes = prune(now)
    prune_seconds = time.perf_counter() - started
    after = {table: (rows_of(table), 0) for table in tables}
    return {
        "connections": connections,
        "days": days,
        "before": before,
        "after": after,
        "prune_seconds": prune_seconds,
        "deleted": sum(o.deleted for o in outcomes),
        "batches": sum(o.batches for o in outcomes),
    }


def rows_of(table: str) -> int:
    return int(execute(f"SELECT count(*) FROM {table}")[0][0])


def sizes(tables: tuple[str, ...]) -> dict[str, tuple[int, int]]:
    out = {}
    for table in tables:
        rows, size = execute(f"SELECT count(*), pg_total_relation_size('{table}') FROM {table}")[0]
        out[table] = (int(rows), int(size))
    return out


# --- report ------------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}" if seconds >= 0.01 else f"{seconds * 1000:.1f}"


def report(
    results: list[SizeResult], store: dict[str, Any], *, command: str, reps: int, started: datetime
) -> str:
    from bench.report import machine

    sizes_ = [r.size for r in results]
    head = " | ".join(f"{s:,} rows: ms, in the database (queries)" for s in sizes_)
    lines = [
        SECTION,
        "",
        f"Command: `{command}` ({started:%Y-%m-%d %H:%M} UTC; median of {reps} request(s) per cell).",
        "",
        "- machine: " + ", ".join(f"{k} {v}" for k, v in machine().items()),
        f"- rows: the same number in each of runs, agent state events and intervals; {TENANTS} tenants × "
        f"{CONNECTIONS_PER_TENANT} 8x8 connections, {AGENTS} agents and {QUEUES} queues each; the manager "
        "sees one tenant",
        "- target: flat, each page well under a second at the largest size",
        "",
        f"| page | user | {head} |",
        "|---|---|" + "---:|" * len(sizes_),
    ]
    keys = [(t.label, t.user) for t in results[0].timings]
    for label, user in keys:
        cells = []
        for r in results:
            t = next(x for x in r.timings if (x.label, x.user) == (label, user))
            cells.append(f"{_ms(t.seconds)}, {_ms(t.in_db)} ({t.queries})")
        lines.append(f"| {label} | {user} | {' | '.join(cells)} |")
    lines += ["", "Reference: what the code before retention ran on every request, timed once per size.", ""]
    lines += [
        f"| statement | {' | '.join(f'{s:,} rows: ms' for s in sizes_)} |",
        "|---|" + "---:|" * len(sizes_),
    ]
    for name in results[0].reference:
        lines.append(f"| {name} | {' | '.join(_ms(r.reference[name]) for r in results)} |")

    def cell(r: SizeResult, key: tuple[str, str]) -> Timing:
        return next(x for x in r.timings if (x.label, x.user) == key)

    worst = max(t.seconds for t in results[-1].timings)
    worst_db = max(t.in_db for t in results[-1].timings)
    growth = max(cell(results[-1], k).seconds / max(cell(results[0], k).seconds, 1e-6) for k in keys)
    db_growth = max(cell(results[-1], k).in_db / max(cell(results[0], k).in_db, 1e-4) for k in keys)
    same_queries = all(len({cell(r, k).queries for r in results}) == 1 for k in keys)
    lines += [
        "",
        f"Slowest page at {sizes_[-1]:,} rows: {_ms(worst)} ms, of which the most in the database "
        f"{_ms(worst_db)} ms. Largest growth of one page from {sizes_[0]:,} to {sizes_[-1]:,} rows: "
        f"×{growth:.1f} in all, ×{db_growth:.1f} in the database. "
        + ("Every page makes the same number of queries at every size. " if same_queries else "")
        + "The database times and query counts are what is flat or not; page times are noisy (Python "
        "rendering a page on two cores shared with other work), and a few milliseconds in the database "
        "make large ratios.",
        "",
    ]
    if len(results) > 2:
        # From the first size at which every table holds more than the gap window's history.
        mid = results[-2]
        mid_growth = max(cell(results[-1], k).in_db / max(cell(mid, k).in_db, 1e-4) for k in keys)
        lines[-1:-1] = [
            "",
            f"From {mid.size:,} to {results[-1].size:,} rows the database time of a page grows at most "
            f"×{mid_growth:.1f}.",
        ]
    c, d = store["connections"], store["days"]
    per = c * d
    lines += [
        f"Storage: {c} connection(s) × {d} days at the rates of a real connection (an agent-state poll "
        "every 10 s, history every 15 minutes, configuration hourly, 20 agents changing state 30 times a "
        f"day, 10 queues, {CALLS_PER_DAY:,} TCN calls a day in 96 files, 2 health flips a day), then "
        f"`prune` with the default policies and a 30-day tenant retention ({store['deleted']:,} rows in "
        f"{store['batches']:,} batches, {store['prune_seconds']:.1f} s). Bytes kept: rows kept times the "
        "table's bytes per row before pruning (the steady state once autovacuum reuses freed pages).",
        "",
        "| table | rows per connection-day | bytes per connection-day (no retention) | rows kept per "
        "connection after prune | bytes kept per connection | bounded by |",
        "|---|---:|---:|---:|---:|---|",
    ]
    bounds = {
        "collectors_collectionrun": "48 h of ok polls, 8 days of ok history runs, 90 days of failures",
        "collectors_agentstateevent": "the tenant's retention (default: kept)",
        "collectors_intervalvolume": "the tenant's retention (default: kept)",
        "collectors_dropcall": "14 days of files",
        "collectors_dropfile": "90 days",
        "collectors_healthflip": "a year",
    }
    total_before = total_after = 0
    for table, (rows, size) in store["before"].items():
        kept_rows = store["after"][table][0]
        kept_size = kept_rows * size / rows if rows else 0
        total_before += size
        total_after += kept_size
        lines.append(
            f"| {table.removeprefix('collectors_')} | {rows / per:,.0f} | {size / per:,.0f} "
            f"| {kept_rows / c:,.0f} | {kept_size / c:,.0f} | {bounds[table]} |"
        )
    lines += [
        "",
        f"Without retention a connection grows by {total_before / per / 2**20:.1f} MiB a day for ever; "
        "with the defaults and a 30-day tenant retention it levels off at about "
        f"{total_after / c / 2**20:.1f} MiB (after {d} days here; the failed runs' 90 days and the drop "
        "ledger's 90 days fill up later).",
        "",
    ]
    return "\n".join(lines)


def splice(out: Path, section: str) -> None:
    """Put `section` into the report in place of an earlier one, before "What limits the rest"."""
    text = out.read_text() if out.exists() else "# Switchboard benchmarks\n"
    start = text.find(SECTION)
    if start >= 0:
        nxt = text.find("\n## ", start + len(SECTION))
        text = text[:start] + (text[nxt + 1 :] if nxt >= 0 else "")
    anchor = text.find("## What limits the rest")
    if anchor >= 0:
        text = text[:anchor] + section.strip() + "\n\n" + text[anchor:]
    else:
        text = text.rstrip() + "\n\n" + section.strip() + "\n"
    out.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.retention", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", choices=sorted(SIZES), default="default")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    args = parser.parse_args(argv)
    url = os.environ.get("BENCH_RETENTION_DATABASE_URL", DEFAULT_DATABASE_URL)
    env = bench_environment(database_url=url)
    env["METRICS_TOKEN"] = TOKEN
    env["ALLOWED_HOSTS"] = "testserver"
    os.environ.update(env)
    try:
        fresh_database(url)
    except ServiceMissing as exc:
        print(exc, file=sys.stderr)
        return 2
    import django

    django.setup()
    from django.test.utils import override_settings

    # The pages are timed for their queries and rendering; hashed static names would need a
    # `collectstatic` first (production's manifest storage), which this benchmark does not measure.
    override_settings(
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ).enable()
    migrate()
    started = datetime.now(UTC)
    state = world()
    results, current = [], 0
    for size in SIZES[args.sizes]:
        t0 = time.perf_counter()
        grow(current, size, state["now"])
        current = size
        print(
            f"retention bench: {size:,} rows per table in {time.perf_counter() - t0:.0f} s", file=sys.stderr
        )
        result = measure(size, state, args.reps)
        result.generate_seconds = time.perf_counter() - t0
        results.append(result)
    store = storage(args.sizes)
    command = "python -m bench.retention" + (f" --sizes {args.sizes}" if args.sizes != "default" else "")
    command += f" --reps {args.reps}" if args.reps != 3 else ""
    section = report(results, store, command=command, reps=args.reps, started=started)
    (args.out.parent / "RETENTION.md").write_text(section + "\n")
    splice(args.out, section)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
