"""Times in the admin are shown in each row's tenant zone, with the zone named."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from collectors.models import CollectionRun, CollectionSchedule
from integrations.local_times import local_time
from tests.conftest import make_connection

pytestmark = pytest.mark.django_db

WINTER = datetime(2026, 11, 30, 16, 15, tzinfo=UTC)
SUMMER = datetime(2026, 7, 1, 16, 15, tzinfo=UTC)


def text(response) -> str:
    """The page's text, tags removed: a list cell holds the time and its zone in two elements."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", response.content.decode()))


def run_at(conn, started):
    return CollectionRun.objects.create(connection=conn, stream="config", started_at=started, status="ok")


def test_a_time_is_written_in_the_zone_and_names_it_on_both_sides_of_daylight_saving():
    assert local_time(WINTER, "America/Chicago") == "2026-11-30 10:15 CST (America/Chicago)"
    assert local_time(SUMMER, "America/Chicago") == "2026-07-01 11:15 CDT (America/Chicago)"
    assert local_time(SUMMER, "Europe/London") == "2026-07-01 17:15 BST (Europe/London)"
    assert local_time(WINTER, "UTC") == "2026-11-30 16:15 UTC"
    assert local_time(None, "UTC") is None


def test_the_run_list_shows_each_run_in_its_own_tenants_zone(client, superuser, tenant_a, tenant_b):
    run_at(make_connection(tenant_a, "8x8", "eight"), WINTER)
    run_at(make_connection(tenant_b, "8x8", "eight"), WINTER)
    client.force_login(superuser)
    html = text(client.get(reverse("admin:collectors_collectionrun_changelist")))
    assert "2026-11-30 10:15 CST (America/Chicago)" in html
    assert "2026-11-30 16:15 GMT (Europe/London)" in html


def test_a_manager_reads_the_connection_list_in_the_tenant_zone(client, manager_a, tenant_a, tenant_b):
    conn = make_connection(tenant_a, "8x8", "eight")
    make_connection(tenant_b, "8x8", "bolt-eight")
    type(conn).objects.filter(pk=conn.pk).update(updated=SUMMER)
    client.force_login(manager_a)
    html = text(client.get(reverse("admin:integrations_vendorconnection_changelist")))
    assert "2026-07-01 11:15 CDT (America/Chicago)" in html
    assert "Europe/London" not in html  # tenant B's row, and its zone, are not on A's list


def test_a_list_sorted_by_a_time_column_still_sorts(client, manager_a, tenant_a):
    conn = make_connection(tenant_a, "8x8", "eight")
    run_at(conn, WINTER)
    run_at(conn, SUMMER)
    client.force_login(manager_a)
    url = reverse("admin:collectors_collectionrun_changelist")
    html = text(client.get(url, {"o": "1"}))  # started_at, the first column, ascending
    assert html.index("2026-07-01 11:15 CDT") < html.index("2026-11-30 10:15 CST")


def test_a_stream_page_in_the_admin_shows_its_times_in_the_tenant_zone(client, manager_a, tenant_a):
    conn = make_connection(tenant_a, "8x8", "eight")
    CollectionSchedule.objects.filter(connection=conn, stream="config").update(last_success_at=WINTER)
    schedule = CollectionSchedule.objects.get(connection=conn, stream="config")
    client.force_login(manager_a)
    url = reverse("admin:collectors_collectionschedule_change", args=[schedule.pk])
    html = client.get(url).content.decode()
    assert "2026-11-30 10:15 CST (America/Chicago)" in html


def test_a_tenant_page_shows_when_it_was_created_in_its_zone(client, manager_b, tenant_b):
    type(tenant_b).objects.filter(pk=tenant_b.pk).update(created=SUMMER)
    client.force_login(manager_b)
    html = client.get(reverse("admin:integrations_tenant_change", args=[tenant_b.pk])).content.decode()
    assert "2026-07-01 17:15 BST (Europe/London)" in html


def test_another_tenants_row_is_still_a_404_not_a_page_in_its_zone(client, manager_a, tenant_b):
    conn_b = make_connection(tenant_b, "8x8", "eight")
    run = run_at(conn_b, WINTER)
    client.force_login(manager_a)
    for url in (
        reverse("admin:collectors_collectionrun_change", args=[run.pk]),
        reverse("admin:integrations_vendorconnection_change", args=[conn_b.pk]),
        reverse("admin:integrations_vendorconnection_history", args=[conn_b.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 404
        assert "Europe/London" not in response.content.decode()
