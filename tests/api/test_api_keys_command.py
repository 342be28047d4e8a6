"""`manage.py api_keys create|list|revoke`."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from api.models import ApiKey
from tests.api.conftest import bearer

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("api_keys", *args, stdout=out)
    return out.getvalue()


def test_create_prints_the_key_once_and_it_works(client, tenant_a, conn_a):
    out = json.loads(
        run("create", "acme", "--name", "wfm", "--scope", "data:read", "--scope", "health:read", "--json")
    )
    assert out["scopes"] == ["data:read", "health:read"]
    assert client.get("/api/v1/connections/", **bearer(out["key"])).status_code == 200
    listing = run("list", "acme", "--json")
    assert out["key"] not in listing
    assert json.loads(listing)[0]["key"] == ApiKey.objects.get().masked


def test_create_refuses_tokens_read_for_a_partner(tenant_a, partner_a):
    with pytest.raises(CommandError, match="can never hold tokens:read") as exc:
        run("create", "acme", "--name", "p", "--scope", "tokens:read", "--created-by", "partner_a")
    assert exc.value.returncode == 2
    assert not ApiKey.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("create", "nope", "--name", "x", "--scope", "data:read"), "no tenant 'nope'"),
        (("create", "acme", "--name", "x", "--scope", "data:write"), "unknown scope"),
        (("create", "acme", "--name", "x"), "at least one scope"),
        (
            ("create", "acme", "--name", "x", "--scope", "data:read", "--created-by", "ghost"),
            "no user 'ghost'",
        ),
        (("revoke", "acme", "ghost"), "no live key named 'ghost'"),
    ],
)
def test_a_bad_argument_gets_one_clear_error(tenant_a, args, message):
    with pytest.raises(CommandError, match=message) as exc:
        run(*args)
    assert exc.value.returncode == 2


def test_revoke_makes_the_key_401(client, tenant_a, conn_a):
    plain = json.loads(run("create", "acme", "--name", "wfm", "--scope", "data:read", "--json"))["key"]
    assert "revoked acme · wfm" in run("revoke", "acme", "wfm")
    assert client.get("/api/v1/connections/", **bearer(plain)).status_code == 401
    assert "revoked" in run("list")
