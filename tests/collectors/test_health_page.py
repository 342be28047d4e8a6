"""The admin health page and each stream's page: scope, content, actions, query count."""

from __future__ import annotations

from datetime import date
from datetime import timedelta as td

import pytest
import time_machine
from django.db import connection as db
from django.test import Client
from django.test.utils import CaptureQueriesContext

from collectors.models import CollectionRun, CollectionSchedule, HealthFlip
from tests.collectors.healthkit import T0, make_run, make_schedule, record
from tests.conftest import PASSWORD, make_connection
from tokens.models import AccessToken

pytestmark = pytest.mark.django_db


def login(client: Client, user) -> Client:
    client.force_login(user)
    return client


@pytest.fixture
def failing(conn_a):
    sched = make_schedule(conn_a, "agent_states")
    for i in range(3):
        record(
            sched, "failed", T0 + td(minutes=i), error="TransientError: 500 token=tcn-token-0123456789abcdef"
        )
    CollectionSchedule.objects.filter(pk=sched.pk).update(status="failing", status_since=T0)
    sched.refresh_from_db()
    return sched


def test_anonymous_users_are_sent_to_the_login(client):
    response = client.get("/health/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@time_machine.travel(T0 + td(minutes=5), tick=False)
def test_the_grid_shows_only_the_users_tenants(client, manager_a, failing, conn_b):
    page = login(client, manager_a).get("/health/").content.decode()
    assert 'data-connection="acme/tcn-main"' in page and "bolt/eight" not in page
    assert 'data-stream="agent_states" data-status="failing"' in page
    assert "tcn-token-0123456789abcdef" not in page
    assert "TransientError: 500 token=[redacted]" in page
    assert "<svg" in page and "hb-slot-failed" in page


@time_machine.travel(T0 + td(minutes=5), tick=False)
def test_a_token_close_to_expiry_shows_a_warning_beside_the_status(client, manager_a, conn_a, failing):
    AccessToken.objects.create(
        connection=conn_a, section="realtime", issued=date(2025, 3, 12), expires=date(2026, 3, 12)
    )
    page = login(client, manager_a).get("/health/").content.decode()
    assert "token expires in 10 days (2026-03-12)" in page


def test_a_superuser_sees_every_tenant_and_opens_each(client, superuser, conn_a, conn_b):
    login(client, superuser)
    overview = client.get("/health/").content.decode()
    assert 'data-tenant="acme"' in overview and 'data-tenant="bolt"' in overview
    assert 'href="?tenant=acme"' in overview
    assert 'data-connection="acme/tcn-main"' in client.get("/health/?tenant=acme").content.decode()
    assert 'data-connection="bolt/eight"' in client.get("/health/?tenant=bolt").content.decode()


def test_the_page_costs_the_same_queries_for_2_or_20_connections(client, manager_a, tenant_a):
    def count() -> int:
        with CaptureQueriesContext(db) as ctx:
            assert client.get("/health/").status_code == 200
        return len(ctx.captured_queries)

    login(client, manager_a)
    conns = [make_connection(tenant_a, "8x8", f"c{i}") for i in range(2)]
    for conn in conns:
        make_run(conn, "volume", CollectionRun.OK, T0, window=(T0 - td(hours=1), T0), rows=3)
    few = count()
    for i in range(2, 20):
        conn = make_connection(tenant_a, "nextiva", f"c{i}")
        make_run(conn, "agent_states", CollectionRun.FAILED, T0)
    assert count() == few


def test_another_tenants_stream_page_is_not_found(client, manager_b, failing):
    assert login(client, manager_b).get(f"/health/{failing.pk}/").status_code == 404


def test_the_stream_page_shows_runs_windows_errors_and_flips(client, manager_a, failing, conn_a):
    make_run(
        conn_a,
        "agent_states",
        CollectionRun.OK,
        T0 - td(hours=1),
        window=(T0 - td(hours=2), T0 - td(hours=1)),
    )
    HealthFlip.objects.create(
        connection=conn_a,
        stream="agent_states",
        old_status="ok",
        new_status="failing",
        reason="3 consecutive failures",
        created=T0,
    )
    page = login(client, manager_a).get(f"/health/{failing.pk}/").content.decode()
    assert "3 consecutive failures" in page
    assert "03-02 04:00 – 03-02 05:00" in page  # 10:00 to 11:00 UTC in the tenant's zone (CST)
    assert "token=[redacted]" in page and "tcn-token-0123456789abcdef" not in page
    for label in ("Test connection", "Collect now", "Pause"):
        assert f'value="{label}"' in page


def test_a_partner_sees_the_stream_but_no_buttons_and_may_not_act(client, partner_a, failing):
    login(client, partner_a)
    page = client.get(f"/health/{failing.pk}/").content.decode()
    assert 'value="Pause"' not in page and 'value="Collect now"' not in page
    assert client.post(f"/health/{failing.pk}/pause/").status_code == 403
    failing.refresh_from_db()
    assert failing.enabled


def test_a_manager_pauses_and_resumes_with_a_flip_each(client, manager_a, failing):
    login(client, manager_a)
    assert client.post(f"/health/{failing.pk}/pause/").status_code == 302
    failing.refresh_from_db()
    assert (failing.enabled, failing.status, failing.status_reason) == (
        False,
        "paused",
        "paused by manager_a",
    )
    page = client.get(f"/health/{failing.pk}/").content.decode()
    assert 'value="Resume"' in page
    client.post(f"/health/{failing.pk}/resume/")
    failing.refresh_from_db()
    assert (failing.enabled, failing.status) == (True, "new")
    assert list(HealthFlip.objects.order_by("created").values_list("new_status", flat=True)) == [
        "paused",
        "new",
    ]


def test_actions_need_post_and_a_csrf_token(manager_a, failing):
    client = Client(enforce_csrf_checks=True)
    client.login(username="manager_a", password=PASSWORD)
    assert client.get(f"/health/{failing.pk}/pause/").status_code == 405
    assert client.post(f"/health/{failing.pk}/pause/").status_code == 403
    failing.refresh_from_db()
    assert failing.enabled


@time_machine.travel(T0 + td(minutes=5), tick=False)
def test_collect_now_makes_the_stream_due(client, manager_a, failing):
    CollectionSchedule.objects.filter(pk=failing.pk).update(next_run_at=T0 + td(hours=1))
    login(client, manager_a).post(f"/health/{failing.pk}/collect/")
    failing.refresh_from_db()
    assert failing.next_run_at == T0 + td(minutes=5)


def test_the_admin_index_links_to_the_health_page_with_the_down_count(client, manager_a, failing):
    page = login(client, manager_a).get("/admin/").content.decode()
    assert 'href="/health/"' in page
    assert "1 of 3 streams down" in page
