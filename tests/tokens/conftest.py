from __future__ import annotations

from datetime import date

import pytest
from django.core import mail
from django.utils import timezone

from integrations.models import Membership
from notifications.models import EmailAddress
from tests.conftest import make_user
from tokens.models import AccessToken


def verify(user) -> EmailAddress:
    row = EmailAddress.for_user(user)
    row.verified_at = timezone.now()
    row.save()
    return row


@pytest.fixture
def token_a(conn_a, manager_a) -> AccessToken:
    return AccessToken.objects.create(
        connection=conn_a,
        service_login="3rd_CommunityWFM_Acme_jdoe",
        owner=manager_a,
        issued=date(2026, 1, 15),
        expires=date(2027, 1, 15),
    )


@pytest.fixture
def token_owner(tenant_a):
    """A verified member of tenant A the token was made for."""
    user = make_user("tok_owner")
    Membership.objects.create(user=user, tenant=tenant_a, role=Membership.MANAGER)
    verify(user)
    return user


@pytest.fixture
def outbox():
    mail.outbox = []
    return mail.outbox
