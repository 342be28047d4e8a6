"""`manage.py webhooks list|test`: JSON, exit statuses, and never a URL or secret."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from notifications.models import Delivery
from tests.notifications.conftest import SECRET, make_endpoint
from tests.notifications.hookserver import Reply


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("webhooks", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def endpoint(hooks, tenant_a):
    return make_endpoint(tenant_a, hooks.url("/secret-path-4567"), name="ops")


def test_test_sends_a_test_event_and_prints_the_outcome(endpoint, hooks):
    out = json.loads(run("test", "acme/ops", "--json"))
    assert out == {"endpoint": "acme/ops", "delivery": Delivery.objects.get().pk, "status": "sent"} | {
        "http_status": 200,
        "error": "",
    }
    assert hooks.received[0].json()["type"] == "test"
    assert run("test", "acme/ops") == "acme/ops: test event sent (HTTP 200)\n"


def test_test_exits_1_when_the_event_was_not_delivered(endpoint, hooks):
    hooks.answer(Reply(404, b"no_service /secret-path-4567"))
    with pytest.raises(CommandError) as exc:
        run("test", "acme/ops")
    assert exc.value.returncode == 1
    assert Delivery.objects.get().last_error == "HTTP 404: no_service [redacted]"


@pytest.mark.parametrize("key", ["acme", "acme/", "acme/nope", "bolt/ops"])
def test_a_bad_endpoint_exits_2(endpoint, tenant_b, key):
    with pytest.raises(CommandError) as exc:
        run("test", key)
    assert exc.value.returncode == 2 and "\n" not in str(exc.value)


def test_list_shows_every_endpoint_with_its_last_delivery_and_no_secret(endpoint, tenant_b, hooks):
    make_endpoint(tenant_b, "https://hooks.example/T/B/other-secret", kind="slack", name="chat")
    run("test", "acme/ops")
    out = json.loads(run("list", "--json"))
    first, second = out["endpoints"]
    assert first["endpoint"] == "acme/ops" and first["url"].startswith("http://127.0.0.1:")
    assert first["last_delivery"]["kind"] == "test" and first["last_delivery"]["status"] == "sent"
    assert second == {
        "endpoint": "bolt/chat",
        "kind": "slack",
        "url": "https://hooks.example/…",
        "events": ["stream.down", "stream.recovered", "stream.paused", "token.reminder", "token.expired"],
        "enabled": True,
        "disabled_reason": "",
        "consecutive_failures": 0,
        "last_delivery": None,
    }
    text = run("list") + json.dumps(out)
    assert "secret-path" not in text and "other-secret" not in text and SECRET not in text
    assert [e["endpoint"] for e in json.loads(run("list", "--tenant", "bolt", "--json"))["endpoints"]] == [
        "bolt/chat"
    ]


def test_list_refuses_an_unknown_tenant_with_exit_2(db):
    with pytest.raises(CommandError) as exc:
        run("list", "--tenant", "nope")
    assert exc.value.returncode == 2
