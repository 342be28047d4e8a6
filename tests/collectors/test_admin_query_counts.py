"""No changelist does a query per row: 3 rows and 30 rows cost the same number of queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import make_connection
from tests.integrations.admin_fixtures import COLLECTOR_PAGES, fill

pytestmark = pytest.mark.django_db

PAGES = [f"collectors_{p}" for p in COLLECTOR_PAGES] + [
    "integrations_tenant",
    "integrations_membership",
    "integrations_vendorconnection",
]


def same_dates() -> None:
    """Put every date shown in a date hierarchy on one instant: the hierarchy's own queries
    depend on how far the dates spread, not on the number of rows."""
    from django.contrib import admin

    from tests.integrations.admin_fixtures import T0

    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label == "collectors" and getattr(model_admin, "date_hierarchy", None):
            model.objects.update(**{model_admin.date_hierarchy: T0})


def queries_for(client, page: str) -> int:
    url = reverse(f"admin:{page}_changelist")
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def grow(tenant, n: int, start: int) -> None:
    from django.contrib.auth import get_user_model

    from integrations.models import Membership, Tenant

    for i in range(start, start + n):
        user = get_user_model().objects.create_user(f"member{i}", f"member{i}@example.com", is_staff=True)
        Membership.objects.create(user=user, tenant=tenant, role=Membership.PARTNER)
        other = Tenant.objects.create(name=f"Tenant {i}", slug=f"tenant-{i}")
        Membership.objects.create(user=user, tenant=other, role=Membership.PARTNER)
        make_connection(tenant, "8x8", f"conn-{i}")


@pytest.mark.parametrize("user", ["superuser", "manager_a"])
def test_changelists_do_not_grow_with_the_rows(client, request, tenant_a, user, conn_a):
    client.force_login(request.getfixturevalue(user))
    if user == "superuser":
        # Superusers see every tenant; make those rows theirs to count.
        from integrations.models import Membership

        Membership.objects.create(user=request.getfixturevalue(user), tenant=tenant_a, role="manager")
    fill(conn_a, 3, "few")
    grow(tenant_a, 3, 0)
    same_dates()
    few = {page: queries_for(client, page) for page in PAGES}
    fill(make_connection(tenant_a, "8x8", "many"), 30, "many")
    grow(tenant_a, 27, 3)
    same_dates()
    many = {page: queries_for(client, page) for page in PAGES}
    assert many == few


def test_changelists_really_list_the_rows_counted(client, manager_a, conn_a):
    fill(conn_a, 30, "many")
    client.force_login(manager_a)
    response = client.get(reverse("admin:collectors_agentstateevent_changelist"))
    assert response.context["cl"].result_count == 30
