"""What a benchmark is, and how one measurement is taken in a child process.

Every measurement (one benchmark, one side, one size, one repetition) runs in a fresh
process (`python -m bench.child`), so peak memory (`VmHWM` of that child) belongs to
that size alone and no cache or import carries over between sides. Setup (loading rows,
creating schedules) happens in the child before the clock starts and is not timed; the
child also reports the peak reached by setup, so the report can tell the two apart.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

SWITCHBOARD = "switchboard"
REFERENCE = "reference"


@dataclass(frozen=True)
class Reference:
    """One reference side of a benchmark.

    `side` is REFERENCE for a benchmark's first reference and `reference:<key>` for the
    others. Switchboard is compared with the fastest reference measured among those
    `compared`; one not compared (it does less work than Switchboard) is shown for context.
    """

    side: str
    label: str
    compared: bool = True


def budget_seconds() -> float:
    """How long one reference run may take before it is stopped and reported as a lower bound.

    BENCH_REFERENCE_BUDGET seconds (default 600): beat's O(N²) loop at 50k streams would
    otherwise take hours.
    """
    return float(os.environ.get("BENCH_REFERENCE_BUDGET", "600"))


class QueryCounter:
    """Counts statements sent through Django's connection (and COPYs the benchmarks note by hand).

    An execute wrapper counts without keeping the SQL: CaptureQueriesContext would hold every
    statement and its parameters, which at a million rows distorts both time and memory.
    """

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)

    def note(self, n: int = 1) -> None:
        self.count += n


COUNTER = QueryCounter()


@dataclass
class Measurement:
    bench: str
    side: str
    size: int
    seconds: float
    queries: int
    peak_kib: int
    setup_peak_kib: int
    extra: dict[str, Any] = field(default_factory=dict)


class Benchmark:
    """One benchmark: a Switchboard side and a reference side over the same sizes."""

    name: ClassVar[str]
    title: ClassVar[str]
    unit: ClassVar[str] = "rows"
    sizes: ClassVar[dict[str, tuple[int, ...]]]
    reference_label: ClassVar[str]
    switchboard_label: ClassVar[str]
    target: ClassVar[str]

    def references(self) -> tuple[Reference, ...]:
        """The reference sides, in report order (one unless a benchmark names more)."""
        return (Reference(REFERENCE, self.reference_label),)

    def sides(self) -> list[str]:
        return [SWITCHBOARD, *(r.side for r in self.references())]

    def missing(self) -> str | None:
        """Why the Switchboard side cannot run yet (its entry point is absent), or None."""
        return None

    def prepare(self, size: int, workdir: Path) -> None:
        """Parent side, once per size before any repetition (e.g. write the input file)."""

    def setup(self, side: str, size: int, workdir: Path) -> Any:
        """Child side, untimed: bring the database to the starting state; return what run() needs."""
        raise NotImplementedError

    def run(self, side: str, size: int, state: Any) -> dict[str, Any]:
        """Child side, timed: the work being measured."""
        raise NotImplementedError

    def verify(self, side: str, size: int, state: Any, result: dict[str, Any]) -> dict[str, Any]:
        """Child side, untimed: prove the work was done (raise if not); extra figures for the report."""
        return {}

    def verdict(self, table: list[dict[str, Any]]) -> tuple[bool | None, str]:
        """Did the Switchboard side meet the target over the rows of the report table?"""
        return None, ""


def peak_rss_kib() -> int:
    """This process's peak resident memory, in KiB.

    Linux's `VmHWM` (the high-water mark of this process's own address space), not
    `ru_maxrss`: getrusage figures survive fork and execve, so a child's `ru_maxrss` starts
    at its parent's peak (the runner that generated a 1M-call file) and hid the child's own.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure_here(
    bench: Benchmark, side: str, size: int, workdir: Path, profile: Path | None = None
) -> Measurement:
    """Set up, time and verify one measurement in this process (Django must be set up)."""
    from django.db import connection

    state = bench.setup(side, size, workdir)
    setup_peak = peak_rss_kib()
    COUNTER.count = 0
    profiler = None
    if profile is not None:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.001)
        profiler.start()
    with connection.execute_wrapper(COUNTER):
        started = time.perf_counter()
        result = bench.run(side, size, state) or {}
        seconds = time.perf_counter() - started
        queries = COUNTER.count
    if profiler is not None:
        profiler.stop()
        profile.write_text(profiler.output_text(unicode=False, color=False, show_all=False))
    peak = peak_rss_kib()
    extra = {**result, **bench.verify(side, size, state, result)}
    return Measurement(bench.name, side, size, seconds, queries, peak, setup_peak, extra)


class ChildFailed(RuntimeError):
    pass


def measure_in_child(
    name: str, side: str, size: int, workdir: Path, env: dict[str, str], profile: Path | None = None
) -> Measurement:
    """Run one measurement in a fresh process and read its result."""
    cmd = [sys.executable, "-m", "bench.child", name, side, str(size), str(workdir)]
    if profile is not None:
        cmd += ["--profile", str(profile)]
    done = subprocess.run(
        cmd, env=env, cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True
    )
    if done.returncode != 0:
        tail = (done.stderr or done.stdout)[-4000:]
        raise ChildFailed(f"{name}/{side}/{size} failed (exit {done.returncode}):\n{tail}")
    line = done.stdout.strip().splitlines()[-1]
    return Measurement(**json.loads(line))


def child_main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.child")
    parser.add_argument("name")
    parser.add_argument("side")
    parser.add_argument("size", type=int)
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--profile", type=Path)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from bench.benchmarks import get

    bench = get(args.name)
    if args.side not in bench.sides():
        parser.error(f"{args.name} has no side {args.side!r}; it has {', '.join(bench.sides())}")
    m = measure_here(bench, args.side, args.size, args.workdir, args.profile)
    sys.stdout.write(json.dumps(asdict(m), default=str) + "\n")
    return 0
