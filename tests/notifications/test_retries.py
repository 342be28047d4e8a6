"""Retries with backoff on 5xx, 429 (Retry-After) and connection errors; never on other 4xx."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from datetime import timedelta as td

import pytest
import time_machine

from notifications import events
from notifications.models import STREAM_DOWN, Delivery
from notifications.webhooks import backoff_seconds, retry_after_seconds, send_due
from tests.notifications.conftest import SECRET, make_endpoint
from tests.notifications.hookserver import Reply

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def policy(settings):
    settings.WEBHOOKS_RETRY_BASE = 60
    settings.WEBHOOKS_RETRY_MAX = 3600
    settings.WEBHOOKS_MAX_ATTEMPTS = 3
    settings.WEBHOOKS_DISABLE_AFTER = 100


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def publish(tenant, conn, key: str = "flip:1") -> None:
    data = {"stream": "volume", "old_status": "ok", "new_status": "late", "reason": "late"}
    events.publish(tenant, STREAM_DOWN, data, conn, key=key)


def test_it_retries_after_a_500_with_backoff_then_delivers(hooks, tenant_a, conn_a, clock):
    make_endpoint(tenant_a, hooks.url())
    hooks.answer(Reply(500, b"upstream broke"))
    publish(tenant_a, conn_a)

    assert send_due() == {"retrying": 1}
    delivery = Delivery.objects.get()
    assert delivery.status == "retrying" and delivery.last_status == 500
    assert delivery.last_error == "HTTP 500: upstream broke"
    # First retry after 60 s halved at most by the jitter.
    assert T0 + td(seconds=30) <= delivery.next_attempt_at <= T0 + td(seconds=60)
    assert send_due() == {}  # not due yet: nothing sent again

    clock.move_to(delivery.next_attempt_at)
    assert send_due() == {"sent": 1}
    delivery.refresh_from_db()
    assert delivery.status == "sent" and delivery.attempts == 2 and delivery.last_status == 200
    first, second = hooks.received
    assert first.json()["id"] == second.json()["id"]  # the same event: receivers dedupe on it


def test_a_429_waits_as_long_as_retry_after_says(hooks, tenant_a, conn_a, clock):
    make_endpoint(tenant_a, hooks.url())
    hooks.answer(Reply(429, b"slow down", (("Retry-After", "120"),)))
    publish(tenant_a, conn_a)
    assert send_due() == {"retrying": 1}
    assert Delivery.objects.get().next_attempt_at == T0 + td(seconds=120)


def test_retry_after_reads_seconds_and_http_dates():
    assert retry_after_seconds("30", T0) == 30
    assert retry_after_seconds("Mon, 30 Nov 2026 09:02:00 GMT", T0) == 120
    assert retry_after_seconds("soon", T0) is None
    assert retry_after_seconds("", T0) is None


def test_backoff_doubles_with_jitter_and_is_capped():
    for attempts, full in ((1, 60), (2, 120), (3, 240), (10, 3600)):
        for _ in range(20):
            assert full / 2 <= backoff_seconds(attempts) <= full


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


def test_a_refused_connection_is_retried_then_given_up_after_the_limit(tenant_a, conn_a, clock, settings):
    settings.VENDOR_EGRESS_ALLOW = ["127.0.0.1/32"]
    make_endpoint(tenant_a, closed_port_url())
    publish(tenant_a, conn_a)
    for _ in range(2):
        assert send_due() == {"retrying": 1}
        clock.move_to(Delivery.objects.get().next_attempt_at)
    assert send_due() == {"failed": 1}
    delivery = Delivery.objects.get()
    assert delivery.status == "failed" and delivery.attempts == 3 and delivery.last_status is None
    assert delivery.last_error == "gave up after 3 attempts: could not connect (ConnectionError)"


@pytest.mark.parametrize("status", [400, 401, 404, 410])
def test_a_4xx_is_given_up_at_once_with_a_scrubbed_excerpt(hooks, tenant_a, conn_a, status, clock):
    endpoint = make_endpoint(tenant_a, hooks.url("/services/T000/B000/XXXXsecretpath"))
    # A careless receiver echoes the request: the URL's path and the secret.
    hooks.answer(Reply(status, f"no such hook /services/T000/B000/XXXXsecretpath {SECRET}".encode()))
    publish(tenant_a, conn_a)
    assert send_due() == {"failed": 1}
    delivery = Delivery.objects.get()
    assert delivery.attempts == 1 and delivery.last_status == status
    assert delivery.last_error == f"HTTP {status}: no such hook [redacted] [redacted]"
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 1


def test_one_struggling_endpoint_is_tried_once_per_tick(hooks, tenant_a, conn_a, clock):
    make_endpoint(tenant_a, hooks.url())
    hooks.default = Reply(503, b"down")
    for i in range(3):
        publish(tenant_a, conn_a, key=f"flip:{i}")
    assert send_due() == {"retrying": 1}
    assert len(hooks.received) == 1
