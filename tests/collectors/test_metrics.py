"""/metrics: Prometheus text behind a bearer token, parsed with the client's own parser."""

from __future__ import annotations

from datetime import date
from datetime import timedelta as td

import pytest
import time_machine
from prometheus_client.parser import text_string_to_metric_families

from collectors import health
from collectors.models import CollectionRun
from tests.collectors.healthkit import T0, count_run, make_run, make_schedule, record
from tokens.models import AccessToken

pytestmark = pytest.mark.django_db
TOKEN = "metrics-secret-0123456789"


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN


def scrape(client) -> dict[str, list]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    families = text_string_to_metric_families(response.content.decode())
    return {f.name: f.samples for f in families}


def test_without_a_configured_token_metrics_are_not_found(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404


def test_a_missing_or_wrong_token_is_refused(client, metrics_on):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 401


@time_machine.travel(T0 + td(minutes=1), tick=False)
def test_it_reports_status_success_failures_rows_durations_and_token_days(
    client, metrics_on, conn_a, owner_a
):
    sched = make_schedule(conn_a, "agent_states")
    record(sched, "ok", T0 - td(minutes=2))
    # Two runs whose outcomes only count in the totals (their facts would change the status).
    count_run(
        sched, make_run(conn_a, "agent_states", CollectionRun.OK, T0 - td(minutes=1), seconds=0.3, rows=7)
    )
    count_run(sched, make_run(conn_a, "agent_states", CollectionRun.FAILED, T0, seconds=12.0))
    record(sched, "failed", T0, error="TransientError: 503")
    AccessToken.objects.create(
        connection=conn_a,
        section="realtime",
        owner=owner_a,
        issued=date(2025, 3, 12),
        expires=date(2026, 3, 12),
    )
    health.evaluate_all(T0 + td(minutes=1))
    samples = scrape(client)
    labels = {"tenant": "acme", "connection": "tcn-main", "vendor": "tcn", "stream": "agent_states"}

    status = {
        s.labels["status"]: s.value
        for s in samples["switchboard_stream_status"]
        if s.labels["stream"] == "agent_states"
    }
    assert status["ok"] == 1.0 and status["failing"] == 0.0
    last = [s for s in samples["switchboard_stream_last_success_timestamp_seconds"] if s.labels == labels]
    assert last[0].value == (T0 - td(minutes=2)).timestamp()
    fails = [s for s in samples["switchboard_stream_consecutive_failures"] if s.labels == labels]
    assert fails[0].value == 1.0
    rows = [s for s in samples["switchboard_rows_collected"] if s.labels == labels]
    assert rows[0].name == "switchboard_rows_collected_total" and rows[0].value == 7.0

    hist = {
        (s.name, s.labels.get("le")): s.value
        for s in samples["switchboard_run_duration_seconds"]
        if s.labels["stream"] == "agent_states"
    }
    # Four finished runs: two 2 s records, one 0.3 s, one 12 s.
    assert hist[("switchboard_run_duration_seconds_bucket", "0.5")] == 1.0
    assert hist[("switchboard_run_duration_seconds_bucket", "2.5")] == 3.0
    assert hist[("switchboard_run_duration_seconds_bucket", "10.0")] == 3.0
    assert hist[("switchboard_run_duration_seconds_bucket", "+Inf")] == 4.0
    assert hist[("switchboard_run_duration_seconds_count", None)] == 4.0
    assert hist[("switchboard_run_duration_seconds_sum", None)] == pytest.approx(16.3)

    days = samples["switchboard_token_days_left"][0]
    assert days.labels == {"tenant": "acme", "connection": "tcn-main", "vendor": "tcn", "section": "realtime"}
    assert days.value == 10.0  # 2 March to 12 March in Chicago


def test_gaps_are_reported_for_history_streams(client, metrics_on, conn_a):
    samples = scrape(client)
    gap_streams = {s.labels["stream"] for s in samples["switchboard_connection_gap_intervals"]}
    assert gap_streams == {"file_drop"}


def test_no_secret_or_address_appears_in_the_output(client, metrics_on, conn_a, owner_a):
    AccessToken.objects.create(
        connection=conn_a,
        section="realtime",
        owner=owner_a,
        issued=date(2025, 3, 12),
        expires=date(2026, 3, 12),
    )
    body = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()
    assert "tcn-token-0123456789abcdef" not in body
    assert "owner_a" not in body and "@" not in body


def collect_counted(sched, status: str, at, seconds: float, rows: int = 0) -> None:
    """A finished run whose outcome is stored the way the engine stores it."""
    from collectors.runs import store_outcome

    store_outcome(sched, make_run(sched.connection, sched.stream, status, at, seconds=seconds, rows=rows), at)


def run_samples(client) -> dict[tuple[str, str | None], float]:
    samples = scrape(client)
    out = {(s.name, s.labels.get("le")): s.value for s in samples["switchboard_run_duration_seconds"]}
    out |= {(s.name, None): s.value for s in samples["switchboard_rows_collected"]}
    return out


def test_pruning_old_runs_changes_no_counter(client, metrics_on, conn_a):
    from collectors.retention import prune

    sched = make_schedule(conn_a, "volume")
    for days in (40, 30, 20, 1):
        collect_counted(sched, CollectionRun.OK, T0 - td(days=days), seconds=40.0, rows=5)
    collect_counted(sched, CollectionRun.FAILED, T0 - td(days=120), seconds=0.1)
    before = run_samples(client)
    assert before[("switchboard_run_duration_seconds_count", None)] == 5.0
    assert before[("switchboard_rows_collected_total", None)] == 20.0
    deleted = sum(o.deleted for o in prune(T0))
    assert deleted == 4 and CollectionRun.objects.count() == 1
    assert run_samples(client) == before


def test_a_scrape_reads_no_more_with_many_runs_than_with_few(client, metrics_on, conn_a, conn_b):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    sched = make_schedule(conn_a, "agent_states")

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            scrape(client)
        return len(ctx.captured_queries)

    collect_counted(sched, CollectionRun.OK, T0, seconds=0.2, rows=1)
    few = queries()
    CollectionRun.objects.bulk_create(
        CollectionRun(
            connection=conn_a,
            stream="agent_states",
            status=CollectionRun.OK,
            started_at=T0 - td(seconds=i),
            finished_at=T0 - td(seconds=i) + td(seconds=0.2),
        )
        for i in range(500)
    )
    assert queries() == few


def test_the_counters_keep_their_meaning_for_every_way_a_run_ends(client, metrics_on, conn_a):
    """Ok, failed, auth-failed and retried runs all count as finished; rows only from ok runs."""
    sched = make_schedule(conn_a, "config")
    collect_counted(sched, CollectionRun.OK, T0, seconds=0.4, rows=3)
    collect_counted(sched, CollectionRun.RETRYING, T0, seconds=3.0)
    collect_counted(sched, CollectionRun.AUTH_FAILED, T0, seconds=700.0)
    samples = run_samples(client)
    assert samples[("switchboard_run_duration_seconds_bucket", "0.5")] == 1.0
    assert samples[("switchboard_run_duration_seconds_bucket", "5.0")] == 2.0
    assert samples[("switchboard_run_duration_seconds_bucket", "300.0")] == 2.0
    assert samples[("switchboard_run_duration_seconds_bucket", "900.0")] == 3.0
    assert samples[("switchboard_run_duration_seconds_sum", None)] == pytest.approx(703.4)
    assert samples[("switchboard_rows_collected_total", None)] == 3.0
