"""Endpoint admin: owners and managers of the tenant only; URLs and secrets never shown."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from notifications import events
from notifications.models import STREAM_DOWN, Delivery, Endpoint
from tests.conftest import PASSWORD
from tests.notifications.conftest import SECRET, make_endpoint

SECRET_PATH = "/services/T0001/B0001/abcdefSECRETxyz"


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


@pytest.fixture
def world(hooks, tenant_a, tenant_b, conn_a, conn_b):
    a = make_endpoint(tenant_a, hooks.url(SECRET_PATH), name="ops-a")
    b = make_endpoint(tenant_b, hooks.url(SECRET_PATH), name="ops-b")
    data = {"stream": "volume", "old_status": "ok", "new_status": "late", "reason": "late"}
    events.publish(tenant_a, STREAM_DOWN, data, conn_a, key="flip:1")
    events.publish(tenant_b, STREAM_DOWN, data, conn_b, key="flip:2")
    return {"a": a, "b": b, "da": a.deliveries.get(), "db": b.deliveries.get()}


def pages(world, side: str) -> list[tuple[str, str]]:
    """(method, url) of every page about one tenant's endpoint and delivery."""
    endpoint, delivery = world[side], world[f"d{side}"]
    return [
        ("get", reverse("admin:notifications_endpoint_change", args=[endpoint.pk])),
        ("post", reverse("admin:notifications_endpoint_change", args=[endpoint.pk])),
        ("post", reverse("admin:notifications_endpoint_send_test", args=[endpoint.pk])),
        ("get", reverse("admin:notifications_endpoint_delete", args=[endpoint.pk])),
        ("get", reverse("admin:notifications_delivery_change", args=[delivery.pk])),
    ]


@pytest.mark.parametrize("viewer,other", [("manager_a", "b"), ("manager_b", "a")])
def test_a_manager_gets_404_for_every_page_of_the_other_tenant(client, world, hooks, viewer, other, request):
    login(client, request.getfixturevalue(viewer))
    for method, url in pages(world, other):
        response = getattr(client, method)(url, {"name": "stolen", "enabled": "on"})
        assert response.status_code == 404, (method, url)
    assert hooks.received == []  # no test event went out on the other tenant's behalf
    assert Endpoint.objects.filter(name="stolen").count() == 0


@pytest.mark.parametrize(
    "viewer,mine,theirs", [("manager_a", "ops-a", "ops-b"), ("manager_b", "ops-b", "ops-a")]
)
def test_changelists_list_only_the_own_tenants_rows(client, world, viewer, mine, theirs, request):
    login(client, request.getfixturevalue(viewer))
    page = client.get(reverse("admin:notifications_endpoint_changelist")).content.decode()
    assert mine in page and theirs not in page
    page = client.get(reverse("admin:notifications_delivery_changelist")).content.decode()
    assert mine in page and theirs not in page


def test_a_partner_sees_no_endpoint_page_at_all(client, world, partner_a, hooks):
    login(client, partner_a)
    for method, url in pages(world, "a"):
        assert getattr(client, method)(url).status_code in (403, 404), url
    for name in ("endpoint_changelist", "endpoint_add", "delivery_changelist"):
        assert client.get(reverse(f"admin:notifications_{name}")).status_code == 403
    index = client.get(reverse("admin:index")).content.decode()
    assert "Notification endpoints" not in index
    assert hooks.received == []


def test_a_manager_cannot_create_an_endpoint_in_the_other_tenant(client, world, manager_a, tenant_b):
    login(client, manager_a)
    response = client.post(
        reverse("admin:notifications_endpoint_add"),
        {"tenant": tenant_b.pk, "name": "sneaky", "kind": "slack", "url": "https://hooks.example/x"}
        | {"events": ["stream.down"], "enabled": "on"},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Endpoint.objects.filter(name="sneaky").exists()


def test_url_and_secret_are_stored_encrypted_and_never_shown(client, world, manager_a, tenant_a):
    login(client, manager_a)
    url = "https://hooks.example" + SECRET_PATH
    response = client.post(
        reverse("admin:notifications_endpoint_add"),
        {"tenant": tenant_a.pk, "name": "new-hook", "kind": "webhook", "url": url, "secret": SECRET}
        | {"events": ["stream.down", "token.expired"], "enabled": "on"},
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    endpoint = Endpoint.objects.get(name="new-hook")
    assert (endpoint.url, endpoint.secret, endpoint.url_hint) == (url, SECRET, "https://hooks.example/…")
    assert endpoint.events == ["stream.down", "token.expired"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT secrets FROM notifications_endpoint WHERE id = %s", [endpoint.pk])
        raw = cursor.fetchone()[0]
    assert "hooks.example" not in raw and SECRET not in raw

    for page_url in (
        reverse("admin:notifications_endpoint_change", args=[endpoint.pk]),
        reverse("admin:notifications_endpoint_changelist"),
        reverse("admin:notifications_delivery_changelist"),
    ):
        html = client.get(page_url).content.decode()
        assert "SECRETxyz" not in html and SECRET not in html, page_url
        assert "hooks.example/…" in html or page_url.endswith("delivery/")

    # Saving with both fields blank keeps what is stored.
    response = client.post(
        reverse("admin:notifications_endpoint_change", args=[endpoint.pk]),
        {"name": "new-hook", "kind": "webhook", "url": "", "secret": "", "events": ["stream.down"]},
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.secret, endpoint.enabled) == (url, SECRET, False)


@pytest.mark.parametrize(
    "fields,error",
    [
        ({"kind": "webhook", "url": "https://hooks.example/x"}, "A webhook needs a signing secret."),
        ({"kind": "webhook", "url": "https://hooks.example/x", "secret": "short"}, "at least 24 characters"),
        ({"kind": "slack", "url": "ftp://hooks.example/x"}, "Enter an http:// or https:// URL."),
        ({"kind": "slack"}, "Enter the endpoint&#x27;s URL."),
    ],
)
def test_a_bad_endpoint_is_refused_with_a_reason(client, manager_a, tenant_a, fields, error):
    login(client, manager_a)
    data = {"tenant": tenant_a.pk, "name": "bad", "events": ["stream.down"], **fields}
    response = client.post(reverse("admin:notifications_endpoint_add"), data)
    assert response.status_code == 200 and error in response.content.decode()
    assert not Endpoint.objects.filter(name="bad").exists()


def test_the_send_test_button_delivers_and_says_so(client, world, manager_a, hooks):
    login(client, manager_a)
    endpoint = world["a"]
    change = reverse("admin:notifications_endpoint_change", args=[endpoint.pk])
    assert 'id="send-test-event"' in client.get(change).content.decode()
    send_test = reverse("admin:notifications_endpoint_send_test", args=[endpoint.pk])
    response = client.post(send_test, follow=True)
    assert "Test event to acme/ops-a: sent (HTTP 200)" in response.content.decode()
    (req,) = hooks.received
    assert req.json()["type"] == "test" and req.json()["data"]["endpoint"] == "ops-a"
    assert Delivery.objects.get(kind="test").status == "sent"
    assert client.get(send_test).status_code == 405


def test_the_changelist_shows_each_endpoints_last_delivery(client, world, manager_a):
    Delivery.objects.filter(pk=world["da"].pk).update(attempts=2, last_status=503)
    login(client, manager_a)
    page = client.get(reverse("admin:notifications_endpoint_changelist")).content.decode()
    assert "retrying, HTTP 503" in page
