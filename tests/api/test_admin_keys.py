"""API keys in the admin: owners and managers create them (shown once) and revoke them;
a user sees only the keys of tenants they manage; partners see none."""

from __future__ import annotations

import re

import pytest

from api.models import ApiKey
from integrations.models import Membership
from tests.api.conftest import bearer

pytestmark = pytest.mark.django_db
ADD = "/admin/api/apikey/add/"
LIST = "/admin/api/apikey/"


def add(client, tenant, name="wfm", scopes=("data:read",)):
    return client.post(ADD, {"tenant": tenant.pk, "name": name, "scope_choices": list(scopes)})


def test_a_manager_creates_a_key_that_is_shown_once_and_works(client, manager_a, tenant_a, conn_a):
    client.force_login(manager_a)
    response = add(client, tenant_a, scopes=("data:read", "tokens:read"))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    plain = re.search(r'<code id="api-key">(sbk_[^<]+)</code>', response.content.decode()).group(1)
    key = ApiKey.objects.get()
    assert (key.tenant, key.created_by, key.scope_list) == (tenant_a, manager_a, ["data:read", "tokens:read"])
    assert client.get("/api/v1/connections/", **bearer(plain)).status_code == 200

    listing = client.get(LIST).content.decode()
    page = client.get(f"{LIST}{key.pk}/change/").content.decode()
    assert key.masked in listing
    assert plain not in listing and plain not in page


def test_a_manager_cannot_create_a_key_for_another_tenant(client, manager_a, tenant_b):
    client.force_login(manager_a)
    response = add(client, tenant_b)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_a_partner_sees_no_keys_and_cannot_create_one(client, partner_a, manager_a, tenant_a):
    ApiKey.create(tenant_a, "wfm", ["data:read"], manager_a)
    client.force_login(partner_a)
    assert client.get(LIST).status_code == 403
    assert add(client, tenant_a, name="mine").status_code == 403
    assert ApiKey.objects.count() == 1


def test_a_user_partner_in_the_tenant_is_refused_tokens_read_there(client, manager_a, tenant_a, tenant_b):
    # Manager of A, partner of B: B is not among the tenants offered, and the rule holds anyway.
    Membership.objects.create(user=manager_a, tenant=tenant_b, role=Membership.PARTNER)
    client.force_login(manager_a)
    assert add(client, tenant_b, scopes=("tokens:read",)).status_code == 200
    assert not ApiKey.objects.exists()


def test_the_changelist_shows_only_keys_of_managed_tenants_with_their_last_use(
    client, manager_a, manager_b, tenant_a, tenant_b
):
    ApiKey.create(tenant_a, "acme-sync", ["data:read"], manager_a)
    ApiKey.create(tenant_b, "bolt-sync", ["data:read"], manager_b)
    client.force_login(manager_b)
    page = client.get(LIST).content.decode()
    assert "bolt-sync" in page and "acme-sync" not in page
    assert "Last used" in page
    other = ApiKey.objects.get(name="acme-sync")
    assert client.get(f"{LIST}{other.pk}/change/").status_code == 404


def test_the_revoke_action_revokes_only_keys_in_scope(client, manager_a, manager_b, tenant_a, tenant_b):
    mine, _ = ApiKey.create(tenant_b, "bolt-sync", ["data:read"], manager_b)
    theirs, _ = ApiKey.create(tenant_a, "acme-sync", ["data:read"], manager_a)
    client.force_login(manager_b)
    client.post(LIST, {"action": "revoke_keys", "_selected_action": [mine.pk, theirs.pk]})
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked is not None
    assert theirs.revoked is None
