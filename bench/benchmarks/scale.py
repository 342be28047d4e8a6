"""7) Scale: the periodic passes and pages at N connections with realistic history.

One dataset per size, generated set-based in SQL and kept between benchmarks and runs
(rebuilt only when its size changes): N connections of four per tenant (N/4 tenants), three
schedules each (what `sync_all` makes for an 8x8 connection), and about 137 finished runs
per connection (2.75M at 20,000, as the issue measured), every stream `ok`.

Each benchmark times one thing a deployment does at that scale, and reports how its cost
grows with N (`growth` in bench/RESULTS.md): the health pass with a fixed number of streams due
(what changed, not how many there are), the staff health page, a `/metrics` scrape, the
schedule sync every migrate runs, and one dispatcher tick with a fixed number of streams due.
The health pass is compared with judging every stream (what the pass did before due times).
"""

from __future__ import annotations

import time
from datetime import timedelta as td
from pathlib import Path
from typing import Any

from django.db import connection as db

from bench.benchmarks.fixtures import analyze, truncate
from bench.harness import REFERENCE, SWITCHBOARD, Benchmark, Reference, budget_seconds

SIZES: dict[str, tuple[int, ...]] = {"tiny": (8, 24), "small": (200, 2_000), "full": (2_000, 20_000)}
RUNS_PER_CONNECTION = 137
CONNECTIONS_PER_TENANT = 4
TENANT_PREFIX = "scale-"
DUE = 50  # streams due at each health pass and each dispatcher tick, whatever N is
METRICS_TOKEN = "bench-scale-metrics-token"
STAFF = "scale-staff"


def scale_dataset(size: int) -> None:
    """The dataset of `size` connections, built when the database holds another (or none)."""
    from integrations.models import VendorConnection

    have = VendorConnection.objects.filter(tenant__slug__startswith=TENANT_PREFIX).count()
    schedules, runs = _count("collectors_collectionschedule"), _count("collectors_collectionrun")
    if have == size and schedules == 3 * size and runs >= size * RUNS_PER_CONNECTION:
        return
    truncate("integrations_tenant")  # cascades to connections, schedules, runs, flips, tokens
    _build(size)


def _count(table: str) -> int:
    with db.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {table}")
        return int(cur.fetchone()[0])


