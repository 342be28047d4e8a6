"""An address clash is shown to a manager only where it lies in a tenant they manage."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from integrations.models import Membership, Tenant
from notifications.models import EmailAddress
from tests.conftest import make_user


@pytest.fixture
def shared_address(tenant_a):
    """X is in tenants A and C; Y, only in C, uses the same address."""
    cobalt = Tenant.objects.create(name="Cobalt Help", slug="cobalt")
    x = make_user("xavier_shared")
    y = make_user("yolanda_hidden")
    y.email = x.email
    y.save()
    Membership.objects.create(user=x, tenant=tenant_a, role=Membership.MANAGER)
    Membership.objects.create(user=x, tenant=cobalt, role=Membership.MANAGER)
    Membership.objects.create(user=y, tenant=cobalt, role=Membership.MANAGER)
    return EmailAddress.for_user(x)


def test_a_manager_never_sees_a_clash_outside_their_tenants(client, manager_a, shared_address):
    client.force_login(manager_a)
    pages = [
        client.get(reverse("admin:notifications_emailaddress_changelist")),
        client.get(reverse("admin:notifications_emailaddress_change", args=[shared_address.pk])),
    ]
    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        assert "xavier_shared" in html
        assert "yolanda_hidden" not in html and "Cobalt Help" not in html


def test_the_send_action_warns_only_within_the_managers_tenants(client, manager_a, shared_address, outbox):
    client.force_login(manager_a)
    response = client.post(
        reverse("admin:notifications_emailaddress_changelist"),
        {"action": "send_verification", "_selected_action": [shared_address.pk]},
        follow=True,
    )
    html = response.content.decode()
    assert "Verification link sent" in html
    assert "yolanda_hidden" not in html and "Cobalt Help" not in html


def test_a_superuser_sees_the_clash(client, superuser, shared_address):
    client.force_login(superuser)
    html = client.get(reverse("admin:notifications_emailaddress_changelist")).content.decode()
    assert "also used by yolanda_hidden in Cobalt Help" in html


def test_the_address_still_cannot_be_verified_while_it_clashes_anywhere(shared_address):
    with pytest.raises(ValidationError, match="yolanda_hidden"):
        shared_address.confirm()
