"""Managers open the address pages of their own tenants' users, and only those."""

from __future__ import annotations

from django.urls import reverse

from notifications.models import EmailAddress


def test_a_manager_opens_an_address_of_their_tenants_user(client, manager_a, verified_member):
    client.force_login(manager_a)
    address = EmailAddress.for_user(verified_member)
    response = client.get(reverse("admin:notifications_emailaddress_change", args=[address.pk]))
    assert response.status_code == 200
    assert "tok_owner@example.com" in response.content.decode()


def test_a_manager_gets_404_for_an_address_of_another_tenant(client, manager_a, manager_b):
    client.force_login(manager_a)
    address = EmailAddress.for_user(manager_b)
    response = client.get(reverse("admin:notifications_emailaddress_change", args=[address.pk]))
    assert response.status_code == 404
