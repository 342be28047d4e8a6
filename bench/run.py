"""`make bench`: every benchmark side by side with its reference, then bench/RESULTS.md and plots.

    python -m bench.run [--sizes small|full|tiny] [--reps 5] [--only upserts,dispatch] [--e2e-minutes 10]

Needs PostgreSQL and Redis; says so and exits 2 when either is missing. The database is
BENCH_DATABASE_URL, else DATABASE_URL's database with `_bench` appended (created when missing),
else postgres://postgres@127.0.0.1:5432/sb_bench. The Redis db is BENCH_REDIS_URL, else
CELERY_BROKER_URL when it is Redis, else redis://127.0.0.1:6379/15; the run empties it.
Both are printed before anything is written.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.harness import (
    REFERENCE,
    SWITCHBOARD,
    ChildFailed,
    Measurement,
    Reference,
    measure_here,
    measure_in_child,
)
from bench.services import (
    ROOT,
    ServiceMissing,
    bench_database_url,
    bench_environment,
    bench_redis_url,
    describe,
    migrate,
    prepare_services,
)

MIB = 1024  # peaks are in KiB (VmHWM, ru_maxrss on Linux)


@dataclass
class BenchResult:
    name: str
    title: str
    unit: str
    switchboard_label: str
    reference_label: str
    target: str
    missing: str | None
    rows: list[dict[str, Any]] = field(default_factory=list)
    measurements: list[Measurement] = field(default_factory=list)
    met: bool | None = None
    verdict: str = ""
    profile: str = ""
    errors: list[str] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)


def side_figures(ms: list[Measurement], side: str) -> dict[str, Any]:
    """Medians of one side's runs (seconds None when it has none)."""
    mine = [m for m in ms if m.side == side]
    if not mine:
        return {"seconds": None}
    return {
        "seconds": statistics.median(m.seconds for m in mine),
        "runs": len(mine),
        "queries": int(statistics.median(m.queries for m in mine)),
        "peak_mib": max(m.peak_kib for m in mine) / MIB,
        "setup_mib": max(m.setup_peak_kib for m in mine) / MIB,
        "capped": any(m.extra.get("capped") for m in mine),
        "extra": mine[-1].extra,
    }


def summarise(size: int, ms: list[Measurement], references: list[Reference] | None = None) -> dict[str, Any]:
    """One table row: medians per side, the ratio Switchboard/strongest reference, peak memory.

    The `ref_*` figures are those of the strongest reference: the fastest median among the
    references compared; every reference's own figures are under `refs`.
    """
    references = references or [Reference(REFERENCE, "")]
    row: dict[str, Any] = {"size": size}
    for key, value in side_figures(ms, SWITCHBOARD).items():
        row[f"sb_{key}"] = value
    refs = {r.side: side_figures(ms, r.side) for r in references}
    row["refs"] = refs
    measured = [r.side for r in references if r.compared and refs[r.side]["seconds"] is not None]
    strongest = min(measured, key=lambda side: refs[side]["seconds"]) if measured else None
    row["ref_side"] = strongest
    for key, value in (refs[strongest] if strongest else {"seconds": None}).items():
        row[f"ref_{key}"] = value
    if row.get("sb_seconds") is not None and row.get("ref_seconds"):
        row["ratio"] = row["sb_seconds"] / row["ref_seconds"]
    else:
        row["ratio"] = None
    return row


def run_benchmark(
    name: str,
    sizes_key: str,
    reps: int,
    workdir: Path,
    env: dict[str, str],
    profile: bool,
    in_process: bool = False,
    sizes: tuple[int, ...] | None = None,
) -> BenchResult:
    from bench.benchmarks import get

    bench = get(name)
    missing = bench.missing()
    result = BenchResult(
        name,
        bench.title,
        bench.unit,
        bench.switchboard_label,
        bench.reference_label,
        bench.target,
        missing,
        references=list(bench.references()),
    )
    sides = [s for s in bench.sides() if s != SWITCHBOARD] if missing else bench.sides()
    for size in sizes or bench.sizes[sizes_key]:
        bench.prepare(size, workdir)
        ms: list[Measurement] = []
        for rep in range(reps):
            # Alternate which side goes first, so drift on a shared machine hits both alike.
            for side in sides if rep % 2 == 0 else sides[::-1]:
                if side != SWITCHBOARD and any(m.side == side and m.extra.get("capped") for m in ms):
                    continue  # one run past the budget is the bound; repeating it adds nothing
                log(f"{name} {side} {size:,} run {rep + 1}/{reps}")
                try:
                    if in_process:
                        ms.append(measure_here(bench, side, size, workdir))
                    else:
                        ms.append(measure_in_child(name, side, size, workdir, env))
                except (ChildFailed, AssertionError) as exc:
                    result.errors.append(str(exc))
                    log(str(exc))
                    break
        result.measurements += ms
        result.rows.append(summarise(size, ms, result.references))
    if not missing:
        result.met, result.verdict = bench.verdict(result.rows)
        if result.met is False and profile and result.rows:
            size = result.rows[-1]["size"]
            out = workdir / f"profile-{name}-{size}.txt"
            log(f"{name}: target missed; profiling the Switchboard side at {size:,}")
            try:
                measure_in_child(name, SWITCHBOARD, size, workdir, env, profile=out)
                result.profile = trim_profile(out.read_text())
            except ChildFailed as exc:
                result.errors.append(f"profiling failed: {exc}")
    return result


