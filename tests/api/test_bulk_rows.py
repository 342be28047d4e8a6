"""The bulk resources' lists are built from plain values, not the serializer: they must say the
same as the serializer does on the detail page (and as the schema describes), row by row."""

from __future__ import annotations

import pytest

from tests.api.conftest import bearer

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("resource", ["intervals", "state-events", "queues", "agents"])
def test_every_listed_row_equals_its_detail(client, seeded, keys, resource):
    listed = client.get(f"/api/v1/{resource}/", **bearer(keys["manager_a"])).json()["results"]
    assert listed
    for row in listed:
        detail = client.get(f"/api/v1/{resource}/{row['id']}/", **bearer(keys["manager_a"])).json()
        assert row == detail
    if resource == "state-events":
        assert any(row["end"] is None for row in listed)


@pytest.mark.parametrize("resource", ["intervals", "state-events"])
def test_the_csv_has_the_json_columns_in_order(client, seeded, keys, resource):
    first = client.get(f"/api/v1/{resource}/", {"limit": 1}, **bearer(keys["manager_a"])).json()["results"][0]
    response = client.get(f"/api/v1/{resource}/", {"format": "csv"}, **bearer(keys["manager_a"]))
    header = b"".join(response.streaming_content).decode().splitlines()[0].split(",")
    assert header == list(first)
