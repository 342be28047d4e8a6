"""A /metrics scrape reads the same statements at 20 connections as at 2,000 (the samples grow
with the streams, which the metric set names one by one, and with nothing else)."""

from __future__ import annotations

from datetime import date
from datetime import timedelta as td

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.parser import text_string_to_metric_families

from collectors import metrics, prometheus_text
from collectors.models import CollectionRun
from tests.collectors.fleetkit import STREAMS, add_fleet, add_tenants
from tests.collectors.healthkit import T0, count_run, make_run, make_schedule, record
from tokens.models import AccessToken

pytestmark = pytest.mark.django_db
TOKEN = "metrics-secret-0123456789"


@pytest.fixture(autouse=True)
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN


def scrape(client) -> tuple[list[str], dict[str, list]]:
    with CaptureQueriesContext(db) as ctx:
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    families = {f.name: f.samples for f in text_string_to_metric_families(response.content.decode())}
    return [q["sql"] for q in ctx.captured_queries], families


def test_a_scrape_reads_the_same_statements_for_20_or_2000_connections(client):
    add_fleet(add_tenants(5), 4)
    few, small = scrape(client)
    add_fleet(add_tenants(495, prefix="u"), 4)
    many, large = scrape(client)
    assert len(many) == len(few)
    assert not any("collectors_collectionrun" in sql for sql in many)
    # Never a connection's credentials: the scrape reads only the columns its labels and values need.
    assert not any("realtime_secrets" in sql or "history_secrets" in sql for sql in many)
    assert len(small["switchboard_stream_up"]) == 20 * len(STREAMS)
    assert len(large["switchboard_stream_up"]) == 2000 * len(STREAMS)
    assert {s.value for s in large["switchboard_stream_up"]} == {1.0}


def test_the_text_is_the_prometheus_clients_byte_for_byte(conn_a, owner_a):
    add_fleet(add_tenants(3), 2, status="failing")
    sched = make_schedule(conn_a, "agent_states")
    record(sched, "ok", T0 - td(minutes=2))
    count_run(sched, make_run(conn_a, "agent_states", CollectionRun.OK, T0, seconds=0.3, rows=7))
    AccessToken.objects.create(
        connection=conn_a,
        section="realtime",
        owner=owner_a,
        issued=date(2025, 3, 12),
        expires=date(2026, 3, 12),
    )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(metrics.HealthCollector(T0))
    ours, _ = metrics.render(T0)
    assert ours == generate_latest(registry)
    assert b'switchboard_run_duration_seconds_bucket{connection="tcn-main"' in ours
    assert b"switchboard_rows_collected_total{" in ours and b"switchboard_token_days_left{" in ours


def test_a_label_value_is_escaped_as_the_format_requires():
    family = GaugeMetricFamily("x", 'a "help"\nline', labels=["l"])
    family.add_metric(['say "hi"\\\n'], 1.0)
    assert prometheus_text.render([family]) == (
        b'# HELP x a "help"\\nline\n# TYPE x gauge\nx{l="say \\"hi\\"\\\\\\n"} 1.0\n'
    )
