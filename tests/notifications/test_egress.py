"""Deliveries go through the egress policy: loopback and private addresses only when allow-listed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from notifications import events
from notifications.models import STREAM_DOWN, Delivery, Endpoint
from notifications.webhooks import send_due, send_test
from tests.conftest import PASSWORD
from tests.notifications.conftest import make_endpoint

DATA = {"stream": "volume", "old_status": "ok", "new_status": "late", "reason": "late"}


def test_nothing_reaches_a_loopback_address_without_the_allow_list(hooks, tenant_a, conn_a, settings):
    endpoint = make_endpoint(tenant_a, hooks.url("/secret-path-0123"))
    settings.VENDOR_EGRESS_ALLOW = []
    events.publish(tenant_a, STREAM_DOWN, DATA, conn_a, key="flip:1")
    assert send_due() == {"failed": 1}
    assert hooks.received == []
    delivery = Delivery.objects.get()
    assert delivery.attempts == 1 and delivery.last_status is None
    assert delivery.last_error.startswith(
        "refused by the egress policy: 127.0.0.1 is an address the egress policy refuses (loopback)"
    )
    assert "secret-path" not in delivery.last_error
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 1

    assert send_test(endpoint)[1].status == "failed" and hooks.received == []
    settings.VENDOR_EGRESS_ALLOW = ["127.0.0.1/32"]
    assert send_test(endpoint)[1].status == "sent" and len(hooks.received) == 1


def test_a_name_that_resolves_to_a_private_address_is_refused_when_sending(
    hooks, tenant_a, conn_a, fake_dns, settings
):
    fake_dns.names["hooks.intranet.example"] = ["10.1.2.3"]
    make_endpoint(tenant_a, "https://hooks.intranet.example/x")
    events.publish(tenant_a, STREAM_DOWN, DATA, conn_a, key="flip:1")
    assert send_due() == {"failed": 1}
    error = Delivery.objects.get().last_error
    assert "hooks.intranet.example resolves to an address the egress policy refuses (private)" in error
    assert "10.1.2.3" not in error


@pytest.mark.parametrize(
    "url,why",
    [
        ("http://169.254.169.254/latest/meta-data/", "(link-local)"),
        ("http://127.0.0.1:8000/admin/", "(loopback)"),
        ("https://intranet.example/hook", "resolves to an address the egress policy refuses (private)"),
        ("https://user:pw@hooks.example/hook", "credentials in the URL (user:password@) are refused"),
    ],
)
def test_the_admin_refuses_an_inward_url_at_save_time(client, manager_a, tenant_a, fake_dns, url, why):
    fake_dns.names["intranet.example"] = ["192.168.1.10"]
    assert client.login(username=manager_a.username, password=PASSWORD)
    data = {"tenant": tenant_a.pk, "name": "inward", "kind": "slack", "url": url, "events": ["stream.down"]}
    response = client.post(reverse("admin:notifications_endpoint_add"), data)
    assert response.status_code == 200 and why in response.content.decode()
    assert not Endpoint.objects.exists()


def test_a_name_not_resolving_yet_is_accepted_at_save_time(client, manager_a, tenant_a):
    assert client.login(username=manager_a.username, password=PASSWORD)
    data = {"tenant": tenant_a.pk, "name": "later", "kind": "slack", "events": ["stream.down"]}
    data["url"] = "https://hooks.slack.com/services/T0/B0/xyz"
    assert client.post(reverse("admin:notifications_endpoint_add"), data).status_code == 302
    assert Endpoint.objects.get().url_hint == "https://hooks.slack.com/…"
