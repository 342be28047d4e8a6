"""An endpoint that keeps failing is disabled once, and its tenant's owners and managers are mailed."""

from __future__ import annotations

import pytest
from django.core import mail

from notifications import events
from notifications.models import STREAM_DOWN, Delivery, Endpoint
from notifications.webhooks import send_due, send_test
from tests.notifications.conftest import make_endpoint
from tests.notifications.hookserver import Reply
from tests.tokens.conftest import verify


@pytest.fixture(autouse=True)
def policy(settings):
    settings.WEBHOOKS_MAX_ATTEMPTS = 1
    settings.WEBHOOKS_DISABLE_AFTER = 2


@pytest.fixture
def people(owner_a, manager_a, partner_a, manager_b):
    for user in (owner_a, manager_a, partner_a, manager_b):
        verify(user)


def publish(tenant, conn, n: int) -> None:
    for i in range(n):
        data = {"stream": "volume", "old_status": "ok", "new_status": "late", "reason": "late"}
        events.publish(tenant, STREAM_DOWN, data, conn, key=f"flip:{i}")


def test_it_disables_after_the_limit_and_mails_owners_and_managers_once(hooks, people, tenant_a, conn_a):
    endpoint = make_endpoint(tenant_a, hooks.url("/secret-path-0123"))
    hooks.default = Reply(500, b"broken")
    publish(tenant_a, conn_a, 3)

    assert send_due() == {"failed": 1}
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.consecutive_failures == 1 and mail.outbox == []

    assert send_due() == {"failed": 1}
    endpoint.refresh_from_db()
    assert not endpoint.enabled and endpoint.consecutive_failures == 2
    assert endpoint.disabled_reason.startswith("disabled automatically: 2 deliveries in a row were given up")
    assert sorted(m.to[0] for m in mail.outbox) == ["manager_a@example.com", "owner_a@example.com"]
    message = mail.outbox[0]
    assert message.subject == "[Switchboard] Acme Support · notification endpoint ops was disabled"
    assert "secret-path-0123" not in message.body and "127.0.0.1" in message.body  # the host, not the path

    # The third event is not sent to a disabled endpoint, and nobody is mailed again.
    assert send_due() == {"dropped": 1}
    assert len(hooks.received) == 2 and len(mail.outbox) == 2
    assert Delivery.objects.filter(last_error="not sent: the endpoint is disabled").count() == 1


def test_a_success_resets_the_count(hooks, people, tenant_a, conn_a):
    endpoint = make_endpoint(tenant_a, hooks.url())
    hooks.answer(Reply(500), Reply(200), Reply(500))
    publish(tenant_a, conn_a, 3)
    for _ in range(3):
        send_due()
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.consecutive_failures == 1 and mail.outbox == []


def test_new_events_are_not_fanned_out_to_a_disabled_endpoint(hooks, tenant_a, conn_a):
    make_endpoint(tenant_a, hooks.url(), enabled=False)
    publish(tenant_a, conn_a, 1)
    assert Delivery.objects.count() == 0


def test_test_events_never_count_towards_disabling(hooks, tenant_a):
    endpoint = make_endpoint(tenant_a, hooks.url())
    hooks.default = Reply(500)
    for _ in range(3):
        assert send_test(endpoint)[1].status == "failed"
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.consecutive_failures == 0
    assert Endpoint.objects.get().deliveries.filter(kind="test", failed=True).count() == 3
