"""bench/RESULTS.md and one PNG per benchmark (cost against size, both sides)."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.harness import budget_seconds

if TYPE_CHECKING:
    from bench.run import BenchResult

NOT_YET = "not available yet"


def machine() -> dict[str, str]:
    mem = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    info = {
        "cores": str(os.cpu_count()),
        "memory": mem,
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()} {platform.machine()}",
    }
    try:
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute("SHOW server_version")
            info["postgresql"] = cur.fetchone()[0]
        import redis
        from django.conf import settings

        info["redis"] = redis.Redis.from_url(settings.CELERY_BROKER_URL).info("server")["redis_version"]
    except Exception as exc:  # the report still gets written without them
        info["services"] = f"version lookup failed: {exc}"
    try:
        import duckdb

        info["duckdb"] = duckdb.__version__
    except ImportError:
        pass
    return info


def fmt_s(value: float | None, capped: bool = False) -> str:
    if value is None:
        return NOT_YET
    text = f"{value:.3f}" if value < 10 else f"{value:.1f}"
    return f"> {text} (stopped at budget)" if capped else text


def growth(rows: list[dict[str, Any]], key: str) -> str:
    """How a side's cost grows from the smallest to the largest size, against the size itself."""
    pts = [r for r in rows if r.get(f"{key}_seconds")]
    if len(pts) < 2:
        return "one size only"
    a, b = pts[0], pts[-1]
    t, n = b[f"{key}_seconds"] / a[f"{key}_seconds"], b["size"] / a["size"]
    per_unit = t / n
    shape = "sub-linear" if per_unit < 0.8 else "linear" if per_unit <= 1.25 else "super-linear"
    bound = " (lower bound: stopped at the budget)" if b.get(f"{key}_capped") else ""
    return f"×{t:.1f} time for ×{n:.0f} size: {shape} (cost per unit ×{per_unit:.2f}){bound}"


def _rate(r: dict[str, Any], key: str) -> str:
    seconds = r.get(f"{key}_seconds")
    if not seconds:
        return "—"
    extra = r.get(f"{key}_extra") or {}
    done = (extra.get("done") or extra.get("sent") or 0) if r.get(f"{key}_capped") else r["size"]
    return f"{done / seconds:,.0f}"


def _peak(r: dict[str, Any], key: str) -> str:
    if r.get(f"{key}_peak_mib") is None:
        return "—"
    return f"{r[f'{key}_peak_mib']:.0f} ({r[f'{key}_setup_mib']:.0f})"


