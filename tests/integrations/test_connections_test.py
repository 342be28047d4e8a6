"""`manage.py connections test CONN`: what was checked, or what failed, never a secret."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from integrations.vendors.base import Adapter
from integrations.vendors.errors import AuthError
from tests.conftest import make_connection

pytestmark = pytest.mark.django_db

SECRET = "tcn-token-0123456789abcdef"


class PassingAdapter(Adapter):
    def check(self) -> list[str]:
        return ["token accepted by RemoteAgentList", "3 agents visible"]


class RefusingAdapter(Adapter):
    def check(self) -> list[str]:
        token = self.settings.realtime.values["access_token"]
        raise AuthError(f"401 Unauthorized for token {token}")


@pytest.fixture
def conn(tenant_a):
    return make_connection(tenant_a, "tcn", "tcn-main", access_token=SECRET)


def use_adapter(monkeypatch, adapter) -> None:
    from integrations.vendors.tcn.vendor import TCN

    monkeypatch.setattr(TCN, "adapter", classmethod(lambda cls, settings: adapter(settings)))


def test_it_prints_what_was_checked(conn, monkeypatch):
    use_adapter(monkeypatch, PassingAdapter)
    out = io.StringIO()
    call_command("connections", "test", "acme/tcn-main", stdout=out)
    assert out.getvalue().splitlines() == [
        "acme/tcn-main: OK",
        "  checked: token accepted by RemoteAgentList",
        "  checked: 3 agents visible",
    ]


def test_a_failure_exits_1_with_the_reason_scrubbed(conn, monkeypatch):
    use_adapter(monkeypatch, RefusingAdapter)
    with pytest.raises(CommandError) as exc:
        call_command("connections", "test", "acme/tcn-main", stdout=io.StringIO())
    assert exc.value.returncode == 1
    assert "AuthError: credentials refused: 401 Unauthorized" in str(exc.value)
    assert SECRET not in str(exc.value)


def test_json_result(conn, monkeypatch):
    use_adapter(monkeypatch, RefusingAdapter)
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("connections", "test", "acme/tcn-main", "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["ok"] is False
    assert result["error_class"] == "AuthError"
    assert SECRET not in out.getvalue()


def test_a_missing_adapter_is_a_clear_failure(conn, monkeypatch):
    from integrations.vendors.tcn.vendor import TCN

    monkeypatch.setattr(TCN, "adapter_path", "integrations.vendors.tcn.nowhere.Adapter")
    with pytest.raises(CommandError, match="NotAvailable: no adapter for TCN is installed yet") as exc:
        call_command("connections", "test", "acme/tcn-main", stdout=io.StringIO())
    assert exc.value.returncode == 1


@pytest.mark.parametrize("key", ["acme", "acme/", "acme/nope", "nope/tcn-main"])
def test_a_bad_conn_exits_2(conn, key):
    with pytest.raises(CommandError) as exc:
        call_command("connections", "test", key, stdout=io.StringIO())
    assert exc.value.returncode == 2
