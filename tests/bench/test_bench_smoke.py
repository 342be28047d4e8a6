"""`make bench` still works: every benchmark at a tiny size, once, against its reference.

No timing assertions (times on a shared machine are noise): the benchmarks verify their own
work (rows stored, messages on the broker, events written) and fail the run when it was not
done, so a passing smoke run means each Switchboard side and each reference did the work.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = (
    "upserts",
    "tcn_file",
    "dispatch",
    "agent_states",
    "reminders",
    "api_sync_json",
    "api_sync_csv",
    "api_page",
    "change_triggers",
)
# Measured for growth only: Switchboard's side at each size, no reference (but the health pass's).
SCALE = (
    "scale_health_pass",
    "scale_health_page",
    "scale_metrics",
    "scale_schedule_sync",
    "scale_dispatch_tick",
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def own_urls() -> tuple[str, str]:
    """A database named after the configured one (`<name>_bench_smoke`) and the configured
    Redis database, which this run owns (the benchmarks empty it): two runs pointed at
    different names and Redis databases never touch each other's."""
    db = os.environ.get("DATABASE_URL", "")
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not db.startswith(("postgres://", "postgresql://")):
        pytest.skip("the benchmarks need PostgreSQL (DATABASE_URL is not postgres://)")
    if not broker.startswith("redis://"):
        pytest.skip("the benchmarks need Redis (CELERY_BROKER_URL is not redis://)")
    parts = urlsplit(db)
    name = parts.path.lstrip("/") or "switchboard"
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}_bench_smoke", "", "")), broker


def test_every_benchmark_runs_at_a_tiny_size_and_writes_the_report(tmp_path):
    database_url, redis_url = own_urls()
    env = {**os.environ, "BENCH_DATABASE_URL": database_url, "BENCH_REDIS_URL": redis_url}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    out = tmp_path / "RESULTS.md"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.run",
            "--sizes",
            "tiny",
            "--reps",
            "1",
            "--in-process",
            "--no-profile",
            "--e2e-minutes",
            "0.25",
            "--out",
            str(out),
            "--workdir",
            str(tmp_path / "work"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    report = out.read_text()
    assert "not available yet" not in report
    for name in (*BENCHMARKS, *SCALE):
        assert (tmp_path / f"{name}.png").stat().st_size > 1000
    # One table row per benchmark at its tiny size, with a median for both sides and a ratio.
    # (Times and the ratio have decimals; a Switchboard-only row's rate and query count do not.)
    rows = re.findall(r"^\| (\d[\d,]*) \| (\d+\.\d+) \| (\d+\.\d+) \| (\d+\.\d+) \|", report, flags=re.M)
    assert len(rows) == len(BENCHMARKS) + 2, report  # the scale health pass: two tiny sizes, a reference
    # The other scale benchmarks: a Switchboard time, a rate and a query count at each of two sizes.
    scale_rows = re.findall(
        r"^\| (\d[\d,]*) \| ([\d.]+) \| ([\d,]+) \| (\d+) \| \d+ \(\d+\) \| 1 \|$", report, flags=re.M
    )
    assert len(scale_rows) == 2 * (len(SCALE) - 1), report
    # Upserts and the TCN file have several references: each ran (and did the same work, which
    # the benchmark verifies), and one per size is marked the strongest.
    for side in ("reference", "reference:update-from", "reference:duckdb-postgres", "reference:postgres"):
        assert re.search(rf"^\| `{side}`[^|]* \| \w+", report, flags=re.M), side
    assert len(re.findall(r"^\| `[^`]+` \(strongest\) \|", report, flags=re.M)) == 2, report
    assert f"## {len(BENCHMARKS) + len(SCALE) + 1}. End to end on real workers" in report
    assert re.search(r"\| duplicate events \| 0 \|", report), report
    assert re.search(r"\| slots collected twice \(same task id\) \| 0 \|", report), report
    assert re.search(r"\| runs of one stream overlapping in time \| 0 \|", report), report
    assert re.search(r"\| polls done \| [1-9]\d* \|", report), report
