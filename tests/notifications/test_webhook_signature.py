"""A webhook is signed, and the verification snippet in docs/webhooks.md accepts it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from notifications import events
from notifications.models import STREAM_DOWN
from notifications.webhooks import send_due
from tests.notifications.conftest import SECRET, make_endpoint

DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def documented_verify() -> Any:
    """The `verify` function exactly as the docs print it."""
    code = re.search(r"```python\n# verify-snippet\n(.*?)```", DOCS.read_text(), re.S)
    assert code, "docs/webhooks.md lost its verification snippet"
    namespace: dict[str, Any] = {}
    exec(code.group(1), namespace)
    return namespace["verify"]


@pytest.fixture
def delivered(hooks, tenant_a, conn_a):
    make_endpoint(tenant_a, hooks.url())
    data = {"stream": "agent_states", "old_status": "ok", "new_status": "failing", "reason": "3 failures"}
    events.publish(tenant_a, STREAM_DOWN, data, conn_a, key="flip:1")
    assert send_due() == {"sent": 1}
    assert len(hooks.received) == 1
    return hooks.received[0]


def test_the_documented_snippet_verifies_a_real_delivery(delivered):
    verify = documented_verify()
    ts = delivered.headers["X-Switchboard-Timestamp"]
    signature = delivered.headers["X-Switchboard-Signature"]
    assert signature.startswith("sha256=")
    assert verify(SECRET, ts, delivered.body, signature)


def test_the_snippet_refuses_a_changed_body_another_secret_or_an_old_timestamp(delivered):
    verify = documented_verify()
    ts = delivered.headers["X-Switchboard-Timestamp"]
    signature = delivered.headers["X-Switchboard-Signature"]
    assert not verify(SECRET, ts, delivered.body.replace(b"failing", b"ok"), signature)
    assert not verify("another-secret-0123456789abcdef", ts, delivered.body, signature)
    # The same body and signature presented with a different timestamp: not ours.
    assert not verify(SECRET, str(int(ts) - 1), delivered.body, signature)
    assert not verify(SECRET, ts, delivered.body, signature, tolerance=-1)


def test_the_body_carries_the_event_and_never_a_secret(delivered, tenant_a, conn_a):
    body = delivered.json()
    assert delivered.headers["X-Switchboard-Event"] == "stream.down"
    assert delivered.headers["X-Switchboard-Delivery"] == body["id"]
    assert body["type"] == "stream.down"
    assert body["tenant"] == {"slug": "acme", "name": "Acme Support"}
    assert body["connection"] == {"key": "acme/tcn-main", "name": "tcn-main", "vendor": "tcn"}
    assert body["data"]["new_status"] == "failing"
    assert body["created"].endswith("Z")
    assert body["summary"] == "acme/tcn-main · agent_states is down (failing): 3 failures"
    raw = delivered.body.decode()
    assert SECRET not in raw and "tcn-token-0123456789abcdef" not in raw
