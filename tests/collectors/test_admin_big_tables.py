"""The changelists of tables that grow with time read one page, never the whole table."""

from __future__ import annotations

from datetime import timedelta as td

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from collectors.admin import CappedPaginator
from collectors.models import AgentStateEvent, CollectionRun, DropFile, HealthFlip, IntervalVolume
from tests.collectors.healthkit import T0, make_run
from tests.conftest import make_connection

pytestmark = pytest.mark.django_db
BIG = (CollectionRun, AgentStateEvent, IntervalVolume, HealthFlip, DropFile)
RUNS = "admin:collectors_collectionrun_changelist"


@pytest.mark.parametrize("model", BIG, ids=lambda m: m.__name__)
def test_no_big_table_has_a_date_hierarchy_or_a_full_count(model):
    model_admin = admin.site._registry[model]
    assert model_admin.date_hierarchy is None
    assert model_admin.show_full_result_count is False
    assert model_admin.paginator is CappedPaginator


def test_the_count_stops_at_the_cap(client, manager_a, conn_a, monkeypatch):
    monkeypatch.setattr(CappedPaginator, "cap", 5)
    for i in range(8):
        make_run(conn_a, "volume", CollectionRun.OK, T0 - td(minutes=i))
    client.force_login(manager_a)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse(RUNS))
    assert response.status_code == 200
    assert "more than 5 collection runs" in response.content.decode()
    counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    # Capped, and unsorted: sorting every matching row first would cost a full count.
    assert counts and all("LIMIT 6" in sql and "ORDER BY" not in sql for sql in counts), counts


def test_below_the_cap_the_exact_count_shows(client, manager_a, conn_a):
    for i in range(3):
        make_run(conn_a, "volume", CollectionRun.OK, T0 - td(minutes=i))
    client.force_login(manager_a)
    body = client.get(reverse(RUNS)).content.decode()
    assert "3 collection runs" in body and "more than" not in body


def test_the_connection_filter_lists_only_connections_in_scope(client, manager_a, conn_a, conn_b):
    """Hostile: tenant B's connection has runs, tenant A's has none; A's manager sees only A's."""
    from integrations.models import Membership, Tenant

    make_run(conn_b, "volume", CollectionRun.FAILED, T0)
    # A second connection and a second tenant of A's manager, so both filters have a choice.
    second = make_connection(conn_a.tenant, "8x8", "second")
    third = Tenant.objects.create(name="Third", slug="third")
    Membership.objects.create(user=manager_a, tenant=third, role=Membership.PARTNER)
    client.force_login(manager_a)
    response = client.get(reverse(RUNS))
    cl = response.context["cl"]
    choices = {
        spec.field_path: {c["display"] for c in spec.choices(cl)}
        for spec in cl.filter_specs
        if hasattr(spec, "field_path")
    }
    connection_choices, tenant_choices = choices["connection"], choices["connection__tenant"]
    assert {str(conn_a), str(second)} <= connection_choices and str(conn_b) not in connection_choices
    assert {str(conn_a.tenant), "Third"} <= tenant_choices and str(conn_b.tenant) not in tenant_choices
    assert response.context["cl"].result_count == 0


@pytest.mark.parametrize(
    "query",
    ["", "?status__exact=failed", "?stream__exact=volume", "?status__exact=ok&stream__exact=agent_states"],
)
def test_filtered_run_pages_cost_the_same_queries_with_more_rows(client, manager_a, conn_a, tenant_a, query):
    client.force_login(manager_a)
    url = reverse(RUNS) + query

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    for status in ("ok", "failed"):
        make_run(conn_a, "volume", status, T0)
    few = queries()
    other = make_connection(tenant_a, "8x8", "second")
    for i in range(40):
        make_run(other, ("volume", "agent_states")[i % 2], ("ok", "failed")[i % 3 == 0], T0 - td(minutes=i))
    assert queries() == few
