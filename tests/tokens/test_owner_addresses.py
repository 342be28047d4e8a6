"""An address belongs to one user per tenant, and token and account owners are people.

Refused (not only warned) on every path: the membership change form, the tenant page's
members inline, the user form, the token form and the YAML connections file. A tenant's
reminder settings may allow a role address by exception.
"""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from integrations.models import Membership
from tests.conftest import make_user
from tokens.admin_users import PersonAdmin, PersonChangeForm
from tokens.models import AccessToken, TenantReminderSettings

pytestmark = pytest.mark.django_db


def user_with(username: str, email: str):
    user = make_user(username)
    user.email = email
    user.save()
    return user


def allow(tenant, *addresses: str) -> None:
    TenantReminderSettings.objects.create(tenant=tenant, role_addresses_allowed="\n".join(addresses))


def make_owner(client, membership: Membership):
    return client.post(
        reverse("admin:integrations_membership_change", args=[membership.pk]),
        {"user": membership.user_id, "tenant": membership.tenant_id, "role": Membership.OWNER},
    )


def test_a_role_address_cannot_become_an_account_owner(client, manager_a, owner_a, tenant_a):
    desk = user_with("desk", "helpdesk@acme.example")
    m = Membership.objects.create(user=desk, tenant=tenant_a, role=Membership.PARTNER)
    client.force_login(manager_a)
    response = make_owner(client, m)
    assert response.status_code == 200
    assert "helpdesk@acme.example is a group or role address" in response.content.decode()
    m.refresh_from_db()
    assert m.role == Membership.PARTNER


def test_a_tenant_may_allow_a_role_address_as_account_owner(client, manager_a, owner_a, tenant_a):
    allow(tenant_a, "helpdesk@acme.example")
    desk = user_with("desk", "helpdesk@acme.example")
    m = Membership.objects.create(user=desk, tenant=tenant_a, role=Membership.PARTNER)
    client.force_login(manager_a)
    assert make_owner(client, m).status_code == 302
    m.refresh_from_db()
    assert m.role == Membership.OWNER


def test_the_members_inline_refuses_a_second_user_with_a_members_address(
    client, superuser, manager_a, tenant_a
):
    twin = user_with("twin", "MANAGER_A@example.com")
    mine = Membership.objects.get(user=manager_a, tenant=tenant_a)
    response = (
        client.post(
            reverse("admin:integrations_tenant_change", args=[tenant_a.pk]),
            {
                "name": tenant_a.name,
                "slug": tenant_a.slug,
                "time_zone": tenant_a.time_zone,
                "active": "on",
                "memberships-TOTAL_FORMS": "2",
                "memberships-INITIAL_FORMS": "1",
                "memberships-0-id": mine.pk,
                "memberships-0-tenant": tenant_a.pk,
                "memberships-0-user": manager_a.pk,
                "memberships-0-role": Membership.MANAGER,
                "memberships-1-tenant": tenant_a.pk,
                "memberships-1-user": twin.pk,
                "memberships-1-role": Membership.PARTNER,
            },
        )
        if client.force_login(superuser) is None
        else None
    )
    assert response.status_code == 200
    assert "already belongs to manager_a in Acme Support" in response.content.decode()
    assert not Membership.objects.filter(user=twin).exists()


def test_the_same_address_may_belong_to_users_of_two_tenants(client, superuser, manager_a, tenant_b):
    twin = user_with("twin", "manager_a@example.com")
    assert Membership.objects.create(user=twin, tenant=tenant_b, role=Membership.MANAGER)
    client.force_login(superuser)
    m = Membership.objects.get(user=twin)
    assert make_owner(client, m).status_code == 302


def person_form(user, email: str) -> PersonChangeForm:
    return PersonChangeForm(
        instance=user,
        data={
            "username": user.username,
            "email": email,
            "date_joined": "2026-01-01 00:00",
            "is_active": "on",
        },
    )


def test_the_user_form_refuses_an_address_another_member_of_the_tenant_has(manager_a, owner_a, tenant_b):
    assert isinstance(admin.site._registry[get_user_model()], PersonAdmin)
    form = person_form(manager_a, "Owner_A@example.com")
    assert not form.is_valid()
    assert "already belongs to owner_a in Acme Support" in form.errors["email"][0]
    # A user of another tenant only may have it.
    other = make_user("bolt_user")
    Membership.objects.create(user=other, tenant=tenant_b, role=Membership.MANAGER)
    assert person_form(other, "owner_a@example.com").is_valid()


def test_the_user_form_refuses_a_role_address_for_an_account_or_token_owner(owner_a, manager_a, conn_a):
    assert "account owner must be a person" in person_form(owner_a, "support@acme.example").errors["email"][0]
    AccessToken.objects.create(connection=conn_a, owner=manager_a, issued=date(2026, 1, 1))
    assert "token owner must be a person" in person_form(manager_a, "cc-ops@acme.example").errors["email"][0]
    assert person_form(manager_a, "jane.doe@acme.example").is_valid()


def test_a_role_address_cannot_own_a_token_unless_the_tenant_allows_it(conn_a, tenant_a):
    desk = user_with("desk", "cc-ops@acme.example")
    Membership.objects.create(user=desk, tenant=tenant_a, role=Membership.MANAGER)
    token = AccessToken(connection=conn_a, owner=desk, issued=date(2026, 1, 1))
    with pytest.raises(ValidationError) as refused:
        token.full_clean()
    assert "a token owner must be a person's own address" in str(refused.value.message_dict["owner"])
    allow(tenant_a, "cc-ops")
    token.full_clean()


YAML = """
tenants:
  - slug: acme
    name: Acme Support
    members:
      - {email: ann@acme.example, role: owner}
      - {email: support@acme.example, role: manager}
%s
    connections:
      - name: tcn-main
        vendor: tcn
        realtime:
          {base_url: "https://api.tcn3.com/backoffice/", access_token: tok-0123456789, client_sid: "1"}
        tokens:
          - {section: realtime, owner: %s, issued: 2026-01-10}
"""


def import_problems(tmp_path, text: str) -> str:
    path = tmp_path / "connections.yaml"
    path.write_text(text)
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("connections", "import", str(path), stdout=io.StringIO(), stderr=err)
    return err.getvalue()


def test_the_connections_file_refuses_a_role_address_as_account_owner(tmp_path):
    member = "      - {email: helpdesk@acme.example, role: owner}"
    text = import_problems(tmp_path, YAML % (member, "ann@acme.example"))
    assert "tenants[0].members[2].email: helpdesk@acme.example is a group or role address" in text
    assert "members[1]" not in text  # a manager may use one
    assert not Membership.objects.exists()


def test_the_connections_file_refuses_a_role_address_as_token_owner(tmp_path):
    text = import_problems(tmp_path, YAML % ("", "support@acme.example"))
    assert "tokens[0].owner: support@acme.example is a group or role address" in text
    assert not AccessToken.objects.exists()


def test_the_connections_file_accepts_a_role_address_the_tenant_allows(tmp_path, tenant_a):
    allow(tenant_a, "support")
    path = tmp_path / "connections.yaml"
    path.write_text(YAML % ("", "support@acme.example"))
    call_command("connections", "import", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert AccessToken.objects.get().owner.email == "support@acme.example"