def run_shared_dataset(
    names: list[str], sizes_key: str, reps: int, workdir: Path, env: dict[str, str], in_process: bool
) -> list[BenchResult]:
    """Benchmarks that share one dataset per size (the scale ones, minutes to build at 20,000
    connections): each size's benchmarks run one after another, so each dataset is built once."""
    from bench.benchmarks import get

    results: dict[str, BenchResult] = {}
    for size in get(names[0]).sizes[sizes_key]:
        for name in names:
            part = run_benchmark(name, sizes_key, reps, workdir, env, False, in_process, sizes=(size,))
            whole = results.setdefault(name, part)
            if whole is not part:
                whole.rows += part.rows
                whole.measurements += part.measurements
                whole.errors += part.errors
    for name, result in results.items():
        if not result.missing:
            result.met, result.verdict = get(name).verdict(result.rows)
    return [results[name] for name in names]


def trim_profile(text: str, lines: int = 45) -> str:
    """The top of a pyinstrument text profile: where the time went, without the logo."""
    all_lines = text.splitlines()
    head = [line.split("Duration:")[1].strip() for line in all_lines if "Duration:" in line]
    start = next((i for i, line in enumerate(all_lines) if line.startswith("Profile at")), 0)
    body = [line for line in all_lines[start + 1 :] if line.strip()]
    return "\n".join([f"Duration: {head[0]}" if head else "", *body[:lines]]).strip()


def log(message: str) -> None:
    print(f"[bench {datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes", default=os.environ.get("BENCH_SIZES", "full"), choices=("tiny", "small", "full")
    )
    parser.add_argument("--reps", type=int, default=int(os.environ.get("BENCH_REPS", "5")))
    parser.add_argument(
        "--only", default=os.environ.get("BENCH_ONLY", ""), help="comma-separated benchmark names"
    )
    parser.add_argument(
        "--e2e-minutes",
        type=float,
        default=float(os.environ["BENCH_E2E_MINUTES"]) if os.environ.get("BENCH_E2E_MINUTES") else None,
        help="length of the end-to-end run (default 10 at full sizes, 1 at small; 0 skips it)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="measure in this process (fast, for the smoke test; peak memory is then not per size)",
    )
    args = parser.parse_args(argv)
    if args.reps < 1:
        parser.error("--reps must be at least 1")

    env = bench_environment()
    log(f"database {describe(env['DATABASE_URL'])} (from {bench_database_url()[1]})")
    log(f"Redis {describe(env['CELERY_BROKER_URL'])} (from {bench_redis_url()[1]}; emptied by this run)")
    try:
        prepare_services(env)
    except ServiceMissing as exc:
        print(f"make bench: {exc}", file=sys.stderr)
        return 2
    os.environ.update({k: env[k] for k in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "CELERY_BROKER_URL")})
    os.environ.setdefault("SECRET_KEY", env["SECRET_KEY"])
    os.environ.setdefault("FIELD_ENCRYPTION_KEYS", env["FIELD_ENCRYPTION_KEYS"])
    import django

    django.setup()
    migrate()
    from bench.benchmarks import BENCHMARKS, get
    from bench.report import write_report

    names = [n.strip() for n in args.only.split(",") if n.strip()] or [*BENCHMARKS, "e2e"]
    unknown = set(names) - {*BENCHMARKS, "e2e"}
    if unknown:
        print(f"make bench: unknown benchmark(s) {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="sb-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    results = []
    shared = [name for name in names if name != "e2e" and getattr(get(name), "shares_dataset", False)]
    for name in names:
        if name == "e2e" or name in shared:
            continue
        results.append(
            run_benchmark(name, args.sizes, args.reps, workdir, env, not args.no_profile, args.in_process)
        )
    if shared:
        results += run_shared_dataset(shared, args.sizes, args.reps, workdir, env, args.in_process)
    e2e = None
    if "e2e" in names and args.e2e_minutes != 0:
        from bench.e2e import run_e2e

        e2e = run_e2e(args.sizes, args.e2e_minutes, env, workdir)
    write_report(args.out, results, e2e, sizes=args.sizes, reps=args.reps, started=started)
    log(f"wrote {args.out}")
    return 1 if any(r.errors for r in results) or (e2e and e2e.get("error")) else 0


if __name__ == "__main__":
    sys.exit(main())
