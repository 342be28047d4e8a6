"""The health page costs the same statements at 20 connections as at thousands: staff get a
tenant overview a page at a time, a tenant's board shows a page of its connections.

2,000 connections (6,000 schedules) rather than 20,000: the statements do not depend on the
number of rows, and inserting 80,000 rows costs over a minute on a loaded test machine. The
timings at 20,000 are the scale benchmark's (bench/)."""

from __future__ import annotations

import pytest
from django.db import connection as db
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.collectors.fleetkit import add_fleet, add_tenants

pytestmark = pytest.mark.django_db


def statements(client: Client, url: str) -> int:
    with CaptureQueriesContext(db) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(ctx.captured_queries)


def test_a_tenants_board_costs_the_same_for_20_or_2000_connections(client, manager_a, tenant_a):
    client.force_login(manager_a)
    add_fleet([tenant_a], 20)
    few = statements(client, "/health/")
    last_few = statements(client, "/health/?page=1")
    add_fleet([tenant_a], 1_980, prefix="more")
    assert statements(client, "/health/") == few
    page = client.get("/health/?page=80").content.decode()
    assert statements(client, "/health/?page=80") == last_few
    assert "connections 1976–2000 of 2000" in page
    assert page.count('data-stream="volume"') == 25


def test_the_staff_overview_costs_the_same_for_20_or_2000_connections(client, superuser):
    client.force_login(superuser)
    add_fleet(add_tenants(5), 4)
    few = statements(client, "/health/")
    filtered = statements(client, "/health/?problems=1&q=tenant")
    add_fleet(add_tenants(495, prefix="u"), 4)
    assert statements(client, "/health/") == few
    assert statements(client, "/health/?problems=1&q=tenant") == filtered
    page = client.get("/health/?page=3").content.decode()
    assert "tenants 101–150 of 500" in page
    assert page.count("<tr data-tenant=") == 50
