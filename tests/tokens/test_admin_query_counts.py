"""Token and subscription-list changelists cost the same queries for 3 rows as for 30."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notifications.models import Subscriber, SubscriptionList
from tests.conftest import make_connection
from tokens.models import AccessToken, TenantReminderSettings, TokenAlert


def queries_for(client, page: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse(f"admin:{page}_changelist"))
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def add_tokens(tenant, start: int, n: int) -> None:
    for i in range(start, start + n):
        token = AccessToken.objects.create(
            connection=make_connection(tenant, "tcn", f"c{i}"),
            service_login=f"3rd_W_A_u{i}",
            issued=date(2025, 7, 1),
            expires=date(2026, 7, 1),
        )
        # One stage already written, so the plan shown depends on the alerts read.
        TokenAlert.objects.create(
            token=token, day=date(2026, 5, 2), stage="d60", expires=token.expires, days_left=60
        )


@time_machine.travel("2026-06-01 15:00Z", tick=False)
def test_the_token_changelist_does_not_grow_with_the_tokens(client, manager_a, tenant_a):
    TenantReminderSettings.objects.create(tenant=tenant_a, thresholds=[60, 20])
    client.force_login(manager_a)
    add_tokens(tenant_a, 0, 3)
    few, _ = queries_for(client, "tokens_accesstoken")
    add_tokens(tenant_a, 3, 27)
    many, html = queries_for(client, "tokens_accesstoken")
    assert many == few
    # The reminder column really reads the alerts (d60 is not due again) and the tenant's
    # own policy (no d30 stage).
    assert html.count("d20 on 2026-06-11") == 30


@pytest.mark.django_db
def test_the_subscription_list_changelist_does_not_grow_with_the_lists(client, manager_a, tenant_a):
    def add_lists(start: int, n: int) -> None:
        for i in range(start, start + n):
            lst = SubscriptionList.objects.create(tenant=tenant_a, name=f"list-{i}")
            Subscriber.objects.create(list=lst, email=f"a{i}@example.org", confirmed_at=timezone.now())
            Subscriber.objects.create(list=lst, email=f"b{i}@example.org", confirmed_at=timezone.now())
            Subscriber.objects.create(list=lst, email=f"c{i}@example.org")
            Subscriber.objects.create(
                list=lst,
                email=f"d{i}@example.org",
                confirmed_at=timezone.now(),
                unsubscribed_at=timezone.now(),
            )

    client.force_login(manager_a)
    add_lists(0, 3)
    few, _ = queries_for(client, "notifications_subscriptionlist")
    add_lists(3, 27)
    many, html = queries_for(client, "notifications_subscriptionlist")
    assert many == few
    assert html.count('<td class="field-members">2</td>') == 30
