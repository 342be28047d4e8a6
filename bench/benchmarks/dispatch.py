"""3) Dispatching N due streams to Redis: `dispatch_due` against django-celery-beat's DatabaseScheduler.

Both sides start with N due entries and stop when all N task messages are on the broker
(Redis, the benchmarks' own db). Switchboard claims `CollectionSchedule` rows in batches
(SKIP LOCKED), advances them and publishes; beat holds N `PeriodicTask` rows and is ticked
in a tight loop with no sleeping between ticks (its best case: a real beat sleeps between
entries when they are not yet due). A beat run that passes the time budget is stopped and
reported as a lower bound, with the number of messages it had sent by then.
"""

from __future__ import annotations

import time
from datetime import timedelta as td
from pathlib import Path
from typing import Any

from bench.benchmarks.fixtures import pool_connections, truncate
from bench.harness import SWITCHBOARD, Benchmark, budget_seconds

QUEUES = ("agent_states", "history", "config", "default")


def broker_queue_lengths() -> int:
    import redis
    from django.conf import settings

    r = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    return sum(r.llen(q) for q in QUEUES)


def clear_broker_queues() -> None:
    import redis
    from django.conf import settings

    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(*QUEUES)


class Dispatch(Benchmark):
    name = "dispatch"
    title = "Dispatching due streams to Redis"
    unit = "streams"
    sizes = {"tiny": (60,), "small": (300, 1_000), "full": (1_000, 10_000, 50_000)}
    switchboard_label = "collectors.dispatch.dispatch_due (SKIP LOCKED batches), ticks until all are sent"
    reference_label = "django-celery-beat DatabaseScheduler, ticked without sleeping until all are sent"
    target = "10× faster than beat at 10k; queries not growing per row"

    def missing(self) -> str | None:
        try:
            from collectors.dispatch import dispatch_due  # noqa: F401
        except ImportError as exc:
            return f"collectors.dispatch.dispatch_due not importable ({exc})"
        return None

    def setup(self, side: str, size: int, workdir: Path) -> Any:
        from django.utils import timezone

        clear_broker_queues()
        now = timezone.now()
        if side == SWITCHBOARD:
            from collectors.models import CollectionSchedule
            from collectors.schedules import DISPATCHED_STREAMS

            streams = DISPATCHED_STREAMS
            conns = pool_connections(-(-size // len(streams)))
            truncate("collectors_collectionschedule")
            rows = []
            for n in range(size):
                stream = streams[n % len(streams)]
                rows.append(
                    CollectionSchedule(
                        connection_id=conns[n // len(streams)],
                        stream=stream,
                        interval_seconds=30 if stream == "agent_states" else 900,
                        next_run_at=now - td(seconds=60 + n % 30),
                    )
                )
            CollectionSchedule.objects.bulk_create(rows, batch_size=5000)
            return {}
        from django_celery_beat.models import IntervalSchedule, PeriodicTask, PeriodicTasks

        truncate("django_celery_beat_periodictask", "django_celery_beat_intervalschedule")
        every = IntervalSchedule.objects.create(every=30, period=IntervalSchedule.SECONDS)
        PeriodicTask.objects.bulk_create(
            [
                PeriodicTask(
                    name=f"bench-{n}",
                    task="collectors.tasks.collect",
                    interval=every,
                    args=f'[{n}, "2025-01-01T00:00:00+00:00", "2025-01-01T00:00:30+00:00"]',
                    queue="agent_states",
                    last_run_at=now - td(minutes=10),
                    enabled=True,
                )
                for n in range(size)
            ],
            batch_size=5000,
        )
        PeriodicTasks.update_changed()
        return {}

    def run(self, side: str, size: int, state: Any) -> dict[str, Any]:
        if side == SWITCHBOARD:
            from collectors.dispatch import dispatch_due

            sent = ticks = 0
            while sent < size:
                n = dispatch_due()
                ticks += 1
                if n == 0:
                    break
                sent += n
            return {"sent": sent, "ticks": ticks}
        return self._beat(size)

    def _beat(self, size: int) -> dict[str, Any]:
        from django_celery_beat.schedulers import DatabaseScheduler

        from wfm_site.celery import app

        # Only the benchmark's entries: the site's own beat ticks are not part of the race.
        app.conf.beat_schedule = {}
        counter = {"sent": 0}

        class CountingScheduler(DatabaseScheduler):
            def apply_async(self, entry, producer=None, advance=True, **kwargs):
                result = super().apply_async(entry, producer, advance, **kwargs)
                if entry.name.startswith("bench-"):
                    counter["sent"] += 1
                return result

        scheduler = CountingScheduler(app=app)
        deadline = time.perf_counter() + budget_seconds()
        ticks = 0
        while counter["sent"] < size:
            scheduler.tick()
            ticks += 1
            if time.perf_counter() > deadline:
                return {"sent": counter["sent"], "ticks": ticks, "capped": True}
        return {"sent": counter["sent"], "ticks": ticks}

    def verify(self, side: str, size: int, state: Any, result: dict[str, Any]) -> dict[str, Any]:
        on_broker = broker_queue_lengths()
        if result.get("capped"):
            return {"on_broker": on_broker}
        if result["sent"] != size or on_broker < size:
            raise AssertionError(f"{side}: {result['sent']} sent, {on_broker} on the broker, expected {size}")
        if side == SWITCHBOARD:
            from collectors.models import CollectionSchedule

            left = CollectionSchedule.objects.filter(lease_until__isnull=True).count()
            if left:
                raise AssertionError(f"{left} schedule(s) were not claimed")
        clear_broker_queues()
        return {"on_broker": on_broker}

    def verdict(self, table: list[dict[str, Any]]) -> tuple[bool | None, str]:
        rows = [r for r in table if r.get("ratio") is not None]
        if not rows:
            return None, "no ratio measured"
        at = next((r for r in rows if r["size"] == 10_000), None)
        per_row = [r["sb_queries"] / r["size"] for r in rows]
        # Batched: at most a few statements per claimed batch (hundreds of rows), never one per row.
        batched = all(r["sb_queries"] <= 10 or r["sb_queries"] / r["size"] <= 0.02 for r in rows)
        queries = (
            f"Switchboard queries per stream {', '.join(f'{p:.4f}' for p in per_row)} "
            f"({'batched: not per row' if batched else 'grows per row'}); beat issued "
            f"{', '.join(str(r['ref_queries']) for r in rows)} queries"
        )
        if at is None:
            largest = rows[-1]
            return (False if not batched else None), (
                f"10k streams not run at these sizes (the target is set at 10k); "
                f"{1 / largest['ratio']:.1f}× faster than beat at {largest['size']:,}; {queries}"
            )
        speedup = 1 / at["ratio"]
        bound = "≥ " if at.get("ref_capped") else ""
        return speedup >= 10 and batched, (
            f"{bound}{speedup:.1f}× faster than beat at {at['size']:,} streams (target 10× at 10k); {queries}"
        )
