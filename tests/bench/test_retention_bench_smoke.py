"""`python -m bench.retention` still works: every page and the storage table at a tiny size.

No timing assertions: the benchmark fails itself when a page does not answer 200, and the
storage figures come from rows it counts.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from bench.retention import PAGES

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.postgres


def own_database() -> str:
    """A database of this test's own, named after the one the suite was given."""
    db = os.environ.get("DATABASE_URL", "")
    if not db.startswith(("postgres://", "postgresql://")):
        pytest.skip("the benchmark needs PostgreSQL (DATABASE_URL is not postgres://)")
    parts = urlsplit(db)
    name = (parts.path.lstrip("/") or "sb") + "_retention_bench"
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))


def test_the_retention_benchmark_runs_at_a_tiny_size_and_writes_its_section(tmp_path):
    env = {**os.environ, "BENCH_RETENTION_DATABASE_URL": own_database()}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    out = tmp_path / "RESULTS.md"
    out.write_text(
        "# Switchboard benchmarks\n\n## 6. End to end\n\ntext\n\n## What limits the rest\n\nmore\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "bench.retention", "--sizes", "tiny", "--reps", "1", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    report = out.read_text()
    section = (tmp_path / "RETENTION.md").read_text()
    assert section.strip() in report
    # In place: before the analysis, after the other sections.
    assert report.index("## 6. End to end") < report.index("## Retention") < report.index("## What limits")
    assert "Command: `python -m bench.retention --sizes tiny --reps 1`" in section
    pages = re.findall(
        r"^\| (/metrics|runs|agent state events|intervals)[^|]* \| (\w+) \|", section, flags=re.M
    )
    assert len(pages) == 1 + 2 * len(PAGES), section  # /metrics, then each page for two users
    for table in ("collectionrun", "agentstateevent", "intervalvolume", "dropcall", "dropfile", "healthflip"):
        assert re.search(rf"^\| {table} \| [\d,]+ \| [\d,]+ \| [\d,]+ \| [\d,]+ \|", section, flags=re.M), (
            table
        )
