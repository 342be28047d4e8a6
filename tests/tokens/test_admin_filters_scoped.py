"""Changelist filters of tokens and subscribers list only the viewer's own tenants."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from integrations.models import Membership, Tenant
from notifications.models import Subscriber, SubscriptionList
from tests.conftest import make_connection
from tokens.models import AccessToken


@pytest.fixture
def rows_of_both_tenants(conn_a, conn_b, manager_a):
    # A second tenant of manager_a's, so the filter has a choice to offer and is shown.
    east = Tenant.objects.create(name="Acme East", slug="acme-east")
    Membership.objects.create(user=manager_a, tenant=east, role=Membership.MANAGER)
    for conn in (conn_a, conn_b, make_connection(east, "tcn", "east")):
        AccessToken.objects.create(connection=conn, issued=date(2026, 1, 15), expires=date(2027, 1, 15))
        lst = SubscriptionList.objects.create(tenant=conn.tenant, name=f"ops-{conn.tenant.slug}")
        Subscriber.objects.create(list=lst, email=f"lead@{conn.tenant.slug}.example")


@pytest.mark.parametrize("page", ["tokens_accesstoken", "notifications_subscriber"])
def test_a_managers_changelist_filters_never_name_another_tenant(
    client, manager_a, rows_of_both_tenants, page
):
    client.force_login(manager_a)
    response = client.get(reverse(f"admin:{page}_changelist"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Acme Support" in html and "Acme East" in html  # the viewer's own tenants
    assert "Bolt Care" not in html


def test_a_superuser_still_filters_by_every_tenant(client, superuser, rows_of_both_tenants):
    client.force_login(superuser)
    html = client.get(reverse("admin:tokens_accesstoken_changelist")).content.decode()
    assert "Acme Support" in html and "Bolt Care" in html
