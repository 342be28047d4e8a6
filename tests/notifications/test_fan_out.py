"""Health flips and reminder stages fan out once, in their own transaction, to subscribed endpoints."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.db import transaction

from collectors import health
from notifications.models import STREAM_DOWN, STREAM_RECOVERED, TOKEN_EXPIRED, TOKEN_REMINDER, Delivery
from tests.collectors.healthkit import T0, make_schedule
from tests.notifications.conftest import make_endpoint
from tokens.models import AccessToken, TokenAlert
from tokens.reminders import run_pass


@pytest.fixture
def endpoints(tenant_a, tenant_b):
    return {
        "down": make_endpoint(tenant_a, "https://hooks.example/down", name="down", events=(STREAM_DOWN,)),
        "up": make_endpoint(tenant_a, "https://hooks.example/up", name="up", events=(STREAM_RECOVERED,)),
        "off": make_endpoint(tenant_a, "https://hooks.example/off", name="off", enabled=False),
        "tokens": make_endpoint(
            tenant_a, "https://hooks.example/t", name="tokens", events=(TOKEN_REMINDER, TOKEN_EXPIRED)
        ),
        "b": make_endpoint(tenant_b, "https://hooks.example/b", name="b"),
    }


def test_a_flip_down_reaches_only_the_subscribed_enabled_endpoints_of_its_tenant(endpoints, conn_a):
    schedule = make_schedule(conn_a, "agent_states", status="ok", status_since=T0)
    flip = health.transition(schedule, health.FAILING, "3 consecutive failures", T0)
    (delivery,) = Delivery.objects.all()
    assert delivery.endpoint == endpoints["down"]
    assert (delivery.kind, delivery.key) == ("stream.down", f"flip:{flip.pk}")
    data = delivery.payload["data"]
    assert (data["old_status"], data["new_status"], data["stream"]) == ("ok", "failing", "agent_states")
    assert data["reason"] == "3 consecutive failures"
    assert data["url"] == f"http://127.0.0.1:8000/health/{schedule.pk}/"

    flip = health.transition(schedule, health.OK, "", T0)
    assert Delivery.objects.get(kind="stream.recovered").endpoint == endpoints["up"]


def test_a_rolled_back_flip_leaves_no_delivery(endpoints, conn_a):
    schedule = make_schedule(conn_a, "agent_states", status="ok", status_since=T0)
    with pytest.raises(RuntimeError), transaction.atomic():
        health.transition(schedule, health.LATE, "late", T0)
        raise RuntimeError("the evaluator crashed after the flip")
    assert Delivery.objects.count() == 0


def test_two_evaluators_racing_write_one_flip_and_one_delivery(endpoints, conn_a):
    first = make_schedule(conn_a, "volume", status="ok", status_since=T0)
    second = type(first).objects.get(pk=first.pk)  # read before either wrote
    assert health.transition(first, health.LATE, "late", T0) is not None
    assert health.transition(second, health.LATE, "late", T0) is None
    assert Delivery.objects.count() == 1


def test_quiet_transitions_are_no_events(endpoints, conn_a):
    schedule = make_schedule(conn_a, "config", status="new", status_since=T0)
    health.transition(schedule, health.OK, "", T0)
    assert Delivery.objects.count() == 0


def test_a_reminder_stage_fans_out_once_even_when_the_pass_runs_twice(endpoints, conn_a):
    AccessToken.objects.create(
        connection=conn_a,
        service_login="3rd_WFM_Acme_jdoe",
        issued=date(2025, 12, 10),
        expires=date(2026, 12, 10),
    )
    with time_machine.travel(T0, tick=False):
        run_pass(today=date(2026, 11, 30))
        run_pass(today=date(2026, 11, 30))
    (delivery,) = Delivery.objects.all()
    assert delivery.endpoint == endpoints["tokens"] and delivery.kind == "token.reminder"
    data = delivery.payload["data"]
    assert (data["stage"], data["days_left"], data["expires"]) == ("d10", 10, "2026-12-10")
    assert "tcn-token-0123456789abcdef" not in str(delivery.payload)


def test_the_expired_stage_is_a_token_expired_event(endpoints, conn_a):
    AccessToken.objects.create(connection=conn_a, issued=date(2025, 11, 1), expires=date(2026, 11, 1))
    run_pass(today=date(2026, 11, 30))
    (delivery,) = Delivery.objects.all()
    assert delivery.kind == "token.expired" and delivery.payload["data"]["days_left"] == -29


def test_fanning_out_costs_the_pass_the_same_queries_for_5_and_50_tokens(endpoints, tenant_a, tenant_b):
    from tests.tokens.test_pass_query_count import add_tokens, queries_of_a_pass

    add_tokens(tenant_a, 5, 0)
    few = queries_of_a_pass(date(2026, 5, 20))
    add_tokens(tenant_b, 45, 5)
    many = queries_of_a_pass(date(2026, 5, 21))
    assert Delivery.objects.filter(endpoint=endpoints["b"]).count() == 45
    # One delivery per reminder stage written, in either tenant.
    alerts_a = TokenAlert.objects.filter(token__connection__tenant=tenant_a).count()
    assert Delivery.objects.filter(endpoint=endpoints["tokens"]).count() == alerts_a >= 5
    assert many == few
