"""The "Test connection" action reports per connection, scrubbed, on scoped rows only."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from integrations.vendors.base import Adapter
from integrations.vendors.errors import AuthError, TransientError

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:integrations_vendorconnection_changelist"


class Calls:
    keys: list[str] = []


class OkAdapter(Adapter):
    def check(self) -> list[str]:
        Calls.keys.append(self.settings.key)
        return ["token accepted"]


class AuthFailAdapter(Adapter):
    def check(self) -> list[str]:
        raise AuthError(f"401 for Authorization: Bearer {self.settings.realtime.values['access_token']}")


class TimeoutAdapter(Adapter):
    def check(self) -> list[str]:
        raise TransientError("timed out after 10 s")


def use(monkeypatch, vendor_cls, adapter) -> None:
    monkeypatch.setattr(vendor_cls, "adapter", classmethod(lambda cls, settings: adapter(settings)))


def run_action(client, user, *conns) -> list[str]:
    client.force_login(user)
    response = client.post(
        reverse(CHANGELIST),
        {"action": "test_connection", "_selected_action": [c.pk for c in conns]},
        follow=True,
    )
    return [str(m) for m in get_messages(response.wsgi_request)] or [
        str(m) for m in response.context["messages"]
    ]


@pytest.fixture
def tcn():
    from integrations.vendors.tcn.vendor import TCN

    return TCN


def test_a_good_connection_reports_what_was_checked(client, manager_a, conn_a, monkeypatch, tcn):
    use(monkeypatch, tcn, OkAdapter)
    assert run_action(client, manager_a, conn_a) == ["acme/tcn-main: OK (token accepted)"]


def test_a_refused_token_is_reported_without_the_token(client, manager_a, conn_a, monkeypatch, tcn):
    use(monkeypatch, tcn, AuthFailAdapter)
    (message,) = run_action(client, manager_a, conn_a)
    assert message.startswith("acme/tcn-main: failed, AuthError: credentials refused: 401")
    assert "tcn-token-0123456789abcdef" not in message


def test_an_unreachable_vendor_is_reported(client, manager_a, conn_a, monkeypatch, tcn):
    use(monkeypatch, tcn, TimeoutAdapter)
    assert run_action(client, manager_a, conn_a) == [
        "acme/tcn-main: failed, TransientError: not reachable: timed out after 10 s"
    ]


def test_a_vendor_without_an_adapter_gets_a_clear_message(client, manager_a, conn_a, monkeypatch, tcn):
    monkeypatch.setattr(tcn, "adapter_path", "integrations.vendors.tcn.missing.Adapter")
    assert run_action(client, manager_a, conn_a) == [
        "acme/tcn-main: failed, NotAvailable: no adapter for TCN is installed yet"
    ]


def test_it_only_tests_the_users_own_connections(client, manager_a, conn_a, conn_b, monkeypatch, tcn):
    from integrations.vendors.eightbyeight.vendor import EightByEight

    Calls.keys = []
    use(monkeypatch, tcn, OkAdapter)
    use(monkeypatch, EightByEight, OkAdapter)
    messages = run_action(client, manager_a, conn_a, conn_b)
    assert Calls.keys == ["acme/tcn-main"]
    assert not any("bolt" in m for m in messages)


def test_partners_cannot_run_it(client, partner_a, conn_a, monkeypatch, tcn):
    Calls.keys = []
    use(monkeypatch, tcn, OkAdapter)
    run_action(client, partner_a, conn_a)
    assert Calls.keys == []
