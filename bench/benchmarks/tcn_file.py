"""2) A TCN call-detail file to 15-minute intervals: `ingest_file` against DuckDB read_csv + GROUP BY.

The file is TCN's FTP-drop layout (`Call ID,Hunt Group,Start Time,Handle Time,Result`, local
`yyyy/MM/dd HH:mm` America/Los_Angeles, CRLF), generated once per size and read by both
sides. Switchboard's side is the whole command: parse, store every call (calls are de-duplicated
across files by call id), aggregate, upsert the intervals, write the ledger; DuckDB only
aggregates (it writes nothing), so the ratio is a generous bound against Switchboard. Each run
starts with no stored calls (a file seen for the first time).
"""

from __future__ import annotations

import io
import random
from datetime import datetime
from datetime import timedelta as td
from pathlib import Path
from typing import Any

from bench.benchmarks.fixtures import bench_connection, truncate
from bench.harness import SWITCHBOARD, Benchmark

CONNECTION = "tcn-file"
QUEUES = tuple(f"HG {n:02d}" for n in range(20))
# June and July: no daylight-saving change inside the file (DST is the unit tests' business).
FIRST_DAY = datetime(2025, 6, 2)
CALLS_PER_DAY = 20_000

DUCKDB_QUERY = """
SELECT "Hunt Group" AS queue,
       epoch(time_bucket(INTERVAL 15 MINUTE,
             timezone('America/Los_Angeles', strptime("Start Time", '%Y/%m/%d %H:%M'))))::BIGINT AS start,
       count(*) AS entered,
       count(*) FILTER (WHERE "Result" = 'ABANDONED') AS abandoned,
       sum("Handle Time") AS handle_seconds
FROM read_csv(?, header = true, columns = {'Call ID': 'VARCHAR', 'Hunt Group': 'VARCHAR',
              'Start Time': 'VARCHAR', 'Handle Time': 'BIGINT', 'Result': 'VARCHAR'})
GROUP BY ALL
"""


def file_for(size: int, workdir: Path) -> Path:
    return workdir / f"CallVolume_bench_{size}.csv"


def write_calls(path: Path, size: int) -> None:
    """`size` calls in time order, spread over whole days, 10% abandoned (deterministic)."""
    rng = random.Random(size)
    days = max(1, size // CALLS_PER_DAY)
    span = days * 24 * 60
    minutes = sorted(rng.randrange(span) for _ in range(size))
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="") as out:
        out.write("Call ID,Hunt Group,Start Time,Handle Time,Result\r\n")
        for n, minute in enumerate(minutes):
            when = FIRST_DAY + td(minutes=minute)
            abandoned = rng.random() < 0.1
            handle = 0 if abandoned else rng.randrange(30, 900)
            out.write(
                f"{1_000_000 + n},{rng.choice(QUEUES)},{when:%Y/%m/%d %H:%M},{handle},"
                f"{'ABANDONED' if abandoned else 'ANSWERED'}\r\n"
            )
    tmp.rename(path)


class TcnFile(Benchmark):
    name = "tcn_file"
    title = "TCN call-detail file to 15-minute intervals"
    unit = "calls"
    sizes = {"tiny": (500,), "small": (20_000, 100_000), "full": (100_000, 1_000_000)}
    switchboard_label = "manage.py ingest_file CONN PATH (parse, store each call, aggregate, upsert, ledger)"
    reference_label = "DuckDB read_csv + GROUP BY (aggregation only, nothing written)"
    target = "within 5× DuckDB's time; peak memory flat in the file size"

    def missing(self) -> str | None:
        from django.core.management import get_commands

        if "ingest_file" not in get_commands():
            return "the ingest_file management command does not exist yet"
        return None

    def prepare(self, size: int, workdir: Path) -> None:
        path = file_for(size, workdir)
        if not path.exists():
            write_calls(path, size)

    def setup(self, side: str, size: int, workdir: Path) -> Any:
        path = file_for(size, workdir)
        if not path.exists():
            write_calls(path, size)
        if side == SWITCHBOARD:
            conn = bench_connection(CONNECTION, "tcn", file_layout="call_detail")
            truncate(
                "collectors_dropfile",
                "collectors_dropcall",
                "collectors_intervalvolume",
                "collectors_collectionrun",
            )
            return {"path": path, "connection": conn}
        # Importing DuckDB and opening its in-memory database are not part of the work measured.
        import duckdb

        return {"path": path, "duckdb": duckdb.connect()}

    def run(self, side: str, size: int, state: Any) -> dict[str, Any]:
        if side == SWITCHBOARD:
            from django.core.management import call_command

            out = io.StringIO()
            call_command("ingest_file", state["connection"].key, str(state["path"]), "--json", stdout=out)
            return {"output": out.getvalue()[-500:]}
        rows = state["duckdb"].execute(DUCKDB_QUERY, [str(state["path"])]).fetchall()
        return {"intervals": len(rows), "calls": sum(r[2] for r in rows)}

    def verify(self, side: str, size: int, state: Any, result: dict[str, Any]) -> dict[str, Any]:
        if side == SWITCHBOARD:
            from django.db.models import Count, Sum

            from collectors.models import IntervalVolume

            got = IntervalVolume.objects.filter(connection=state["connection"]).aggregate(
                calls=Sum("entered"), intervals=Count("id")
            )
            calls, intervals = got["calls"] or 0, got["intervals"]
        else:
            calls, intervals = result["calls"], result["intervals"]
        if calls != size:
            raise AssertionError(f"{side}: {calls} calls counted into intervals, expected {size}")
        return {"intervals": intervals, "calls": calls, "output": None}

    def verdict(self, table: list[dict[str, Any]]) -> tuple[bool | None, str]:
        rows = [r for r in table if r.get("ratio") is not None]
        if not rows:
            return None, "no ratio measured"
        worst = max(rows, key=lambda r: r["ratio"])
        fast = all(r["ratio"] <= 5.0 for r in rows)
        first, last = rows[0], rows[-1]
        growth = last["sb_peak_mib"] / first["sb_peak_mib"] if first["sb_peak_mib"] else 0
        flat = growth <= 1.5
        return fast and flat, (
            f"{worst['ratio']:.1f}× DuckDB's time at worst ({worst['size']:,} calls; target ≤ 5×); "
            "peak memory "
            f"{first['sb_peak_mib']:.0f} → {last['sb_peak_mib']:.0f} MiB from {first['size']:,} to "
            f"{last['size']:,} calls (×{growth:.2f}; flat means ≤ ×1.5)"
        )