def _build(size: int) -> None:
    from django.utils import timezone

    from collectors.schedules import sync_all
    from integrations.models import Tenant, VendorConnection

    tenants = Tenant.objects.bulk_create(
        [
            Tenant(name=f"Scale {n}", slug=f"{TENANT_PREFIX}{n:05d}", time_zone="America/Chicago")
            for n in range(-(-size // CONNECTIONS_PER_TENANT))
        ],
        batch_size=5000,
    )
    VendorConnection.objects.bulk_create(
        [
            VendorConnection(
                tenant=tenants[n // CONNECTIONS_PER_TENANT],
                vendor="8x8",
                name=f"scale-{n:06d}",
                realtime_base_url="http://127.0.0.1:8765/8x8/api/",
                interval_seconds=30,
                time_zone="UTC",
            )
            for n in range(size)
        ],
        batch_size=5000,
    )
    sync_all()  # the schedules, set-based (bulk_create sent no signals)
    now = timezone.now()
    per_schedule = -(-RUNS_PER_CONNECTION // 3)
    with db.cursor() as cur:
        # Runs newest last, one per interval back from now, every one a success.
        cur.execute(
            "INSERT INTO collectors_collectionrun (connection_id, stream, started_at, finished_at, status,"
            " rows_created, rows_updated, rows_deactivated, error_class, error_message, payload_sample,"
            " notes, task_id, lease_id, source)"
            " SELECT s.connection_id, s.stream, %s - make_interval(secs => s.interval_seconds * g.n),"
            " %s - make_interval(secs => s.interval_seconds * g.n - 1), 'ok', 3, 0, 0, '', '', '', '', '',"
            " '', ''"
            " FROM collectors_collectionschedule s CROSS JOIN generate_series(1, %s) AS g(n)",
            [now, now, per_schedule],
        )
        cur.execute(
            "UPDATE collectors_collectionschedule SET status = 'ok', status_since = %s,"
            " last_run_at = %s, last_success_at = %s, late_after = %s, health_due_at = NULL,"
            " next_run_at = %s, runs_finished = %s",
            [now - td(days=1), now, now, now + td(days=365), now + td(days=365), per_schedule],
        )
    analyze("collectors_collectionrun", "collectors_collectionschedule", "integrations_vendorconnection")


def spread_ids(count: int) -> list[int]:
    """`count` schedule ids spread evenly over the table (not all of one tenant)."""
    from collectors.models import CollectionSchedule

    ids = list(CollectionSchedule.objects.order_by("pk").values_list("pk", flat=True))
    step = max(1, len(ids) // count)
    return ids[::step][:count]


class ScaleBenchmark(Benchmark):
    # The runner takes every scale benchmark at one size before the next size (bench.run).
    shares_dataset = True
    unit = "connections"
    sizes = SIZES
    target = "flat in connections"

    def references(self) -> tuple[Reference, ...]:
        return ()

    def prepare(self, size: int, workdir: Path) -> None:
        scale_dataset(size)

    def verdict(self, table: list[dict[str, Any]]) -> tuple[bool | None, str]:
        rows = [r for r in table if r.get("sb_seconds")]
        if len(rows) < 2:
            return None, "one size only"
        a, b = rows[0], rows[-1]
        grew, size = b["sb_seconds"] / a["sb_seconds"], b["size"] / a["size"]
        allowed = 2.0 if self.target.startswith("flat") else 1.5 * size
        queries = f"queries {a['sb_queries']} → {b['sb_queries']}"
        return (
            grew <= allowed,
            f"×{grew:.1f} time for ×{size:.0f} connections ({queries}); target {self.target}",
        )


class ScaleHealthPass(ScaleBenchmark):
    name = "scale_health_pass"
    title = "Scale: the 60-second health pass"
    switchboard_label = f"collectors.health.evaluate_all() with {DUE} streams due (late)"
    reference_label = "judging every stream each pass (evaluate_all(full=True), the pass before due times)"

    def references(self) -> tuple[Reference, ...]:
        return (Reference(REFERENCE, self.reference_label),)

    def setup(self, side: str, size: int, workdir: Path) -> Any:
        from django.utils import timezone

        from collectors.models import CollectionSchedule

        now = timezone.now()
        CollectionSchedule.objects.update(
            status="ok", last_success_at=now, late_after=now + td(days=365), health_due_at=None
        )
        # The streams that went silent since the last pass: their deadline has passed.
        due = spread_ids(DUE)
        silent = now - td(days=30)
        CollectionSchedule.objects.filter(pk__in=due).update(last_success_at=silent, late_after=silent)
        return {"due": due}

    def run(self, side: str, size: int, state: Any) -> dict[str, Any]:
        from collectors.health import evaluate_all

        if side == SWITCHBOARD:
            return {"flips": evaluate_all()}
        return self._full()

    def _full(self) -> dict[str, Any]:
        from collectors.health import evaluate_all
        from collectors.models import CollectionSchedule

        deadline = time.perf_counter() + budget_seconds()
        ids = list(CollectionSchedule.objects.order_by("pk").values_list("pk", flat=True))
        flips = 0
        for start in range(0, len(ids), 2000):
            if time.perf_counter() > deadline:
                return {"flips": flips, "capped": True, "done": start}
            flips += evaluate_all(
                queryset=CollectionSchedule.objects.filter(pk__in=ids[start : start + 2000])
            )
        return {"flips": flips}

    def verify(self, side: str, size: int, state: Any, result: dict[str, Any]) -> dict[str, Any]:
        from collectors.models import CollectionSchedule

        if result.get("capped"):
            return {}
        late = CollectionSchedule.objects.filter(status="late").count()
        if late != len(state["due"]):
            raise AssertionError(f"{side}: {late} streams late, expected {len(state['due'])}")
        return {"late": late}


class ScalePage(ScaleBenchmark):
    """One GET of a page through Django's test client (the whole view, middleware included)."""

    path: str
    reference_label = ""

    def client(self) -> Any:
        from django.test import Client

        return Client(SERVER_NAME=_host())

    def headers(self) -> dict[str, str]:
        return {}

    def setup(self, side: str, size: int, workdir: Path) -> Any:
        return {"client": self.client(), "headers": self.headers()}

    def run(self, side: str, size: int, state: Any) -> dict[str, Any]:
        response = state["client"].get(self.path, headers=state["headers"])
        return {"status": response.status_code, "bytes": len(response.content)}

    def verify(self, side: str, size: int, state: Any, result: dict[str, Any]) -> dict[str, Any]:
        if result["status"] != 200:
            raise AssertionError(f"{self.path} answered {result['status']}")
        return {"bytes": result["bytes"]}


class ScaleHealthPage(ScalePage):
    name = "scale_health_page"
    title = "Scale: the staff health page"
    switchboard_label = "GET /health/ as a superuser (the page's first screen)"
    path = "/health/"

    def client(self) -> Any:
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.filter(username=STAFF).first()
        if user is None:
            user = get_user_model().objects.create_superuser(STAFF, "scale@example.com", None)
        client = super().client()
        client.force_login(user)
        return client


class ScaleMetrics(ScalePage):
    name = "scale_metrics"
    title = "Scale: a /metrics scrape"
    switchboard_label = "GET /metrics with the bearer token (one series set per stream)"
    target = "linear at worst in connections (a series per stream), never in history"
    path = "/metrics"

    def headers(self) -> dict[str, str]:
        from django.conf import settings

        settings.METRICS_TOKEN = METRICS_TOKEN
        return {"Authorization": f"Bearer {METRICS_TOKEN}"}


class ScaleScheduleSync(ScaleBenchmark):
    name = "scale_schedule_sync"
    title = "Scale: schedule sync on migrate"
    switchboard_label = "collectors.schedules.sync_all() with every schedule in step (a deploy)"
    reference_label = ""
    target = "linear at worst in connections, a constant number of statements"

    def setup(self, side: str, size: int, workdir: Path) -> Any:
        return {}

    def run(self, side: str, size: int, state: Any) -> dict[str, Any]:
        from collectors.schedules import sync_all

        return {"connections": sync_all()}

    def verify(self, side: str, size: int, state: Any, result: dict[str, Any]) -> dict[str, Any]:
        if result["connections"] < size:
            raise AssertionError(f"sync_all saw {result['connections']} connections, expected {size}")
        return {}


class ScaleDispatchTick(ScaleBenchmark):
    name = "scale_dispatch_tick"
    title = "Scale: one dispatcher tick"
    switchboard_label = f"collectors.dispatch.dispatch_due() with {DUE} streams due, to Redis"
    reference_label = ""

    def setup(self, side: str, size: int, workdir: Path) -> Any:
        from django.utils import timezone

        from bench.benchmarks.dispatch import clear_broker_queues
        from collectors.models import CollectionSchedule

        clear_broker_queues()
        now = timezone.now()
        CollectionSchedule.objects.update(next_run_at=now + td(days=365), lease_until=None, lease_id="")
        due = spread_ids(DUE)  # fewer at the tiny size, which has fewer streams than DUE
        CollectionSchedule.objects.filter(pk__in=due).update(next_run_at=now - td(seconds=1))
        return {"due": len(due)}

    def run(self, side: str, size: int, state: Any) -> dict[str, Any]:
        from collectors.dispatch import dispatch_due

        return {"sent": dispatch_due()}

    def verify(self, side: str, size: int, state: Any, result: dict[str, Any]) -> dict[str, Any]:
        if result["sent"] != state["due"]:
            raise AssertionError(f"one tick sent {result['sent']}, expected {state['due']}")
        return {}


def _host() -> str:
    """The test client's host, allowed in this benchmark process only; static URLs without
    collectstatic's manifest (the pages' work is measured, not the static files')."""
    from django.conf import settings
    from django.test.utils import override_settings

    plain = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    override_settings(STORAGES=plain, ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "scale.bench"]).enable()
    return "scale.bench"
