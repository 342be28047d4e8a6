"""The tenancy matrix: three keys (manager of A, manager of B, partner of A) over every endpoint
and every filter. No response carries another tenant's row, a credential or a token value.

Hostile first: B's connection id as A's filter, B's ids in A's detail URLs, and the other
way round.
"""

from __future__ import annotations

import json

import pytest

from tests.api.conftest import T0, bearer
from tests.api.endpoints import ENDPOINTS

pytestmark = pytest.mark.django_db

USERS = ("manager_a", "partner_a", "manager_b")
TIME_FILTERS = ({"start": "2026-03-02T11:30:00Z"}, {"end": "2026-03-02T12:00:10Z"})


def scope_allowed(user: str, scope: str) -> bool:
    return not (user == "partner_a" and scope == "tokens:read")


@pytest.fixture
def world(seeded, keys):
    conn_a, conn_b = seeded
    own = {"manager_a": conn_a, "partner_a": conn_a, "manager_b": conn_b}
    other = {"manager_a": conn_b, "partner_a": conn_b, "manager_b": conn_a}
    return own, other, keys


def rows_of(body: dict) -> list[dict]:
    return body["results"]


def connection_of(name: str, row: dict) -> int:
    return row["id"] if name == "connections" else row["connection"]


def assert_clean(text: str, *conns) -> None:
    for conn in conns:
        for secret in conn.secret_values():
            assert secret not in text
    assert "Authorization" not in text
    assert "vendor said" not in text


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
@pytest.mark.parametrize("user", USERS)
def test_a_list_shows_only_the_keys_tenant_whatever_the_filter(client, world, endpoint, user):
    own, _other, keys = world
    filters = [{}, {"connection": own[user].pk}, {"limit": 1}]
    if endpoint.time_filter:
        filters += [dict(f) for f in TIME_FILTERS]
    for params in filters:
        response = client.get(endpoint.list_path, params, **bearer(keys[user]))
        if not scope_allowed(user, endpoint.scope):
            assert response.status_code == 403, params
            continue
        assert response.status_code == 200, (params, response.content)
        body = response.json()
        assert rows_of(body), f"{endpoint.name} {params} listed nothing: the test would prove nothing"
        assert {connection_of(endpoint.name, r) for r in rows_of(body)} == {own[user].pk}
        text = response.content.decode()
        assert_clean(text, *own.values())
        other_tag = "-B" if own[user] == own["manager_a"] else "-A"
        assert other_tag not in json.dumps(rows_of(body))


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
@pytest.mark.parametrize("user", USERS)
def test_another_tenants_connection_as_a_filter_is_refused_like_an_unknown_one(client, world, endpoint, user):
    _own, other, keys = world
    if not scope_allowed(user, endpoint.scope):
        pytest.skip("the key may not list this resource at all (tried above)")
    hostile = client.get(endpoint.list_path, {"connection": other[user].pk}, **bearer(keys[user]))
    unknown = client.get(endpoint.list_path, {"connection": 999999}, **bearer(keys[user]))
    assert hostile.status_code == unknown.status_code == 400
    assert hostile.json()["connection"][0].replace(str(other[user].pk), "N") == unknown.json()["connection"][
        0
    ].replace("999999", "N")


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
@pytest.mark.parametrize("user", USERS)
def test_a_detail_url_with_another_tenants_id_is_404_and_an_own_one_is_shown(client, world, endpoint, user):
    own, other, keys = world
    foreign, mine = endpoint.ids_of(other[user]), endpoint.ids_of(own[user])
    assert foreign and mine
    for pk in foreign:
        response = client.get(f"{endpoint.list_path}{pk}/", **bearer(keys[user]))
        assert response.status_code == (404 if scope_allowed(user, endpoint.scope) else 403)
    response = client.get(f"{endpoint.list_path}{mine[0]}/", **bearer(keys[user]))
    if scope_allowed(user, endpoint.scope):
        assert response.status_code == 200
        assert connection_of(endpoint.name, response.json()) == own[user].pk
        assert_clean(response.content.decode(), *own.values(), *other.values())
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e.csv], ids=lambda e: e.name)
@pytest.mark.parametrize("user", USERS)
def test_a_csv_export_shows_only_the_keys_tenant(client, world, endpoint, user):
    own, other, keys = world
    for params in ({"format": "csv"}, {"format": "csv", "connection": own[user].pk}):
        response = client.get(endpoint.list_path, params, **bearer(keys[user]))
        assert response.status_code == 200
        lines = b"".join(response.streaming_content).decode().splitlines()
        header, rows = lines[0].split(","), [line.split(",") for line in lines[1:]]
        assert rows
        column = header.index("connection")
        assert {int(r[column]) for r in rows} == {own[user].pk}
    hostile = client.get(
        endpoint.list_path, {"format": "csv", "connection": other[user].pk}, **bearer(keys[user])
    )
    assert hostile.status_code == 400


def test_a_connection_shows_its_streams_but_no_url_value_or_secret(client, world):
    own, _other, keys = world
    body = client.get(f"/api/v1/connections/{own['manager_a'].pk}/", **bearer(keys["manager_a"])).json()
    assert set(body) == {"id", "vendor", "name", "enabled", "time_zone", "created", "streams"}
    assert {s["stream"] for s in body["streams"]} >= {"file_drop", "agent_states"}


def test_a_token_expiry_shows_dates_and_the_next_reminder_but_no_value(client, world, time_machine):
    time_machine.move_to(T0)
    _own, _other, keys = world
    body = client.get("/api/v1/token-expiries/", **bearer(keys["manager_a"])).json()
    (row,) = body["results"]
    assert set(row) == {
        "id",
        "connection",
        "section",
        "service_login",
        "issued",
        "expires",
        "days_left",
        "next_reminder",
    }
    assert (row["expires"], row["days_left"]) == ("2027-01-10", 314)
    assert row["next_reminder"] == {"stage": "d90", "day": "2026-10-12", "days_left": 90}
