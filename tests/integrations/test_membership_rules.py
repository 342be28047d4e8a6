"""A tenant keeps its last account owner and someone to manage it, on every path.

The admin change form, the tenant page's inline, the delete page, the bulk action (also
across pages) and the queryset itself all refuse; bulk deletes ask for the count first.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from integrations.models import Membership, Tenant, VendorConnection
from tests.conftest import make_connection, make_user

pytestmark = pytest.mark.django_db


def membership(user, tenant) -> Membership:
    return Membership.objects.get(user=user, tenant=tenant)


def change_role(client, m: Membership, role: str):
    return client.post(
        reverse("admin:integrations_membership_change", args=[m.pk]),
        {"user": m.user_id, "tenant": m.tenant_id, "role": role},
    )


def bulk_delete(client, model: str, pks: list[int], **extra: str):
    return client.post(
        reverse(f"admin:integrations_{model}_changelist"),
        {"action": "delete_selected", "_selected_action": pks, "index": "0", **extra},
    )


def test_a_manager_cannot_delete_the_tenants_last_owner(client, manager_a, owner_a, tenant_a):
    client.force_login(manager_a)
    m = membership(owner_a, tenant_a)
    url = reverse("admin:integrations_membership_delete", args=[m.pk])
    page = client.get(url)
    assert "no account owner left" in page.content.decode()
    response = client.post(url, {"post": "yes"})
    assert response.status_code == 200
    assert Membership.objects.filter(pk=m.pk).exists()


def test_a_manager_cannot_demote_the_tenants_last_owner(client, manager_a, owner_a, tenant_a):
    client.force_login(manager_a)
    m = membership(owner_a, tenant_a)
    response = change_role(client, m, Membership.PARTNER)
    assert response.status_code == 200
    assert "no account owner left" in str(response.context["adminform"].form.errors["role"])
    assert membership(owner_a, tenant_a).role == Membership.OWNER


def test_an_owner_may_be_demoted_while_another_owner_remains(client, manager_a, owner_a, tenant_a):
    second = make_user("owner_two")
    Membership.objects.create(user=second, tenant=tenant_a, role=Membership.OWNER)
    client.force_login(manager_a)
    assert change_role(client, membership(owner_a, tenant_a), Membership.MANAGER).status_code == 302
    assert membership(owner_a, tenant_a).role == Membership.MANAGER


def test_a_manager_cannot_demote_themselves_into_a_tenant_with_no_manager(
    client, manager_a, partner_a, tenant_a
):
    client.force_login(manager_a)
    response = change_role(client, membership(manager_a, tenant_a), Membership.PARTNER)
    assert response.status_code == 200
    assert "no one left to manage it" in str(response.context["adminform"].form.errors["role"])
    assert membership(manager_a, tenant_a).role == Membership.MANAGER


def test_a_manager_cannot_delete_their_own_membership_on_the_tenant_page(
    client, manager_a, partner_a, tenant_a
):
    client.force_login(manager_a)
    mine, partner = membership(manager_a, tenant_a), membership(partner_a, tenant_a)
    response = client.post(
        reverse("admin:integrations_tenant_change", args=[tenant_a.pk]),
        {
            "name": tenant_a.name,
            "slug": tenant_a.slug,
            "time_zone": tenant_a.time_zone,
            "active": "on",
            "memberships-TOTAL_FORMS": "2",
            "memberships-INITIAL_FORMS": "2",
            "memberships-0-id": mine.pk,
            "memberships-0-tenant": tenant_a.pk,
            "memberships-0-user": manager_a.pk,
            "memberships-0-role": Membership.MANAGER,
            "memberships-0-DELETE": "on",
            "memberships-1-id": partner.pk,
            "memberships-1-tenant": tenant_a.pk,
            "memberships-1-user": partner_a.pk,
            "memberships-1-role": Membership.PARTNER,
        },
    )
    assert response.status_code == 200
    assert "no one left to manage it" in response.content.decode()
    assert Membership.objects.filter(pk=mine.pk).exists()


def test_a_bulk_delete_across_pages_that_would_orphan_a_tenant_deletes_nothing(
    client, manager_a, owner_a, partner_a, tenant_a
):
    client.force_login(manager_a)
    pks = list(Membership.objects.filter(tenant=tenant_a).values_list("pk", flat=True))
    response = bulk_delete(client, "membership", pks[:1], select_across="1")
    html = response.content.decode()
    assert "Nothing was deleted" in html and "no account owner left" in html
    response = bulk_delete(client, "membership", pks, post="yes", confirm_count=str(len(pks)))
    assert Membership.objects.filter(tenant=tenant_a).count() == 3


def test_a_bulk_delete_shows_the_count_and_needs_it_typed_back(client, manager_a, tenant_a):
    conns = [make_connection(tenant_a, "8x8", f"eight-{i}") for i in range(3)]
    client.force_login(manager_a)
    page = bulk_delete(client, "vendorconnection", [conns[0].pk], select_across="1")
    assert page.context["count"] == 3
    assert "Type the number of vendor connections to delete (3)" in page.content.decode()
    pks = [c.pk for c in conns]
    for typed in ("", "2", "all"):
        response = bulk_delete(client, "vendorconnection", pks, post="yes", confirm_count=typed)
        assert response.status_code == 200
        assert "to confirm" in response.context["count_error"]
        assert VendorConnection.objects.filter(tenant=tenant_a).count() == 3
    response = bulk_delete(client, "vendorconnection", pks, post="yes", confirm_count="3")
    assert response.status_code == 302
    assert not VendorConnection.objects.filter(tenant=tenant_a).exists()


def test_a_bulk_delete_of_tenants_needs_the_count_too(client, superuser, tenant_a, tenant_b):
    client.force_login(superuser)
    pks = [tenant_a.pk, tenant_b.pk]
    bulk_delete(client, "tenant", pks, post="yes")
    assert Tenant.objects.count() == 2
    bulk_delete(client, "tenant", pks, post="yes", confirm_count="2")
    assert Tenant.objects.count() == 0


def test_deleting_other_members_in_bulk_is_allowed(client, manager_a, partner_a, tenant_a):
    client.force_login(manager_a)
    m = membership(partner_a, tenant_a)
    bulk_delete(client, "membership", [m.pk], post="yes", confirm_count="1")
    assert not Membership.objects.filter(pk=m.pk).exists()


def test_the_queryset_refuses_to_orphan_a_tenant(manager_a, owner_a, tenant_a, manager_b):
    with pytest.raises(ValidationError, match="no account owner left"):
        Membership.objects.filter(tenant=tenant_a).delete()
    with pytest.raises(ValidationError, match="no one left to manage it"):
        Membership.objects.filter(user=manager_b).delete()
    assert Membership.objects.count() == 3


def test_moving_the_last_managers_membership_to_another_tenant_is_refused(manager_a, tenant_a, tenant_b):
    m = membership(manager_a, tenant_a)
    m.tenant = tenant_b
    with pytest.raises(ValidationError, match="no one left to manage it"):
        m.save()


def test_deleting_the_tenant_itself_still_deletes_its_memberships(manager_a, owner_a, tenant_a):
    tenant_a.delete()
    assert not Membership.objects.exists()


def test_the_connections_file_cannot_demote_the_last_owner(owner_a, tenant_a):
    from wfm_site.connections_file import FileProblems, import_text

    text = f"""
tenants:
  - slug: acme
    members:
      - {{email: {owner_a.email}, role: manager}}
"""
    with pytest.raises(FileProblems) as info:
        import_text(text)
    assert any("members[0].role" in p and "no account owner left" in p for p in info.value.problems)
    assert membership(owner_a, tenant_a).role == Membership.OWNER
