"""The benchmark registry, in report order (explicit: nothing is found by importing for side effects)."""

from __future__ import annotations

from django.utils.module_loading import import_string

BENCHMARKS: dict[str, str] = {
    "upserts": "bench.benchmarks.upserts.Upserts",
    "tcn_file": "bench.benchmarks.tcn_file.TcnFile",
    "dispatch": "bench.benchmarks.dispatch.Dispatch",
    "agent_states": "bench.benchmarks.agent_states.AgentStates",
    "reminders": "bench.benchmarks.reminders.Reminders",
    "api_sync_json": "bench.benchmarks.api_sync.ApiSyncJson",
    "api_sync_csv": "bench.benchmarks.api_sync.ApiSyncCsv",
    "api_page": "bench.benchmarks.api_sync.ApiPage",
    "change_triggers": "bench.benchmarks.api_sync.ChangeTriggers",
    "scale_health_pass": "bench.benchmarks.scale.ScaleHealthPass",
    "scale_health_page": "bench.benchmarks.scale.ScaleHealthPage",
    "scale_metrics": "bench.benchmarks.scale.ScaleMetrics",
    "scale_schedule_sync": "bench.benchmarks.scale.ScaleScheduleSync",
    "scale_dispatch_tick": "bench.benchmarks.scale.ScaleDispatchTick",
}


def get(name: str):
    if name not in BENCHMARKS:
        raise KeyError(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}")
    return import_string(BENCHMARKS[name])()
