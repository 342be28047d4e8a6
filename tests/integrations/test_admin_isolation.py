"""Three users try each other's tenants: manager of A, manager of B, partner of A."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations.models import Membership, Tenant, VendorConnection
from tests.conftest import make_connection

pytestmark = pytest.mark.django_db


def changelist(client, user, model: str):
    client.force_login(user)
    response = client.get(reverse(f"admin:integrations_{model}_changelist"))
    assert response.status_code == 200
    return response


def test_manager_a_sees_only_tenant_a_connections(client, manager_a, conn_a, conn_b):
    response = changelist(client, manager_a, "vendorconnection")
    assert list(response.context["cl"].result_list) == [conn_a]
    # Not even in the filters.
    assert "Bolt Care" not in response.content.decode()


def test_manager_b_sees_only_tenant_b_connections(client, manager_b, conn_a, conn_b):
    response = changelist(client, manager_b, "vendorconnection")
    assert list(response.context["cl"].result_list) == [conn_b]
    assert "Acme Support" not in response.content.decode()


def test_partner_a_sees_tenant_a_connections_only(client, partner_a, conn_a, conn_b):
    response = changelist(client, partner_a, "vendorconnection")
    assert list(response.context["cl"].result_list) == [conn_a]


def test_tenant_changelist_is_scoped(client, manager_a, manager_b, tenant_a, tenant_b):
    assert list(changelist(client, manager_a, "tenant").context["cl"].result_list) == [tenant_a]
    assert list(changelist(client, manager_b, "tenant").context["cl"].result_list) == [tenant_b]


def test_membership_changelist_is_scoped(client, manager_a, manager_b, partner_a):
    rows = changelist(client, manager_b, "membership").context["cl"].result_list
    assert {m.user.username for m in rows} == {"manager_b"}
    rows = changelist(client, manager_a, "membership").context["cl"].result_list
    assert {m.user.username for m in rows} == {"manager_a", "partner_a"}


def test_superuser_sees_every_tenant(client, superuser, conn_a, conn_b):
    response = changelist(client, superuser, "vendorconnection")
    assert set(response.context["cl"].result_list) == {conn_a, conn_b}


@pytest.mark.parametrize("user", ["manager_a", "partner_a"])
def test_change_page_of_another_tenants_connection_is_404(client, request, user, conn_b):
    client.force_login(request.getfixturevalue(user))
    url = reverse("admin:integrations_vendorconnection_change", args=[conn_b.pk])
    assert client.get(url).status_code == 404
    # A partner may change nothing anywhere, so Django refuses before looking the row up.
    assert client.post(url, {"name": "stolen"}).status_code == (403 if user == "partner_a" else 404)
    conn_b.refresh_from_db()
    assert conn_b.name == "eight"


def test_change_page_of_another_tenant_is_404(client, manager_b, tenant_a):
    client.force_login(manager_b)
    assert client.get(reverse("admin:integrations_tenant_change", args=[tenant_a.pk])).status_code == 404
    assert client.get(reverse("admin:integrations_tenant_history", args=[tenant_a.pk])).status_code == 404


def test_another_tenants_membership_is_404(client, manager_b, partner_a):
    membership = Membership.objects.get(user=partner_a)
    client.force_login(manager_b)
    url = reverse("admin:integrations_membership_change", args=[membership.pk])
    assert client.get(url).status_code == 404
    url = reverse("admin:integrations_membership_delete", args=[membership.pk])
    assert client.post(url, {"post": "yes"}).status_code == 404
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_delete_of_another_tenants_connection_is_404(client, manager_a, conn_b):
    client.force_login(manager_a)
    url = reverse("admin:integrations_vendorconnection_delete", args=[conn_b.pk])
    assert client.post(url, {"post": "yes"}).status_code == 404
    assert VendorConnection.objects.filter(pk=conn_b.pk).exists()


def test_bulk_delete_action_ignores_ids_of_other_tenants(client, manager_a, conn_a, conn_b):
    client.force_login(manager_a)
    url = reverse("admin:integrations_vendorconnection_changelist")
    client.post(
        url,
        {
            "action": "delete_selected",
            "_selected_action": [conn_a.pk, conn_b.pk],
            "post": "yes",
            # The count of rows in the user's scope: conn_b's id is not among them.
            "confirm_count": "1",
        },
    )
    assert not VendorConnection.objects.filter(pk=conn_a.pk).exists()
    assert VendorConnection.objects.filter(pk=conn_b.pk).exists()


def test_disable_action_only_touches_scoped_rows(client, manager_a, conn_a, conn_b):
    client.force_login(manager_a)
    url = reverse("admin:integrations_vendorconnection_changelist")
    client.post(url, {"action": "disable", "_selected_action": [conn_a.pk, conn_b.pk]})
    conn_a.refresh_from_db()
    conn_b.refresh_from_db()
    assert conn_a.enabled is False
    assert conn_b.enabled is True


def test_write_actions_skip_tenants_the_user_only_partners_in(client, manager_a, tenant_b, conn_a, conn_b):
    # manager_a is also a partner of B: B's rows are visible but not theirs to change.
    Membership.objects.create(user=manager_a, tenant=tenant_b, role=Membership.PARTNER)
    client.force_login(manager_a)
    url = reverse("admin:integrations_vendorconnection_changelist")
    client.post(url, {"action": "disable", "_selected_action": [conn_a.pk, conn_b.pk]})
    conn_b.refresh_from_db()
    assert conn_b.enabled is True
    change = reverse("admin:integrations_vendorconnection_change", args=[conn_b.pk])
    page = client.get(change)
    assert page.status_code == 200
    assert b'name="realtime_access_token"' not in page.content  # view only, no credentials


def test_autocomplete_of_tenants_returns_only_own_tenants(client, manager_a, manager_b, tenant_a, tenant_b):
    url = reverse("admin:autocomplete")
    params = {
        "app_label": "integrations",
        "model_name": "vendorconnection",
        "field_name": "tenant",
        "term": "",
    }
    client.force_login(manager_a)
    ids = {r["id"] for r in client.get(url, params).json()["results"]}
    assert ids == {str(tenant_a.pk)}
    client.force_login(manager_b)
    params = {**params, "model_name": "membership", "term": "a"}
    ids = {r["id"] for r in client.get(url, params).json()["results"]}
    assert ids == {str(tenant_b.pk)}


def test_tenant_choices_on_the_connection_form_are_scoped(client, manager_a, tenant_a, tenant_b):
    client.force_login(manager_a)
    response = client.get(reverse("admin:integrations_vendorconnection_add") + "?vendor=tcn")
    field = response.context["adminform"].form.fields["tenant"]
    assert list(field.queryset) == [tenant_a]


def test_a_manager_cannot_create_a_connection_in_another_tenant(client, manager_a, tenant_b):
    client.force_login(manager_a)
    url = reverse("admin:integrations_vendorconnection_add") + "?vendor=8x8"
    response = client.post(
        url,
        {
            "tenant": tenant_b.pk,
            "name": "sneaky",
            "enabled": "on",
            "realtime_base_url": "https://vcc-na10b.8x8.com/api/",
            "interval_seconds": 10,
            "time_zone": "UTC",
            "realtime_tenant": "x",
            "realtime_token": "t" * 20,
            "options": "{}",
            "state_map": "{}",
        },
    )
    assert response.status_code == 200
    assert "tenant" in response.context["adminform"].form.errors
    assert not VendorConnection.objects.filter(name="sneaky").exists()


def test_membership_user_choices_do_not_list_users_of_other_tenants(client, manager_a, manager_b, partner_a):
    client.force_login(manager_a)
    response = client.get(reverse("admin:integrations_membership_add"))
    users = {u.username for u in response.context["adminform"].form.fields["user"].queryset}
    assert users == {"manager_a", "partner_a"}


def test_a_manager_who_adds_a_tenant_becomes_its_manager(client, manager_a):
    client.force_login(manager_a)
    response = client.post(
        reverse("admin:integrations_tenant_add"),
        {
            "name": "Cobalt",
            "slug": "cobalt",
            "time_zone": "UTC",
            "active": "on",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    tenant = Tenant.objects.get(slug="cobalt")
    assert Membership.objects.get(tenant=tenant).user == manager_a


def test_partner_may_not_add_tenants_and_nobody_but_superusers_deletes_them(
    client, partner_a, manager_a, tenant_a
):
    client.force_login(partner_a)
    assert client.get(reverse("admin:integrations_tenant_add")).status_code == 403
    client.force_login(manager_a)
    assert (
        client.post(
            reverse("admin:integrations_tenant_delete", args=[tenant_a.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert Tenant.objects.filter(pk=tenant_a.pk).exists()


def test_other_tenants_connections_are_invisible_after_make_connection(client, manager_b, tenant_a):
    make_connection(tenant_a, "thrio", "thrio-a")
    response = changelist(client, manager_b, "vendorconnection")
    assert list(response.context["cl"].result_list) == []


def test_the_member_inline_offers_only_users_of_managed_tenants(
    client, manager_a, manager_b, partner_a, tenant_a
):
    client.force_login(manager_a)
    response = client.get(reverse("admin:integrations_tenant_change", args=[tenant_a.pk]))
    formset = response.context["inline_admin_formsets"][0].formset
    users = {u.username for u in formset.empty_form.fields["user"].queryset}
    assert users == {"manager_a", "partner_a"}


def test_the_member_inline_is_read_only_where_the_user_is_only_a_partner(
    client, manager_a, manager_b, tenant_b
):
    Membership.objects.create(user=manager_a, tenant=tenant_b, role=Membership.PARTNER)
    client.force_login(manager_a)
    url = reverse("admin:integrations_tenant_change", args=[tenant_b.pk])
    response = client.get(url)
    assert response.status_code == 200
    inline = response.context["inline_admin_formsets"][0]
    assert not inline.has_add_permission and not inline.has_change_permission
    assert client.post(url, {"name": "Taken over", "slug": "bolt", "time_zone": "UTC"}).status_code == 403
    tenant_b.refresh_from_db()
    assert tenant_b.name == "Bolt Care"
