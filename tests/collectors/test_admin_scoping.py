"""Collected data, schedules and runs: each user sees only the rows of their own tenants."""

from __future__ import annotations

import pytest
from django.urls import reverse

from collectors import models as m
from tests.integrations.admin_fixtures import COLLECTOR_PAGES, fill

pytestmark = pytest.mark.django_db

MODELS = {
    name: getattr(m, cls)
    for name, cls in (
        ("queue", "Queue"),
        ("agent", "Agent"),
        ("agentqueue", "AgentQueue"),
        ("intervalvolume", "IntervalVolume"),
        ("agentstateevent", "AgentStateEvent"),
        ("agentcurrentstate", "AgentCurrentState"),
        ("collectionschedule", "CollectionSchedule"),
        ("cursor", "Cursor"),
        ("collectionrun", "CollectionRun"),
        ("dropfile", "DropFile"),
    )
}


def tenant_of(obj):
    conn = obj.agent.connection if isinstance(obj, m.AgentQueue) else obj.connection
    return conn.tenant


@pytest.fixture
def data(conn_a, conn_b):
    fill(conn_a, 3, "alpha")
    fill(conn_b, 3, "bravo")


@pytest.mark.parametrize("user", ["manager_a", "partner_a", "manager_b"])
def test_each_changelist_shows_only_own_tenants_rows(client, request, data, user):
    user = request.getfixturevalue(user)
    own = "acme" if user.username.endswith("_a") else "bolt"
    other_name = "Bolt Care" if own == "acme" else "Acme Support"
    client.force_login(user)
    for page in COLLECTOR_PAGES:
        response = client.get(reverse(f"admin:collectors_{page}_changelist"))
        assert response.status_code == 200, page
        rows = list(response.context["cl"].result_list)
        assert rows, f"{page}: the user's own rows are listed"
        assert {tenant_of(r).slug for r in rows} == {own}, page
        # The filters list only what the user may see, too.
        assert other_name not in response.content.decode(), page


def test_the_view_page_of_another_tenants_row_is_404(client, manager_a, data):
    client.force_login(manager_a)
    for page in COLLECTOR_PAGES:
        other = next(o for o in MODELS[page].objects.all() if tenant_of(o).slug == "bolt")
        response = client.get(reverse(f"admin:collectors_{page}_change", args=[other.pk]))
        assert response.status_code == 404, page


def test_own_rows_are_view_only_for_everybody(client, manager_a, data):
    client.force_login(manager_a)
    for page in COLLECTOR_PAGES:
        own = next(o for o in MODELS[page].objects.all() if tenant_of(o).slug == "acme")
        url = reverse(f"admin:collectors_{page}_change", args=[own.pk])
        response = client.get(url)
        assert response.status_code == 200, page
        assert response.context["has_change_permission"] is False, page
        assert client.post(url, {}).status_code == 403, page
        assert client.get(reverse(f"admin:collectors_{page}_add")).status_code == 403, page


def test_a_partner_may_not_delete_collected_rows(client, partner_a, data):
    run = m.CollectionRun.objects.filter(connection__tenant__slug="acme").first()
    client.force_login(partner_a)
    response = client.post(reverse("admin:collectors_collectionrun_delete", args=[run.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert m.CollectionRun.objects.filter(pk=run.pk).exists()


def test_searching_does_not_reach_other_tenants(client, manager_a, data):
    client.force_login(manager_a)
    response = client.get(reverse("admin:collectors_agent_changelist"), {"q": "bravo"})
    assert list(response.context["cl"].result_list) == []


def test_date_hierarchy_drilldown_stays_scoped(client, manager_b, data):
    client.force_login(manager_b)
    response = client.get(
        reverse("admin:collectors_intervalvolume_changelist"),
        {"interval_start__year": "2026", "interval_start__month": "3"},
    )
    rows = list(response.context["cl"].result_list)
    assert len(rows) == 3
    assert {r.connection.tenant.slug for r in rows} == {"bolt"}
