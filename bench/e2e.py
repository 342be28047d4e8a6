"""6) End to end on real workers: the sandbox, N connections, beat, production's workers, Redis, PostgreSQL.

N 8x8 connections (8x8's `time-in-status` says exactly when each state began, so the lag from
a state change in the sandbox to its stored event can be measured) poll agent states every
10 s and collect history every 15 minutes, for a bounded number of minutes; then beat is
stopped, the workers drain and stop, and everything is read back from the database:

- polls per second: agent-state runs that finished ok, over the measured window;
- lag: when the event row was inserted (a trigger on the benchmark database stamps
  `clock_timestamp()`) minus the event's start (the moment the sandbox changed the state);
- runs missed: 10-second slots of a stream with no successful run;
- duplicates: two successful runs of one stream and window, or an event repeating the state
  of the event it follows;
- worker CPU per poll: the workers' CPU time (user + system, from /proc) over the measured
  window divided by the polls done in it, for the `agent_states` pool (the target) and for every
  pool (history and configuration runs included); the sandbox's and the machine's are reported too.

Everything is measured after the warm-up (the start-up burst of every connection's first
runs) until beat stops; the warm-up's misses are reported apart. Targets (issue 16): at
1,000 connections every 10 s, 100 polls/s sustained, p99 lag under 10 s, no poll missed
after the warm-up, no duplicate.

Every process started here is stopped here, by its own process group, also on error.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from datetime import datetime
from datetime import timedelta as td
from pathlib import Path
from typing import Any

from bench.services import ROOT

PREFIX = "e2e-"
INTERVAL = 10
DISPATCH_TICK = 1  # beat's dispatch-due period (wfm_site/celery.py)
# The first minute is the start-up burst: every connection's first poll, configuration import
# and history run are due at once (1,500 runs for 500 connections), and polls that wait
# behind it past their interval expire. Its misses are reported on their own.
WARMUP = td(seconds=90)
CONNECTIONS = {"tiny": 3, "small": 50, "full": 1000}
LAG_P99_TARGET = 10.0  # seconds
RATE_TARGET = 0.99  # share of the expected polls per second
DEFAULT_MINUTES = {"tiny": 0.2, "small": 1.0, "full": 10.0}

TRIGGER_SQL = """
CREATE TABLE IF NOT EXISTS bench_event_stored (
    event_id bigint PRIMARY KEY,
    stored_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE OR REPLACE FUNCTION bench_note_event() RETURNS trigger AS $$
BEGIN
    INSERT INTO bench_event_stored (event_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS bench_event_stored ON collectors_agentstateevent;
CREATE TRIGGER bench_event_stored AFTER INSERT ON collectors_agentstateevent
    FOR EACH ROW EXECUTE FUNCTION bench_note_event();
TRUNCATE bench_event_stored;
"""
DROP_TRIGGER_SQL = "DROP TRIGGER IF EXISTS bench_event_stored ON collectors_agentstateevent"


def missing() -> str | None:
    try:
        from collectors.dispatch import dispatch_due  # noqa: F401
        from collectors.runs import run_collection  # noqa: F401
        from integrations.sandbox.server import SandboxServer  # noqa: F401
    except ImportError as exc:
        return f"an entry point is missing ({exc})"
    return None


def midday_zone(now: datetime) -> str:
    """A fixed-offset zone where it is about noon now, so the sandbox's agents are busy.

    The sandbox's traffic follows the time of day in its zone (quiet at night); a run at any
    hour should see the same busy contact center. Etc/GMT-N is UTC+N (POSIX sign).
    """
    ahead = 12 - now.hour
    ahead = ahead - 24 if ahead > 14 else ahead
    return "UTC" if ahead == 0 else f"Etc/GMT{-ahead:+d}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Processes:
    """The processes of one run, each in its own session, stopped by process group."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.env = env
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, args: list[str]) -> subprocess.Popen:
        log = (self.workdir / f"e2e-{name}.log").open("w")
        proc = subprocess.Popen(
            args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.procs[name] = proc
        return proc

    def log_text(self, name: str) -> str:
        path = self.workdir / f"e2e-{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def wait_for(self, name: str, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log_text(name):
                return
            if self.procs[name].poll() is not None:
                raise RuntimeError(f"{name} exited early:\n{self.log_text(name)[-2000:]}")
            time.sleep(0.2)
        raise RuntimeError(f"{name} did not print {text!r} within {timeout:.0f} s")

    def stop(self, name: str, grace: float = 20.0) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)

    def stop_all(self, grace: float = 20.0) -> None:
        """SIGTERM to every group at once (workers shut down in parallel), then SIGKILL what is left."""
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        self.procs.clear()


def setup_connections(count: int, base_url: str) -> list[int]:
    """`count` 8x8 connections aimed at the sandbox, with schedules and history cursors in place.

    The history cursor starts at the last closed interval, so the run measures steady state,
    not a day of initial backfill.
    """
    from django.db import connection as db
    from django.utils import timezone

    from bench.benchmarks.fixtures import bench_connection, truncate
    from collectors.models import CollectionSchedule, Cursor
    from collectors.schedules import sync_schedules
    from collectors.windows import last_closed_end
    from integrations.models import VendorConnection
    from integrations.vendors.base import STREAM_VOLUME

    truncate(
        "collectors_collectionrun", "collectors_agent", "collectors_cursor", "collectors_collectionschedule"
    )
    now = timezone.now()
    ids = []
    for n in range(count):
        conn = bench_connection(f"{PREFIX}{n:04d}", "8x8", base_url=base_url)
        conn.realtime_base_url, conn.interval_seconds, conn.enabled = base_url, INTERVAL, True
        # Each its own account: the sandbox's `demo+N` lives the roster shifted by a stable part
        # of an hour. On one account all connections' agents changed state in the same second
        # (4,000 events in one minute at a shift start), and the lag's p99 was the sub-second
        # alignment of the three or four state changes of a run, each seen 1,000 times.
        conn.set_values("realtime", {"tenant": f"demo+{n}", "token": "sandbox-8x8-token"})
        conn.save()
        sync_schedules(conn, now)
        ids.append(conn.pk)
    VendorConnection.objects.filter(tenant__slug="bench", name__startswith=PREFIX).exclude(pk__in=ids).update(
        enabled=False
    )
    Cursor.objects.bulk_create(
        [Cursor(connection_id=pk, stream=STREAM_VOLUME, position=last_closed_end(now)) for pk in ids],
        # A run stopped by force may leave a worker that wrote a cursor after the truncate.
        update_conflicts=True,
        unique_fields=["connection", "stream"],
        update_fields=["position"],
    )
    CollectionSchedule.objects.filter(connection_id__in=ids).update(next_run_at=now, lease_until=None)
    with db.cursor() as cur:
        cur.execute(TRIGGER_SQL)
    return ids


PROCFILE = ROOT / "Procfile.production"
_DEFAULTED = re.compile(r"\$\{(\w+):-([^}]*)\}")


def production_workers(environ: Mapping[str, str]) -> list[tuple[str, list[str]]]:
    """The Celery workers of Procfile.production as (name, arguments after `python -m`).

    `${NAME:-default}` is expanded from the environment, as a shell would.
    """
    workers = []
    for line in PROCFILE.read_text().splitlines():
        name, _, command = line.partition(":")
        if line.startswith("#") or not command.strip().startswith("celery "):
            continue
        command = _DEFAULTED.sub(lambda m: environ.get(m[1]) or m[2], command)
        args = shlex.split(command)
        if "worker" in args:
            workers.append((name.strip(), args))
    return workers


def describe_worker(args: list[str]) -> str:
    """`prefork x4` for a worker's arguments."""
    pool = next((a.split("=", 1)[1] for a in args if a.startswith("--pool=")), "prefork")
    concurrency = next((a.split("=", 1)[1] for a in args if a.startswith("--concurrency=")), "?")
    return f"{pool} x{concurrency}"


def descendants(pids: list[int]) -> list[int]:
    """These processes and every process under them (a prefork pool's children)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError):
                continue
    found, frontier = set(pids), list(pids)
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in found]
        found.update(children)
        frontier.extend(children)
    return sorted(found)


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds used so far by these processes, their children (a prefork
    pool's) and their reaped children."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in descendants(pids):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # Fields 14-17 of proc(5) (utime, stime, cutime, cstime); [0] here is field 3.
        total += sum(int(fields[i]) for i in (11, 12, 13, 14)) / ticks
    return total


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, all cores (the `cpu` line of
    /proc/stat: idle and iowait are not busy)."""
    ticks = os.sysconf("SC_CLK_TCK")
    fields = [int(f) for f in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    total = sum(fields[:8])  # guest time is already counted in user
    return (total - fields[3] - fields[4]) / ticks, total / ticks


def queued() -> int:
    import redis
    from django.conf import settings

    r = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    return sum(r.llen(q) for q in ("agent_states", "history", "config", "default"))


def running(ids: list[int]) -> int:
    from collectors.models import CollectionRun

    return CollectionRun.objects.filter(connection_id__in=ids, status=CollectionRun.RUNNING).count()


def measure(ids: list[int], start: datetime, end: datetime, *, beat_stopped: bool = True) -> dict[str, Any]:
    """Read the run back: polls, misses, duplicates and lag over the whole 10-s slots in [start, end).

    With `beat_stopped` (`end` is when beat stopped), slots that may not have been dispatched
    by then are left out of the misses.
    """
    from django.db import connection as db

    from collectors.windows import floor_to

    first = floor_to(start, INTERVAL)
    first = first if first == start else first + td(seconds=INTERVAL)
    # Only slots surely dispatched before `end`: a poll's phase point may fall anywhere in its
    # slot, and the dispatcher ticks every DISPATCH_TICK seconds after it.
    last = floor_to(end, INTERVAL)
    if beat_stopped:
        last = floor_to(end - td(seconds=INTERVAL + DISPATCH_TICK), INTERVAL) + td(seconds=INTERVAL)
    slots = max(0, int((last - first).total_seconds()) // INTERVAL)
    seconds = (end - start).total_seconds()
    q: dict[str, Any] = {}
    with db.cursor() as cur:
        cur.execute(
            "SELECT count(*) FILTER (WHERE status = 'ok' AND finished_at >= %s AND finished_at < %s),"
            " count(*) FILTER (WHERE status IN ('failed', 'auth_failed', 'retrying')),"
            " count(DISTINCT (connection_id, window_start))"
            " FILTER (WHERE status = 'ok' AND window_start >= %s AND window_start < %s)"
            " FROM collectors_collectionrun WHERE stream = 'agent_states' AND connection_id = ANY(%s)",
            [start, end, first, last, ids],
        )
        polls_ok, failed, slots_done = cur.fetchone()
        cur.execute(
            "SELECT count(*) FROM collectors_collectionrun WHERE stream = 'volume' AND status = 'ok'"
            " AND connection_id = ANY(%s)",
            [ids],
        )
        q["history_runs"] = cur.fetchone()[0]
        # A slot collected twice: the dispatcher names each task after its stream and slot
        # (`collect:<schedule>:<window start>`), so a redelivered or re-dispatched slot repeats
        # the id. Two volume runs with one window start are not duplicates by themselves: with
        # a settle span the cursor stays behind on purpose and the next slot re-reads the window.
        cur.execute(
            "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM collectors_collectionrun"
            " WHERE status = 'ok' AND connection_id = ANY(%s) AND task_id <> ''"
            " GROUP BY task_id HAVING count(*) > 1) d",
            [ids],
        )
        q["duplicate_runs"] = int(cur.fetchone()[0])
        # Two runs of one stream of one connection at the same time (the lease must prevent it).
        cur.execute(
            "SELECT count(*) FROM collectors_collectionrun a JOIN collectors_collectionrun b"
            " ON b.connection_id = a.connection_id AND b.stream = a.stream AND b.id > a.id"
            " AND b.started_at < coalesce(a.finished_at, 'infinity')"
            " AND a.started_at < coalesce(b.finished_at, 'infinity')"
            " WHERE a.connection_id = ANY(%s)",
            [ids],
        )
        q["overlapping_runs"] = int(cur.fetchone()[0])
        cur.execute(
            "SELECT count(*) FROM (SELECT state, raw_code, start, lag(state) OVER w AS prev_state,"
            ' lag(raw_code) OVER w AS prev_code, lag("end") OVER w AS prev_end'
            " FROM collectors_agentstateevent WHERE connection_id = ANY(%s)"
            " WINDOW w AS (PARTITION BY agent_id ORDER BY start)) e"
            " WHERE prev_state = state AND prev_code = raw_code AND prev_end = start",
            [ids],
        )
        q["duplicates"] = cur.fetchone()[0]
        cur.execute(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY lag),"
            " percentile_cont(0.99) WITHIN GROUP (ORDER BY lag), count(*)"
            " FROM (SELECT extract(epoch FROM s.stored_at - e.start) AS lag"
            " FROM collectors_agentstateevent e JOIN bench_event_stored s ON s.event_id = e.id"
            " WHERE e.connection_id = ANY(%s) AND e.start >= %s AND e.start < %s) l",
            [ids, start, end],
        )
        q["lag_median"], q["lag_p99"], q["lag_samples"] = cur.fetchone()
    q.update(
        polls_done=polls_ok,
        runs_failed=failed,
        polls_expected=slots * len(ids),
        polls_per_second=polls_ok / seconds if seconds else 0.0,
        runs_missed=max(0, slots * len(ids) - slots_done),
        window_seconds=seconds,
    )
    return q


def run_e2e(sizes: str, minutes: float | None, env: dict[str, str], workdir: Path) -> dict[str, Any]:
    from django.db import connection as db
    from django.utils import timezone

    from bench.run import log

    reason = missing()
    if reason:
        return {"missing": reason}
    count = CONNECTIONS[sizes]
    minutes = minutes if minutes is not None else DEFAULT_MINUTES[sizes]
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/8x8/api/"
    result: dict[str, Any] = {"connections": count, "minutes": minutes, "notes": []}
    zone = midday_zone(timezone.now())
    procs = Processes(workdir, {**env, "BENCH_LOG_LEVEL": "WARNING"})
    python = sys.executable
    celery = [python, "-m", "celery", "-A", "wfm_site"]
    try:
        log(f"e2e: {count} connections, {minutes} min, sandbox on port {port}")
        # Sandbox and workers boot side by side while the connections are set up.
        procs.start(
            "sandbox",
            [
                python,
                "manage.py",
                "sandbox",
                "--port",
                str(port),
                "--no-drop",
                "--backfill-hours",
                "0",
                "--json",
            ],
        )
        # The workers of Procfile.production, as production runs them: one prefork pool per
        # queue, so history and configuration runs never delay a poll.
        workers_started = production_workers(os.environ)
        for name, args in workers_started:
            procs.start(name, [python, "-m", *args])
        ids = setup_connections(count, base_url)
        db.close()
        procs.wait_for("sandbox", "8x8", 60)
        for name, _ in workers_started:
            procs.wait_for(name, "ready.", 90)
        start = timezone.now()
        procs.start("beat", [*celery, "beat", "-s", str(workdir / "beat-schedule"), "--loglevel=INFO"])
        deadline = time.monotonic() + minutes * 60
        # A short run keeps three quarters of itself (its burst is smaller: fewer connections).
        warmup = min(WARMUP, td(minutes=minutes) / 4)
        # CPU is read per process group (each pool, the sandbox) and for the whole machine.
        watched = [name for name, _ in workers_started] + ["sandbox"]

        def cpu_now() -> dict[str, float]:
            used = {name: cpu_seconds([procs.procs[name].pid]) for name in watched}
            used["machine busy"], used["machine"] = machine_busy()
            return used

        cpu_at_start: dict[str, float] | None = None
        while time.monotonic() < deadline:
            if cpu_at_start is None and timezone.now() >= start + warmup:
                cpu_at_start = cpu_now()
            for name in ("sandbox", "beat", *(name for name, _ in workers_started)):
                if procs.procs[name].poll() is not None:
                    raise RuntimeError(f"{name} died during the run:\n{procs.log_text(name)[-2000:]}")
            time.sleep(0.5)
        procs.stop("beat")
        end = timezone.now()
        cpu_at_end = cpu_now()
        cpu_used = {k: v - (cpu_at_start or {}).get(k, 0.0) for k, v in cpu_at_end.items()}
        # Drain: every queued task taken and every started run finished (bounded).
        drain = time.monotonic() + 60
        while time.monotonic() < drain and (queued() or running(ids)):
            time.sleep(0.5)
        left = queued()
        if left:
            result["notes"].append(f"{left} task(s) were still queued 60 s after beat stopped")
        procs.stop_all()
        measured_from = start + min(warmup, (end - start) / 4)
        result.update(measure(ids, measured_from, end))
        measured_cpu = result["polls_done"] and cpu_at_start is not None
        pools = [name for name, _ in workers_started]
        if measured_cpu:
            polls = result["polls_done"]
            result["worker_cpu_ms_per_poll"] = 1000 * sum(cpu_used[name] for name in pools) / polls
            result["poll_pool_cpu_ms_per_poll"] = 1000 * cpu_used.get("agent_states", 0.0) / polls
            wall = cpu_used["machine"] / (os.cpu_count() or 1)
            result["notes"].append(
                "CPU over the measured window, in cores: the machine "
                f"{cpu_used['machine busy'] / wall:.2f} of {os.cpu_count()}; "
                + ", ".join(f"{name} {cpu_used[name] / wall:.2f}" for name in watched)
                + " (the rest: PostgreSQL, Redis, beat, this harness)"
            )
        else:
            result["worker_cpu_ms_per_poll"] = result["poll_pool_cpu_ms_per_poll"] = None
        if measured_from > start:
            result["warmup_missed"] = measure(ids, start, measured_from, beat_stopped=False)["runs_missed"]
        result["notes"].append(
            (
                f"measured from {(measured_from - start).total_seconds():.0f} s after beat started (warm-up: "
                "the start-up burst of every connection's first poll, configuration import and history run)"
            )
            + f" to when beat stopped: {result['window_seconds']:.0f} s"
        )
        result["notes"].append(
            f"all connections are 8x8 (12 agents each), each its own account on one sandbox (`demo+N`: the "
            f"roster shifted by a stable part of an hour) whose simulated contact centre lives in {zone} "
            "(about noon at the run, so agents are on shift); the workers of Procfile.production: "
            + "; ".join(f"{name} {describe_worker(args)}" for name, args in workers_started)
        )
        expected_rate = count / INTERVAL
        result["polls_per_second_expected"] = expected_rate
        result["ok"] = (
            result["duplicates"] == 0
            and result["duplicate_runs"] == 0
            and result["overlapping_runs"] == 0
            and result["runs_missed"] == 0
            and result["polls_per_second"] >= RATE_TARGET * expected_rate
            and result["lag_p99"] is not None
            and result["lag_p99"] < LAG_P99_TARGET
        )
        cpu = result["worker_cpu_ms_per_poll"]
        result["summary"] = (
            f"{result['polls_per_second']:.1f} polls/s of {expected_rate:.1f} expected; lag median "
            f"{_s(result['lag_median'])}, p99 {_s(result['lag_p99'])} (target < {LAG_P99_TARGET:.0f} s); "
            f"{result['runs_missed']} missed after the warm-up; "
            f"{result['duplicates'] + result['duplicate_runs'] + result['overlapping_runs']} duplicates; "
            + (
                "worker CPU —"
                if cpu is None
                else f"worker CPU {cpu:.1f} ms per poll (the agent_states pool "
                f"{result['poll_pool_cpu_ms_per_poll']:.1f} ms)"
            )
        )
    except Exception as exc:
        result["error"] = str(exc)[-3000:]
        result["summary"] = "failed: see section 6"
        log(f"e2e failed: {exc}")
    finally:
        procs.stop_all()
        try:
            with db.cursor() as cur:
                cur.execute(DROP_TRIGGER_SQL)
            from integrations.models import VendorConnection

            VendorConnection.objects.filter(tenant__slug="bench", name__startswith=PREFIX).update(
                enabled=False
            )
        except Exception as exc:  # the report must still be written
            result.setdefault("notes", []).append(f"cleanup failed: {exc}")
    return result


def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} s"
