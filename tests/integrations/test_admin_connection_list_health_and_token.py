"""The connection list shows each connection's health and token expiry, and the connection,
its streams, its token and its runs link to each other."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from collectors.models import CollectionRun, CollectionSchedule
from tests.conftest import make_connection
from tokens.models import AccessToken

pytestmark = pytest.mark.django_db

LIST = "admin:integrations_vendorconnection_changelist"


@pytest.fixture
def tcn(tenant_a, manager_a):
    conn = make_connection(tenant_a, "tcn", "tcn-main")
    AccessToken.objects.filter(connection=conn).delete()
    token = AccessToken.objects.create(
        connection=conn,
        service_login="3rd_WFM_Acme_jdoe",
        issued=date(2026, 1, 10),
        expires=date(2027, 1, 10),
    )
    return conn, token


def page(client, user, name=LIST, *args) -> str:
    client.force_login(user)
    response = client.get(reverse(name, args=args))
    assert response.status_code == 200
    return response.content.decode()


def test_the_list_shows_a_failing_stream_and_links_to_its_health_page(client, manager_a, tenant_a):
    conn = make_connection(tenant_a, "8x8", "eight")
    CollectionSchedule.objects.filter(connection=conn).update(status="ok")
    CollectionSchedule.objects.filter(connection=conn, stream="volume").update(status="failing")
    volume = CollectionSchedule.objects.get(connection=conn, stream="volume")
    html = page(client, manager_a)
    assert "conn-health-failing" in html
    assert reverse("collectors:health-stream", args=[volume.pk]) in html


def test_a_healthy_connection_links_to_its_streams(client, manager_a, tenant_a):
    conn = make_connection(tenant_a, "8x8", "eight")
    CollectionSchedule.objects.filter(connection=conn).update(status="ok")
    html = page(client, manager_a)
    assert "conn-health-ok" in html
    assert (
        f"{reverse('admin:collectors_collectionschedule_changelist')}?connection__id__exact={conn.pk}" in html
    )


def test_the_list_shows_the_token_expiry_with_days_left_and_links_to_the_token(client, manager_a, tcn):
    _conn, token = tcn
    with time_machine.travel("2026-12-01 15:00Z", tick=False):
        html = page(client, manager_a)
    assert "2027-01-10" in html and "40 d" in html
    assert reverse("admin:tokens_accesstoken_change", args=[token.pk]) in html


def test_a_tcn_connection_without_a_token_says_its_expiry_is_unknown(client, manager_a, tenant_a):
    conn = make_connection(tenant_a, "tcn", "tcn-bare")
    AccessToken.objects.filter(connection=conn).delete()
    html = page(client, manager_a)
    assert "token expiry unknown" in html
    assert f"{reverse('admin:tokens_accesstoken_add')}?connection={conn.pk}" in html


def test_a_vendor_without_an_expiring_token_says_so(client, manager_a, tenant_a):
    make_connection(tenant_a, "8x8", "eight")
    assert "no expiring token" in page(client, manager_a)


def test_a_partner_sees_health_but_never_the_token(client, partner_a, tcn):
    conn, token = tcn
    html = page(client, partner_a)
    assert "conn-health-" in html
    assert "2027-01-10" not in html
    assert reverse("admin:tokens_accesstoken_change", args=[token.pk]) not in html
    html = page(client, partner_a, "admin:integrations_vendorconnection_change", conn.pk)
    assert "Access token" not in html and "accesstoken" not in html


def test_the_list_does_not_grow_a_query_per_connection(client, manager_a, tenant_a):
    for i in range(3):
        make_connection(tenant_a, "tcn", f"tcn-{i}")
    client.force_login(manager_a)
    client.get(reverse(LIST))  # warm the session
    with CaptureQueriesContext(connection) as few:
        client.get(reverse(LIST))
    for i in range(3, 9):
        make_connection(tenant_a, "tcn", f"tcn-{i}")
    with CaptureQueriesContext(connection) as many:
        client.get(reverse(LIST))
    assert len(many) == len(few)


def test_the_connection_page_links_to_its_streams_runs_and_token(client, manager_a, tcn):
    conn, token = tcn
    html = page(client, manager_a, "admin:integrations_vendorconnection_change", conn.pk)
    for schedule in CollectionSchedule.objects.filter(connection=conn):
        assert reverse("collectors:health-stream", args=[schedule.pk]) in html
    assert f"{reverse('admin:collectors_collectionrun_changelist')}?connection__id__exact={conn.pk}" in html
    assert reverse("admin:tokens_accesstoken_change", args=[token.pk]) in html


def test_the_token_page_links_back_to_its_connection_streams_and_runs(client, manager_a, tcn):
    conn, token = tcn
    html = page(client, manager_a, "admin:tokens_accesstoken_change", token.pk)
    assert reverse("admin:integrations_vendorconnection_change", args=[conn.pk]) in html
    assert f"{reverse('admin:collectors_collectionrun_changelist')}?connection__id__exact={conn.pk}" in html


def test_a_run_links_to_its_connection_and_its_stream(client, manager_a, tenant_a):
    conn = make_connection(tenant_a, "8x8", "eight")
    run = CollectionRun.objects.create(connection=conn, stream="volume", started_at="2026-11-30T16:00Z")
    html = page(client, manager_a, "admin:collectors_collectionrun_changelist")
    assert reverse("admin:integrations_vendorconnection_change", args=[conn.pk]) in html
    stream_list = reverse("admin:collectors_collectionschedule_changelist")
    assert f"{stream_list}?connection__id__exact={conn.pk}&amp;stream__exact=volume" in html
    html = page(client, manager_a, "admin:collectors_collectionrun_change", run.pk)
    assert reverse("admin:integrations_vendorconnection_change", args=[conn.pk]) in html


def test_a_stream_links_to_its_health_page_runs_and_connection(client, manager_a, tenant_a):
    conn = make_connection(tenant_a, "8x8", "eight")
    volume = CollectionSchedule.objects.get(connection=conn, stream="volume")
    for html in (
        page(client, manager_a, "admin:collectors_collectionschedule_changelist"),
        page(client, manager_a, "admin:collectors_collectionschedule_change", volume.pk),
    ):
        assert reverse("collectors:health-stream", args=[volume.pk]) in html
        assert f"connection__id__exact={conn.pk}&amp;stream__exact=volume" in html
        assert reverse("admin:integrations_vendorconnection_change", args=[conn.pk]) in html
