"""Addresses are verified through a signed, expiring link; bad links change nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import timedelta as td

import time_machine

from integrations.models import Membership
from notifications.models import EmailAddress, is_role_address
from notifications.verification import send_verification, verification_url
from tests.conftest import make_user


def link_path(url: str) -> str:
    return url.removeprefix("http://127.0.0.1:8000")


def test_the_verification_link_verifies_the_address_on_post(client, manager_a, outbox):
    address = EmailAddress.for_user(manager_a)
    report = send_verification(address)
    assert report.sent == ["manager_a@example.com"]
    (mail,) = outbox
    url = next(line.strip() for line in mail.body.splitlines() if "/verify-email/" in line)
    page = client.get(link_path(url))
    assert page.status_code == 200 and b"Verify" in page.content
    address.refresh_from_db()
    assert address.verified_at is None  # a GET (a mail scanner) verifies nothing
    assert client.post(link_path(url)).status_code == 200
    address.refresh_from_db()
    assert address.verified_at is not None and address.state == "verified"


def test_a_tampered_link_is_refused_and_changes_nothing(client, manager_a):
    address = EmailAddress.for_user(manager_a)
    url = link_path(verification_url(address))
    bad = url[:-3] + ("A" if url[-3] != "A" else "B") + url[-2:]
    response = client.post(bad)
    assert response.status_code == 400 and b"not valid" in response.content
    address.refresh_from_db()
    assert address.verified_at is None


def test_an_expired_link_is_refused(client, manager_a):
    with time_machine.travel(datetime(2026, 6, 1, tzinfo=UTC), tick=False):
        address = EmailAddress.for_user(manager_a)
        url = link_path(verification_url(address))
    with time_machine.travel(datetime(2026, 6, 1, tzinfo=UTC) + td(days=3, seconds=1), tick=False):
        response = client.post(url)
    assert response.status_code == 400 and b"expired" in response.content
    address.refresh_from_db()
    assert address.verified_at is None


def test_a_link_stops_working_when_the_user_changes_address(client, manager_a):
    url = link_path(verification_url(EmailAddress.for_user(manager_a)))
    manager_a.email = "new@example.com"
    manager_a.save()
    response = client.post(url)
    assert response.status_code == 409 and b"no longer" in response.content
    assert not EmailAddress.objects.filter(user=manager_a, verified_at__isnull=False).exists()


def test_an_address_already_used_in_the_tenant_cannot_be_verified(client, manager_a, tenant_a, tenant_b):
    twin = make_user("twin")
    twin.email = manager_a.email
    twin.save()
    Membership.objects.create(user=twin, tenant=tenant_a, role=Membership.OWNER)
    response = client.post(link_path(verification_url(EmailAddress.for_user(twin))))
    assert response.status_code == 409 and b"belongs to one user only" in response.content


def test_users_of_different_tenants_may_share_an_address(client, manager_a, tenant_b):
    other = make_user("other_b")
    other.email = manager_a.email
    other.save()
    Membership.objects.create(user=other, tenant=tenant_b, role=Membership.OWNER)
    assert client.post(link_path(verification_url(EmailAddress.for_user(other)))).status_code == 200


def test_generic_role_addresses_are_recognised():
    assert is_role_address("Support@acme.example") and is_role_address("noreply@x.org")
    assert not is_role_address("jane.doe@acme.example")
