"""A secret typed into a form that fails validation is never echoed into the page, and the
page says plainly that it must be typed again; typed again, it is saved."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from integrations.models import VendorConnection
from tests.conftest import make_connection
from tests.integrations.test_admin_connection_pages import SECRET, tcn_post
from tokens.models import AccessToken, TokenValueChange

pytestmark = pytest.mark.django_db

AGAIN = "Type the access token again before saving."


def add_url() -> str:
    return reverse("admin:integrations_vendorconnection_add") + "?vendor=tcn"


def test_a_failed_add_says_the_typed_token_must_be_typed_again_and_never_shows_it(
    client, manager_a, tenant_a
):
    client.force_login(manager_a)
    response = client.post(add_url(), tcn_post(tenant_a, interval_minutes="0"))
    assert response.status_code == 200
    html = response.content.decode()
    assert SECRET not in html
    assert AGAIN in html
    assert not VendorConnection.objects.exists()

    # As the page says: type it again with the mistake fixed, and it is saved.
    response = client.post(add_url(), tcn_post(tenant_a, interval_minutes="15"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    conn = VendorConnection.objects.get(name="tcn-main")
    assert conn.values_of("realtime")["access_token"] == SECRET


def test_a_failed_change_does_not_keep_the_typed_token_silently(client, manager_a, tenant_a):
    conn = make_connection(
        tenant_a, "tcn", "tcn-main", access_token="old-token-value-0001", drop_folder="acme"
    )
    url = reverse("admin:integrations_vendorconnection_change", args=[conn.pk])
    client.force_login(manager_a)
    data = tcn_post(tenant_a, interval_minutes="0")
    data.pop("tenant")
    response = client.post(url, data)
    html = response.content.decode()
    assert response.status_code == 200
    assert SECRET not in html and "old-token-value-0001" not in html
    assert AGAIN in html
    conn.refresh_from_db()
    assert conn.values_of("realtime")["access_token"] == "old-token-value-0001"


def test_a_form_that_fails_without_a_typed_secret_asks_for_nothing_again(client, manager_a, tenant_a):
    client.force_login(manager_a)
    response = client.post(add_url(), tcn_post(tenant_a, realtime_access_token="", interval_minutes="0"))
    assert response.status_code == 200
    assert AGAIN not in response.content.decode()


def test_a_failed_token_replacement_says_the_value_must_be_typed_again(client, manager_a, tenant_a):
    conn = make_connection(tenant_a, "tcn", "tcn-main", drop_folder="acme")
    AccessToken.objects.filter(connection=conn).delete()
    token = AccessToken.objects.create(connection=conn, issued=date(2026, 1, 10), expires=date(2027, 1, 10))
    url = reverse("admin:tokens_accesstoken_replace", args=[token.pk])
    client.force_login(manager_a)
    response = client.post(url, {"value": "brand-new-token-0777", "reason": ""})  # no reason, not confirmed
    html = response.content.decode()
    assert response.status_code == 200
    assert "brand-new-token-0777" not in html
    assert "Type the new token value again before saving." in html
    response = client.post(url, {"value": "brand-new-token-0777", "reason": "leaked", "confirm": "on"})
    assert response.status_code == 302
    assert TokenValueChange.objects.filter(token=token).count() == 1