def table(result: BenchResult) -> list[str]:
    if not result.references:
        return scale_table(result)
    unit = result.unit
    lines = [
        f"| {unit} | Switchboard s | reference s | ratio SB/ref | SB {unit}/s | ref {unit}/s | SB queries "
        "| ref queries | SB peak MiB (after setup) | ref peak MiB (after setup) | runs SB/ref |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result.rows:
        ratio = r.get("ratio")
        ratio_s = "—" if ratio is None else f"{ratio:.2f}"
        if ratio is not None and r.get("ref_capped"):
            ratio_s = f"≤ {ratio:.3f}"
        if result.missing:
            sb_cells = [NOT_YET, NOT_YET, NOT_YET, NOT_YET]
            ratio_s = NOT_YET
        else:
            sb_cells = [
                fmt_s(r.get("sb_seconds")),
                _rate(r, "sb"),
                str(r.get("sb_queries", "—")),
                _peak(r, "sb"),
            ]
        ref_s = fmt_s(r.get("ref_seconds"), r.get("ref_capped", False))
        cells = [
            f"{r['size']:,}",
            sb_cells[0],
            ref_s,
            ratio_s,
            sb_cells[1],
            _rate(r, "ref"),
            sb_cells[2],
            str(r.get("ref_queries", "—")),
            sb_cells[3],
            _peak(r, "ref"),
            f"{r.get('sb_runs', 0)}/{r.get('ref_runs', 0)}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def scale_table(result: BenchResult) -> list[str]:
    """A benchmark without a reference (how one cost grows with size): Switchboard's columns."""
    unit = result.unit
    lines = [
        f"| {unit} | Switchboard s | {unit}/s | queries | peak MiB (after setup) | runs |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result.rows:
        cells = [
            f"{r['size']:,}",
            fmt_s(r.get("sb_seconds")),
            _rate(r, "sb"),
            str(r.get("sb_queries", "—")),
            _peak(r, "sb"),
            str(r.get("sb_runs", 0)),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def references_table(result: BenchResult) -> list[str]:
    """Every reference at every size, when a benchmark has more than one: which is the strongest."""
    if len(result.references) < 2:
        return []
    lines = [
        f"| reference | compared? | {result.unit} | seconds | ratio SB/this | queries "
        "| peak MiB (after setup) | runs |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for ref in result.references:
        for r in result.rows:
            mine = (r.get("refs") or {}).get(ref.side) or {}
            seconds = mine.get("seconds")
            ratio = r["sb_seconds"] / seconds if seconds and r.get("sb_seconds") is not None else None
            strongest = " (strongest)" if r.get("ref_side") == ref.side else ""
            peak = f"{mine['peak_mib']:.0f} ({mine['setup_mib']:.0f})" if seconds is not None else "—"
            cells = [
                f"`{ref.side}`{strongest}",
                "yes" if ref.compared else "no (less work than Switchboard)",
                f"{r['size']:,}",
                fmt_s(seconds, mine.get("capped", False)),
                "—" if ratio is None else f"{ratio:.2f}",
                str(mine.get("queries", "—")),
                peak,
                str(mine.get("runs", 0)),
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def plot(result: BenchResult, path: Path) -> bool:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.2, 3.3), dpi=80)
    drawn = False
    lines: list[tuple[str, list[tuple[int, float]], str]] = [
        ("Switchboard", [(r["size"], r["sb_seconds"]) for r in result.rows if r.get("sb_seconds")], "o-")
    ]
    if len(result.references) < 2:
        lines.append(
            ("reference", [(r["size"], r["ref_seconds"]) for r in result.rows if r.get("ref_seconds")], "s--")
        )
    else:
        for ref, marker in zip(result.references, "s^vDP*", strict=False):
            pts = [
                (r["size"], r["refs"][ref.side]["seconds"])
                for r in result.rows
                if (r.get("refs") or {}).get(ref.side, {}).get("seconds")
            ]
            lines.append((ref.side, pts, f"{marker}--" if ref.compared else f"{marker}:"))
    for label, pts, style in lines:
        if pts:
            ax.plot(*zip(*pts, strict=True), style, label=label)
            drawn = True
    if not drawn:
        plt.close(fig)
        return False
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(result.unit)
    ax.set_ylabel("seconds (median)")
    ax.set_title(result.title, fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def e2e_section(e2e: dict[str, Any] | None, number: int = 6) -> list[str]:
    lines = [f"## {number}. End to end on real workers", ""]
    if e2e is None:
        return [*lines, "Not run in this pass (`BENCH_E2E_MINUTES=0` or `--only`).", ""]
    if e2e.get("missing"):
        return [*lines, f"Switchboard side **{NOT_YET}**: {e2e['missing']}.", ""]
    if e2e.get("error"):
        lines += [f"**The run failed:** {e2e['error']}", ""]
    lines += [
        f"{e2e.get('connections', '?')} simulated connections in the sandbox, the Celery workers of "
        f"Procfile.production on Redis and PostgreSQL, {e2e.get('minutes', '?')} min "
        "(bounded; stops by itself).",
        "",
        "| figure | value | target |",
        "|---|---:|---|",
    ]
    for label, key, target in (
        ("agent-state polls per second (after the warm-up)", "polls_per_second", "≥ 99% of expected"),
        ("polls per second expected (connections ÷ interval)", "polls_per_second_expected", ""),
        ("polls expected in the run", "polls_expected", ""),
        ("polls done", "polls_done", ""),
        ("history runs done", "history_runs", ""),
        ("lag state change → stored event, median (s)", "lag_median", ""),
        ("lag state change → stored event, p99 (s)", "lag_p99", "< 10"),
        ("state changes matched", "lag_samples", ""),
        ("runs missed after the warm-up", "runs_missed", "0"),
        ("runs missed in the warm-up (not counted above)", "warmup_missed", ""),
        ("failed runs", "runs_failed", "0"),
        ("duplicate events", "duplicates", "must be 0"),
        ("slots collected twice (same task id)", "duplicate_runs", "must be 0"),
        ("runs of one stream overlapping in time", "overlapping_runs", "must be 0"),
        ("worker CPU per poll, ms (history and config runs included)", "worker_cpu_ms_per_poll", ""),
        ("the agent_states pool's CPU per poll, ms", "poll_pool_cpu_ms_per_poll", "≤ 5"),
    ):
        value = e2e.get(key)
        if isinstance(value, float):
            value = f"{value:.2f}"
        lines.append(f"| {label} | {value if value is not None else '—'} | {target} |")
    if e2e.get("notes"):
        lines += ["", *[f"- {n}" for n in e2e["notes"]]]
    return [*lines, ""]


def write_report(
    out: Path,
    results: list[BenchResult],
    e2e: dict[str, Any] | None,
    *,
    sizes: str,
    reps: int,
    started: datetime,
) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    info = machine()
    lines = [
        "# Switchboard benchmarks",
        "",
        "Generated by `make bench` (`python -m bench.run`); do not edit by hand. Every figure is a ratio "
        "taken side by side in one run on the same machine: absolute times on a shared machine are noise.",
        "",
        f"- date: {started:%Y-%m-%d %H:%M} UTC (finished {datetime.now(UTC):%H:%M} UTC)",
        f"- sizes: `{sizes}`; each cell is the median of {reps} run(s) per side (a reference stopped at its "
        f"time budget, `BENCH_REFERENCE_BUDGET` = {budget_seconds():.0f} s, is run once and reported as a "
        "bound)",
        "- machine: " + ", ".join(f"{k} {v}" for k, v in info.items()),
        "- peak memory: the peak resident memory (`VmHWM`) of the child process that ran that one "
        "measurement (setup included; the "
        "figure in brackets is the peak right after setup, before the clock started). PostgreSQL's own "
        "memory is not counted.",
        "",
        "| benchmark | target | met? | summary |",
        "|---|---|---|---|",
    ]
    for r in results:
        met = NOT_YET if r.missing else {True: "yes", False: "**no**", None: "—"}[r.met]
        lines.append(f"| {r.title} | {r.target} | {met} | {r.verdict or (r.missing or '')} |")
    if e2e is not None:
        lines.append(
            "| End to end on real workers | polls/s sustained, p99 lag < 10 s, 0 missed, 0 duplicates | "
            f"{'yes' if e2e.get('ok') else ('—' if e2e.get('missing') else '**no**')} "
            f"| {e2e.get('summary', '')} |"
        )
    lines.append("")
    for n, r in enumerate(results, start=1):
        lines += [f"## {n}. {r.title}", ""]
        lines.append(f"- Switchboard: {r.switchboard_label}")
        if not r.references:
            lines.append("- reference: none (measured for how its cost grows with the size)")
        elif len(r.references) < 2:
            lines.append(f"- reference: {r.reference_label}")
        else:
            lines.append("- references (Switchboard is compared with the fastest of those compared):")
            lines += [
                f"  - `{ref.side}`: {ref.label}" + ("" if ref.compared else " (context only: less work)")
                for ref in r.references
            ]
        lines.append(f"- target: {r.target}")
        if r.missing:
            lines.append(f"- Switchboard side **{NOT_YET}**: {r.missing}")
        lines.append("")
        lines += table(r)
        lines.append("")
        if more := references_table(r):
            lines += [*more, ""]
        lines.append(f"Growth, Switchboard: {growth(r.rows, 'sb')}. Reference: {growth(r.rows, 'ref')}.")
        if r.verdict:
            lines += ["", f"Verdict: {'met' if r.met else 'missed' if r.met is False else '—'}; {r.verdict}."]
        png = out.parent / f"{r.name}.png"
        if plot(r, png):
            lines += ["", f"![{r.title}]({png.name})"]
        if r.profile:
            lines += [
                "",
                "Profile of the Switchboard side at the largest size (pyinstrument, top frames):",
                "",
                "```",
                r.profile,
                "```",
            ]
        if r.errors:
            lines += ["", "Errors:", "", "```", *(e[-1500:] for e in r.errors), "```"]
        lines.append("")
    lines += e2e_section(e2e, len(results) + 1)
    # Written by `python -m bench.retention`, which `make bench` does not run (minutes at 10M rows).
    retention = out.parent / "RETENTION.md"
    if retention.exists():
        lines += [retention.read_text().strip(), ""]
    analysis = out.parent / "ANALYSIS.md"
    if analysis.exists():
        lines += ["## What limits the rest", "", analysis.read_text().strip(), ""]
    out.write_text("\n".join(lines))
