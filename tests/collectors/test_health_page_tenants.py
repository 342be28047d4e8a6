"""Who sees which tenant on the paginated health page, and the page and tenant parameters."""

from __future__ import annotations

import pytest
from django.test import Client

from collectors.board_pages import CONNECTIONS_PER_PAGE, TENANTS_PER_PAGE
from integrations.models import Membership
from tests.collectors.fleetkit import add_fleet, add_tenants

pytestmark = pytest.mark.django_db


def get(client: Client, user, url: str):
    client.force_login(user)
    return client.get(url)


def test_a_manager_goes_straight_to_their_tenants_board(client, manager_a, conn_a, conn_b):
    page = get(client, manager_a, "/health/").content.decode()
    assert 'data-connection="acme/tcn-main"' in page
    assert "bolt" not in page and "data-tenant=" not in page


@pytest.mark.parametrize("user", ["manager_b", "partner_a"])
def test_another_tenants_board_is_not_found(client, request, user, conn_a, conn_b):
    other = "acme" if user == "manager_b" else "bolt"
    response = get(client, request.getfixturevalue(user), f"/health/?tenant={other}")
    assert response.status_code == 404
    body = response.content.decode()
    assert "acme/tcn-main" not in body and "bolt/eight" not in body
    # The same answer as for a tenant that does not exist: nothing tells the two apart.
    unknown = get(client, request.getfixturevalue(user), "/health/?tenant=nobody").content.decode()
    assert body == unknown.replace("nobody", other)


def test_a_partner_of_one_tenant_pages_only_its_connections(client, partner_a, tenant_a, tenant_b):
    add_fleet([tenant_a, tenant_b], CONNECTIONS_PER_PAGE + 3)
    second = get(client, partner_a, "/health/?page=2").content.decode()
    assert second.count('data-stream="volume"') == 3 and "bolt/" not in second
    assert 'href="?page=1" rel="prev"' in second


def test_a_member_of_two_tenants_gets_the_overview_of_those_two_only(client, manager_a, tenant_b, conn_a):
    Membership.objects.create(user=manager_a, tenant=tenant_b, role=Membership.PARTNER)
    add_tenants(3, prefix="other")
    page = get(client, manager_a, "/health/").content.decode()
    assert 'data-tenant="acme"' in page and 'data-tenant="bolt"' in page
    assert "other0" not in page


def test_staff_page_through_tenants_keeping_the_search(client, superuser):
    add_tenants(TENANTS_PER_PAGE + 5, prefix="z")
    add_tenants(3, prefix="y")
    first = get(client, superuser, "/health/?q=Tenant+z").content.decode()
    assert first.count("<tr data-tenant=") == TENANTS_PER_PAGE and 'data-tenant="y00000"' not in first
    assert 'href="?q=Tenant+z&amp;page=2" rel="next"' in first
    second = client.get("/health/?q=Tenant+z&page=2").content.decode()
    assert second.count("<tr data-tenant=") == 5 and "tenants 51–55 of 55" in second


def test_staff_see_only_tenants_with_a_stream_down_when_asked(client, superuser):
    calm, troubled = add_tenants(2)
    add_fleet([calm], 2)
    add_fleet([troubled], 1, status="failing")
    page = get(client, superuser, "/health/?problems=1").content.decode()
    assert f'data-tenant="{troubled.slug}" data-status="failing"' in page
    assert f'data-tenant="{calm.slug}"' not in page
    everyone = client.get("/health/").content.decode()
    assert "3 streams down." in everyone and f'data-tenant="{calm.slug}" data-status="ok"' in everyone


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("page=two", 400, "page 'two' is not a whole number"),
        ("page=0", 404, "page 0 of the connections does not exist: there is 1 page"),
        ("page=9", 404, "page 9 of the connections does not exist: there is 1 page"),
    ],
)
def test_a_page_that_is_not_one_is_refused_with_the_reason(client, manager_a, conn_a, query, status, message):
    response = get(client, manager_a, f"/health/?{query}")
    assert response.status_code == status
    assert response.content.decode().strip() == message
