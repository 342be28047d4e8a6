from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core import mail
from django.utils import timezone

from integrations.models import Membership, Tenant
from notifications.models import EVENT_KEYS, EmailAddress, Endpoint
from tests.conftest import make_user
from tests.notifications.hookserver import HookServer

SECRET = "whsec-test-0123456789abcdefghijklmnop"


@pytest.fixture
def outbox():
    mail.outbox = []
    return mail.outbox


@pytest.fixture
def verified_member(tenant_a):
    """A manager of tenant A whose address is verified."""
    user = make_user("tok_owner")
    Membership.objects.create(user=user, tenant=tenant_a, role=Membership.MANAGER)
    row = EmailAddress.for_user(user)
    row.verified_at = timezone.now()
    row.save()
    return user


@pytest.fixture
def hooks(settings) -> Iterator[HookServer]:
    """The receiver on 127.0.0.1, allow-listed: the egress policy refuses loopback otherwise."""
    settings.VENDOR_EGRESS_ALLOW = ["127.0.0.1/32"]
    with HookServer() as server:
        yield server


def make_endpoint(
    tenant: Tenant,
    url: str,
    kind: str = Endpoint.WEBHOOK,
    name: str = "ops",
    events: tuple[str, ...] = EVENT_KEYS,
    **extra: object,
) -> Endpoint:
    endpoint = Endpoint(tenant=tenant, name=name, kind=kind, events=list(events), **extra)
    endpoint.set_url(url)
    if kind == Endpoint.WEBHOOK:
        endpoint.set_secret(SECRET)
    endpoint.save()
    return endpoint
