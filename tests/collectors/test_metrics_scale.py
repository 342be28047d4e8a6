"""A /metrics scrape reads the same statements at 20 connections as at 2,000 (the samples grow
with the streams, which the metric set names one by one, and with nothing else)."""

from __future__ import annotations

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from prometheus_client.parser import text_string_to_metric_families

from tests.collectors.fleetkit import STREAMS, add_fleet, add_tenants

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
