"""API keys: shown once, stored as a digest, found by prefix, revocable, scoped, and partners
never read tokens."""

from __future__ import annotations

from datetime import timedelta as td

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api.models import ApiKey, digest
from integrations.models import Membership
from tests.api.conftest import ALL_SCOPES, T0, bearer

pytestmark = pytest.mark.django_db


def test_it_stores_a_digest_and_a_prefix_never_the_key(tenant_a, manager_a):
    key, plain = ApiKey.create(tenant_a, "wfm", ["data:read"], manager_a)
    assert plain.startswith("sbk_") and len(plain) > 40
    row = ApiKey.objects.values().get(pk=key.pk)
    assert plain not in str(row)
    assert row["key_digest"] == digest(plain)
    assert plain.startswith("sbk_" + row["prefix"])
    assert ApiKey.find(plain) == key


def test_a_key_differing_after_its_prefix_is_refused(client, seeded, keys):
    plain = keys["manager_a"]
    forged = plain[:-4] + ("AAAA" if not plain.endswith("AAAA") else "BBBB")
    response = client.get("/api/v1/queues/", **bearer(forged))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer a b", "Token sbk_x", "Bearer not-a-key", "Basic bWFuYWdlcl9hOnBhc3N3b3Jk"],
)
def test_a_request_without_a_valid_bearer_key_gets_401(client, seeded, keys, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.get("/api/v1/connections/", **extra)
    assert response.status_code == 401
    assert "results" not in response.json()


def test_a_revoked_key_gets_401_and_others_keep_working(client, seeded, keys):
    key = ApiKey.find(keys["manager_a"])
    assert client.get("/api/v1/queues/", **bearer(keys["manager_a"])).status_code == 200
    assert key.revoke() is True
    assert key.revoke() is False
    assert client.get("/api/v1/queues/", **bearer(keys["manager_a"])).status_code == 401
    assert client.get("/api/v1/queues/", **bearer(keys["partner_a"])).status_code == 200


def test_a_key_of_an_inactive_tenant_gets_401(client, seeded, keys, tenant_a):
    tenant_a.active = False
    tenant_a.save()
    assert client.get("/api/v1/queues/", **bearer(keys["manager_a"])).status_code == 401


def test_a_partner_key_can_never_be_given_tokens_read(tenant_a, partner_a, manager_b):
    with pytest.raises(ValidationError, match="tokens:read"):
        ApiKey.create(tenant_a, "sneaky", ["data:read", "tokens:read"], partner_a)
    # A manager of another tenant is no manager here either.
    with pytest.raises(ValidationError, match="tokens:read"):
        ApiKey.create(tenant_a, "sneaky", ["tokens:read"], manager_b)
    assert not ApiKey.objects.exists()


def test_a_manager_made_partner_loses_tokens_read_at_once(client, seeded, keys, manager_a, tenant_a):
    assert client.get("/api/v1/token-expiries/", **bearer(keys["manager_a"])).status_code == 200
    Membership.objects.filter(user=manager_a, tenant=tenant_a).update(role=Membership.PARTNER)
    response = client.get("/api/v1/token-expiries/", **bearer(keys["manager_a"]))
    assert response.status_code == 403
    assert "tokens:read" in response.json()["detail"]
    # The key's other scopes stay.
    assert client.get("/api/v1/queues/", **bearer(keys["manager_a"])).status_code == 200


def test_an_operators_key_made_on_the_command_line_reads_tokens(client, seeded, tenant_a):
    _key, plain = ApiKey.create(tenant_a, "ops", ALL_SCOPES, None)
    assert client.get("/api/v1/token-expiries/", **bearer(plain)).status_code == 200


def test_a_key_without_the_scope_gets_403(client, seeded, tenant_a, manager_a):
    _key, health_only = ApiKey.create(tenant_a, "monitor", ["health:read"], manager_a)
    assert client.get("/api/v1/stream-health/", **bearer(health_only)).status_code == 200
    assert client.get("/api/v1/intervals/", **bearer(health_only)).status_code == 403
    assert client.get("/api/v1/token-expiries/", **bearer(health_only)).status_code == 403


@pytest.mark.parametrize(
    ("scopes", "message"),
    [([], "at least one scope"), (["data:write"], "unknown scope"), (["data:read"], "already has a key")],
)
def test_it_refuses_a_bad_key_naming_what_is_wrong(tenant_a, manager_a, scopes, message):
    ApiKey.create(tenant_a, "wfm", ["data:read"], manager_a)
    with pytest.raises(ValidationError, match=message):
        ApiKey.create(tenant_a, "wfm" if message == "already has a key" else "other", scopes, manager_a)


def test_a_revoked_keys_name_can_be_used_again(tenant_a, manager_a):
    key, _ = ApiKey.create(tenant_a, "wfm", ["data:read"], manager_a)
    key.revoke()
    assert ApiKey.create(tenant_a, "wfm", ["data:read"], manager_a)[0].pk != key.pk


def test_last_use_is_written_at_most_once_a_minute(client, seeded, keys, time_machine):
    time_machine.move_to(T0, tick=False)
    key = ApiKey.find(keys["manager_a"])
    assert key.last_used is None
    client.get("/api/v1/queues/", **bearer(keys["manager_a"]))
    key.refresh_from_db()
    assert key.last_used == T0

    time_machine.move_to(T0 + td(seconds=59), tick=False)
    client.get("/api/v1/queues/", **bearer(keys["manager_a"]))
    key.refresh_from_db()
    assert key.last_used == T0

    time_machine.move_to(T0 + td(seconds=61), tick=False)
    client.get("/api/v1/queues/", **bearer(keys["manager_a"]))
    key.refresh_from_db()
    assert key.last_used == T0 + td(seconds=61)


def test_a_recent_use_costs_no_write(client, seeded, keys, time_machine):
    time_machine.move_to(T0, tick=False)
    client.get("/api/v1/connections/", **bearer(keys["manager_a"]))
    time_machine.move_to(T0 + td(seconds=10), tick=False)
    with CaptureQueriesContext(connection) as queries:
        client.get("/api/v1/connections/", **bearer(keys["manager_a"]))
    assert not [q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
